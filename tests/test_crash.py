"""Crashes and the disk: kill -9 then --resume, two runs sharing a cache, a damaged cache,
a full disk and failing writes. Nothing already answered is lost or asked for twice."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult, FakeGateway, invoke
from fake_openai import FakeOpenAI, first_tag_answer
from tagger.config.prompts import load_prompt
from tagger.config.taxonomy import Taxonomy
from tagger.dedup.report import UniquePaper
from tagger.errors import CacheError, OutputError
from tagger.records import Paper, TaggedPaper
from tagger.run.cache import CachedAnswer, ResultCache
from tagger.run.job import Job
from tagger.run.output import JsonlWriter
from tagger.run.settings import RunSettings

CLI = [sys.executable, "-c", "from tagger.cli.main import main; main()"]


def write_papers(path: Path, count: int, start: int = 0) -> Path:
    """`count` distinct papers (no two near-duplicates), numbered from `start`."""
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda sigma".split()
    lines = []
    for n in range(start, start + count):
        topic = " ".join(words[(n * k) % len(words)] for k in (1, 3, 5, 7))
        lines.append(
            json.dumps(
                {
                    "id": f"2401.{n:05d}",
                    "title": f"Paper {n}: {topic}",
                    "abstract": f"Study {n} examines {topic} with method {n * 13 % 97}.",
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def read_rows(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "output ends in a torn line"
    return [json.loads(line) for line in data.decode().splitlines()]


def requested_titles(server: FakeOpenAI, since: int = 0) -> Counter[str]:
    titles = Counter[str]()
    for request in server.requests[since:]:
        user = request["body"]["messages"][-1]["content"]
        titles[user.split("Title: ", 1)[1].split("\n", 1)[0]] += 1
    return titles


def model_args(server: FakeOpenAI) -> list[str]:
    return ["--model", "openai/fake", "--api-base", server.base_url]


Result = CliResult


@pytest.fixture
def tagger(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        return invoke(capsys, *args)

    return run


def assert_one_line_error(result: Result, *needles: str) -> None:
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tagger: error: "), result.err
    for needle in needles:
        assert needle in lines[0], lines[0]


def expected_answer(title: str) -> tuple[list[str], str]:
    """What the fake server answers for a title (it is deterministic)."""
    user = f"Title: {title}\n"
    body = {"messages": [{"content": "- large-language-models: x"}, {"content": user}]}
    content = json.loads(first_tag_answer(body)["content"])
    return content["tags"], content["summary"]


# --- kill -9 and --resume ------------------------------------------------------------------


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_loses_and_repeats_nothing(
    tmp_path: Path, tagger_home: Path, tagger: Callable[..., Result]
) -> None:
    source = write_papers(tmp_path / "papers.jsonl", 500)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "TAGGER_HOME": str(tagger_home)}
    proc: subprocess.Popen[bytes] | None = None

    def kill_at(count: int) -> None:
        if count == 200 and proc is not None:
            proc.send_signal(signal.SIGKILL)  # mid-run, with requests in flight

    with FakeOpenAI() as server:
        server.latency_s = 0.01
        args = ["run", str(source), "-o", str(out), *model_args(server)]
        server.on_request = kill_at
        proc = subprocess.Popen([*CLI, *args], env=env, stderr=subprocess.DEVNULL)
        proc.wait(timeout=300)
        server.on_request = None
        assert proc.returncode == -signal.SIGKILL
        before = {r["title"] for r in read_rows(out)}
        asked_before = len(server.requests)
        assert tagger(*args, "--resume").code == 0
        asked_after = requested_titles(server, since=asked_before)
        all_asks = requested_titles(server)

    rows = read_rows(out)
    assert 0 < len(before) < 500
    assert len(rows) == 500 and len({r["id"] for r in rows}) == 500  # each paper exactly once
    assert all(r["status"] == "ok" for r in rows)
    assert not before & set(asked_after)  # nothing already written is asked for again
    asked_twice = [title for title, n in all_asks.items() if n > 1]
    assert len(asked_twice) <= 8  # at most the requests in flight when killed (--concurrency 8)
    manifest = json.loads((tmp_path / "out.run.json").read_text())
    counts = manifest["counts"]
    assert counts["skipped_resume"] == len(before)
    assert counts["cached"] + len(asked_after) == 500 - len(before)  # answered, not yet written
    assert not manifest["interrupted"]


def test_torn_last_line_is_cut_and_redone(tmp_path: Path, tagger: Callable[..., Result]) -> None:
    source = write_papers(tmp_path / "papers.jsonl", 6)
    out = tmp_path / "out.jsonl"
    with FakeOpenAI() as server:
        assert (
            tagger("run", str(source), "-o", str(out), *model_args(server), "--limit", "3").code
            == 0
        )
        whole = out.read_bytes()
        with out.open("ab") as file:
            file.write(b'{"id": "2401.00003", "title": "Paper 3: al')  # a crash mid-line
        assert tagger("run", str(source), "-o", str(out), *model_args(server), "--resume").code == 0
    assert out.read_bytes().startswith(whole)
    assert sorted(r["id"] for r in read_rows(out)) == [f"2401.{n:05d}" for n in range(6)]


def test_a_broken_line_mid_file_stops_resume_instead_of_dropping_lines(
    tmp_path: Path, tagger: Callable[..., Result]
) -> None:
    source = write_papers(tmp_path / "papers.jsonl", 4)
    out = tmp_path / "out.jsonl"
    with FakeOpenAI() as server:
        assert tagger("run", str(source), "-o", str(out), *model_args(server)).code == 0
        lines = out.read_text().splitlines(keepends=True)
        lines[1] = "this is not a record\n"
        out.write_text("".join(lines))
        damaged = out.read_bytes()
        result = tagger("run", str(source), "-o", str(out), *model_args(server), "--resume")
    assert_one_line_error(result, f"{out}:2:", "--overwrite")
    assert out.read_bytes() == damaged  # nothing truncated


# --- two processes, one cache ------------------------------------------------------------


class BothProcessesGate:
    """Holds every answer until both runs have asked something: their work surely overlaps."""

    def __init__(self, only_first: set[str], only_second: set[str]) -> None:
        self.only = (only_first, only_second)
        self.seen = [False, False]
        self.open = threading.Event()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        title = body["messages"][-1]["content"].split("Title: ", 1)[1].split("\n", 1)[0]
        for index, titles in enumerate(self.only):
            self.seen[index] |= title in titles
        if all(self.seen):
            self.open.set()
        return {**first_tag_answer(body), "until": self.open}


@pytest.mark.slow
def test_two_runs_share_one_cache_at_the_same_time(
    tmp_path: Path, tagger_home: Path, tagger: Callable[..., Result]
) -> None:
    first = write_papers(tmp_path / "first.jsonl", 150)
    second = tmp_path / "second.jsonl"  # its own 75 papers first, then 75 in common
    own, common = (
        write_papers(tmp_path / "own.jsonl", 75, start=150),
        write_papers(tmp_path / "common.jsonl", 75, start=75),
    )
    second.write_text(own.read_text() + common.read_text())
    both = write_papers(tmp_path / "both.jsonl", 225)
    titles = [{json.loads(x)["title"] for x in f.read_text().splitlines()} for f in (first, second)]
    gate = BothProcessesGate(titles[0] - titles[1], titles[1] - titles[0])
    env = {**os.environ, "TAGGER_HOME": str(tagger_home)}
    with FakeOpenAI(default=gate) as server:
        procs = [
            subprocess.Popen(
                [*CLI, "run", str(src), "-o", str(tmp_path / f"{src.stem}.out.jsonl")]
                + model_args(server),
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            for src in (first, second)
        ]
        errors = [p.communicate(timeout=300)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errors
        asked = len(server.requests)
        check = tagger("run", str(both), "-o", str(tmp_path / "check.jsonl"), *model_args(server))
        assert check.code == 0 and len(server.requests) == asked  # all 225 served from cache
    assert gate.open.is_set() and asked >= 225
    for name, count in (("first.out", 150), ("second.out", 150), ("check", 225)):
        rows = read_rows(tmp_path / f"{name}.jsonl")
        assert len(rows) == count and len({r["id"] for r in rows}) == count
        for row in rows:
            assert (row["tags"], row["summary"]) == expected_answer(row["title"]), row
    assert all(r["cached"] for r in read_rows(tmp_path / "check.jsonl"))


# --- a damaged cache ---------------------------------------------------------------------


def test_garbage_cache_db_is_a_clear_error(
    tmp_path: Path, tagger_home: Path, tagger: Callable[..., Result]
) -> None:
    cache_dir = tagger_home / "cache"
    cache_dir.mkdir(parents=True)
    (cache_dir / "cache.db").write_bytes(os.urandom(40_000))
    source = write_papers(tmp_path / "papers.jsonl", 3)
    with FakeOpenAI() as server:
        result = tagger("run", str(source), "-o", str(tmp_path / "o.jsonl"), *model_args(server))
        assert not server.requests
    assert_one_line_error(result, str(cache_dir), "not a database", "delete that folder")


def test_cache_path_that_is_a_file_is_a_clear_error(
    tmp_path: Path, tagger_home: Path, tagger: Callable[..., Result]
) -> None:
    tagger_home.mkdir(parents=True)
    (tagger_home / "cache").write_text("not a folder")
    source = write_papers(tmp_path / "papers.jsonl", 3)
    with FakeOpenAI() as server:
        result = tagger("run", str(source), "-o", str(tmp_path / "o.jsonl"), *model_args(server))
    assert_one_line_error(result, str(tagger_home / "cache"), "cannot open the cache")


def test_unopenable_cache_db_is_a_clear_error(
    tmp_path: Path, tagger_home: Path, tagger: Callable[..., Result]
) -> None:
    (tagger_home / "cache" / "cache.db").mkdir(parents=True)  # cannot be opened as a file
    source = write_papers(tmp_path / "papers.jsonl", 3)
    with FakeOpenAI() as server:
        result = tagger("run", str(source), "-o", str(tmp_path / "o.jsonl"), *model_args(server))
        assert not server.requests
    assert_one_line_error(result, str(tagger_home / "cache"), "cannot open the cache")


def test_damaged_cache_entries_are_misses_never_wrong_answers(
    tmp_path: Path, tagger_home: Path, tagger: Callable[..., Result]
) -> None:
    source = write_papers(tmp_path / "papers.jsonl", 5)
    with FakeOpenAI() as server:
        args = [str(source), *model_args(server)]
        assert tagger("run", *args, "-o", str(tmp_path / "a.jsonl")).code == 0
        with sqlite3.connect(tagger_home / "cache" / "cache.db") as db:
            db.execute('UPDATE Cache SET value = \'{"tags": ["robotics"], "summ\'')
        asked = len(server.requests)
        assert tagger("run", *args, "-o", str(tmp_path / "b.jsonl")).code == 0
        assert len(server.requests) == asked + 5  # every damaged entry was asked for again
    for row in read_rows(tmp_path / "b.jsonl"):
        assert not row["cached"]
        assert (row["tags"], row["summary"]) == expected_answer(row["title"])


def test_cache_file_damaged_mid_file_never_gives_a_wrong_answer(
    tmp_path: Path, tagger_home: Path, tagger: Callable[..., Result]
) -> None:
    source = write_papers(tmp_path / "papers.jsonl", 40)
    with FakeOpenAI() as server:
        args = [str(source), *model_args(server)]
        assert tagger("run", *args, "-o", str(tmp_path / "a.jsonl")).code == 0
        db = tagger_home / "cache" / "cache.db"
        data = bytearray(db.read_bytes())
        data[4096:] = os.urandom(len(data) - 4096)  # keep the header, scramble every page
        db.write_bytes(bytes(data))
        for extra in ("cache.db-wal", "cache.db-shm"):
            (db.parent / extra).unlink(missing_ok=True)
        result = tagger("run", *args, "-o", str(tmp_path / "b.jsonl"))
    assert "Traceback" not in result.err
    if result.code != 0:  # a clear error is fine...
        assert_one_line_error(result, str(db.parent))
        return
    for row in read_rows(tmp_path / "b.jsonl"):  # ...and so is an answer, if it is the right one
        assert (row["tags"], row["summary"]) == expected_answer(row["title"])


class CacheOnAFullDisk(ResultCache):
    """Reads work; every write fails the way SQLite fails on a full disk."""

    def put(self, key: str, answer: CachedAnswer) -> None:
        raise CacheError("cache write failed (database or disk is full).", path=str(self.directory))


async def test_cache_write_failure_keeps_the_answers(
    tmp_path: Path, fake_gateway: FakeGateway, tiny_taxonomy: Taxonomy
) -> None:
    out = tmp_path / "out.jsonl"
    warnings: list[str] = []
    fake_gateway.default = {"tags": ["llm"], "summary": "Trains a model."}
    items = [
        UniquePaper(Paper(id=f"p{n}", title=f"Paper {n}", abstract="Text.", source=f"f:{n}"))
        for n in range(5)
    ]
    settings = RunSettings(output=out, prompt=load_prompt(), taxonomy=tiny_taxonomy)
    with CacheOnAFullDisk(tmp_path / "cache") as cache:
        job = Job(settings, fake_gateway, cache, warn=warnings.append)
        manifest = await job.run(items, 5)
    assert manifest.counts.tagged == 5 and len(read_rows(out)) == 5  # paid answers are kept
    assert len(warnings) == 1 and "disk is full" in warnings[0] and "not cached" in warnings[0]
    assert manifest.warnings and "not cached" in manifest.warnings[0]


# --- the output's disk -------------------------------------------------------------------


def test_output_onto_a_device_is_refused_before_any_call(
    tmp_path: Path, tagger: Callable[..., Result]
) -> None:
    out = tmp_path / "out.jsonl"
    out.symlink_to("/dev/full")  # writing through it once replaced /dev/full with a file
    source = write_papers(tmp_path / "papers.jsonl", 3)
    with FakeOpenAI() as server:
        result = tagger("run", str(source), "-o", str(out), *model_args(server))
        assert not server.requests
    assert_one_line_error(result, str(out), "not a regular file", "-o -")
    assert out.is_symlink()


def test_output_under_a_file_is_a_clear_error(
    tmp_path: Path, tagger: Callable[..., Result]
) -> None:
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "out.jsonl"
    source = write_papers(tmp_path / "papers.jsonl", 2)
    with FakeOpenAI() as server:
        result = tagger("run", str(source), "-o", str(out), *model_args(server))
        assert not server.requests  # nothing is paid for when the output cannot be opened
    assert_one_line_error(result, str(out), "cannot open output")


@pytest.mark.parametrize("resume", [False, True])
def test_output_that_is_a_directory_is_a_clear_error(
    tmp_path: Path, tagger: Callable[..., Result], resume: bool
) -> None:
    source = write_papers(tmp_path / "papers.jsonl", 2)
    with FakeOpenAI() as server:
        args = ["run", str(source), "-o", str(tmp_path), *model_args(server)]
        result = tagger(*args, *(["--resume"] if resume else []))
    assert_one_line_error(result, str(tmp_path), "is a directory")


@pytest.fixture
def file_size_limit() -> Iterator[Callable[[int], None]]:
    """Lower this process's max file size (RLIMIT_FSIZE) for a moment; writes past it fail."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    yield lambda size: resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def record(n: int) -> TaggedPaper:
    return TaggedPaper(
        id=f"p{n}", title=f"Paper {n}", summary="Does a thing. " * 5, tags=["x"], model="m",
        prompt="p@v1", source="t:1",
    )  # fmt: skip


def test_failed_write_keeps_earlier_lines_whole(
    tmp_path: Path, file_size_limit: Callable[[int], None]
) -> None:
    out = tmp_path / "out.jsonl"
    writer = JsonlWriter(out, append=False)
    for n in range(3):
        writer.write(record(n))
    intact = out.read_bytes()
    file_size_limit(len(intact) + 40)  # room for part of the next line only
    try:
        with pytest.raises(OutputError, match="File too large.*intact"):
            writer.write(record(3))
    finally:
        file_size_limit(resource.RLIM_INFINITY)
    writer.close()
    assert out.read_bytes() == intact  # the partial line was cut back


@pytest.mark.slow
def test_write_error_mid_run_then_resume(
    tmp_path: Path, tagger_home: Path, tagger: Callable[..., Result]
) -> None:
    """The real CLI in a process whose file size limit is hit part-way through a resume."""
    source = write_papers(tmp_path / "papers.jsonl", 30)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "TAGGER_HOME": str(tagger_home)}
    with FakeOpenAI() as server:
        args = ["run", str(source), "-o", str(out), *model_args(server), "--no-cache"]
        assert tagger(*args, "--limit", "10").code == 0
        intact = out.read_bytes()
        limit = len(intact) + len(intact) // 4  # about two and a half more lines

        def small_files() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        failed = subprocess.run(
            [*CLI, *args, "--resume"],
            env=env,
            capture_output=True,
            text=True,
            preexec_fn=small_files,
        )
        after_failure = out.read_bytes()
        assert tagger(*args, "--resume").code == 0
    assert failed.returncode == 2, failed.stderr
    assert "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith(f"tagger: error: {out}: ")
    assert "File too large" in failed.stderr
    assert after_failure.startswith(intact) and after_failure.endswith(b"\n")
    assert len(after_failure) > len(intact)  # it got part of the way
    assert all(json.loads(line) for line in after_failure.splitlines())
    rows = read_rows(out)
    assert len(rows) == 30 and len({r["id"] for r in rows}) == 30
