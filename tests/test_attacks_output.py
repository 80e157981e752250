"""What a run says and writes is true: exit codes, one writer per OUT, resume identity, the
invocation history, validated cache hits, and `-o` onto special files or stdout.

Issue 11 ("every figure is true") and attacks 12.1, 12.5, 12.16 and 12.19 of issue 12.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from fake_batch import FakeBatchServer
from test_crash import CLI, model_args, read_rows, write_papers

from conftest import SAMPLES, CliResult, invoke
from fake_openai import FakeOpenAI, first_tag_answer

BAD_TITLE = "Paper 1:"  # write_papers' second paper


def bad_for_one(body: dict[str, Any]) -> dict[str, Any]:
    """Answers a tag outside the taxonomy for one title (every re-ask too), the rest well."""
    if any(BAD_TITLE in str(m.get("content")) for m in body["messages"][1:]):
        return {"content": json.dumps({"tags": ["not-a-tag"], "summary": "Does a thing well"})}
    return first_tag_answer(body)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    return invoke(capsys, "run", *args)


def manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out.with_name(out.stem + ".run.json").read_text())
    return data


# --- 1. exit codes --------------------------------------------------------------------------


def test_a_run_with_failed_papers_exits_1_and_says_how_to_redo_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 4), tmp_path / "o.jsonl"
    with FakeOpenAI(default=bad_for_one) as server:
        result = run_cli(capsys, str(source), "-o", str(out), *model_args(server))
        assert result.code == 1, result.err
        last = result.err_lines[-1]
        assert len(result.err_lines) == 1, result.err  # one closing line
        assert "failed 1" in last and "1 paper failed" in last and "--retry-failed" in last
        assert manifest(out)["exit_code"] == 1
        server.default, asked = first_tag_answer, len(server.requests)  # the model is fixed
        again = run_cli(capsys, str(source), "-o", str(out), *model_args(server), "--retry-failed")
        assert len(server.requests) == asked + 1
    assert again.code == 0, again.err
    assert all(row["status"] == "ok" for row in read_rows(out))


def test_a_resume_that_keeps_earlier_failed_papers_still_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 4), tmp_path / "o.jsonl"
    with FakeOpenAI(default=bad_for_one) as server:
        args = [str(source), "-o", str(out), *model_args(server)]
        assert run_cli(capsys, *args, "--limit", "2").code == 1  # paper 1 failed
        server.default = first_tag_answer
        resumed = run_cli(capsys, *args, "--resume")  # answers the rest, keeps the failed line
        assert [r["status"] for r in read_rows(out)].count("failed") == 1
        assert resumed.code == 1, resumed.err  # OUT still holds a failed paper: not "all ok"
        assert "1 failed in an earlier invocation" in resumed.err_lines[-1]
        assert manifest(out)["counts"]["failed_earlier"] == 1
        assert run_cli(capsys, *args, "--retry-failed").code == 0
    assert {r["status"] for r in read_rows(out)} == {"ok"}


def test_usage_errors_stay_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 2), tmp_path / "o.jsonl"
    out.write_text("x\n")
    result = run_cli(capsys, str(source), "-o", str(out), "--model", "local/keyword")
    assert result.code == 2 and "already exists" in result.err


# --- 2. one writer per OUT (12.19) ----------------------------------------------------------


class HeldServer:
    """A fake server that holds every answer until `release()`; `asked` is set once `expected`
    requests came in, so the test knows the subprocess is mid-run (and holds OUT's lock)."""

    def __init__(self, expected: int) -> None:
        self.gate, self.asked = threading.Event(), threading.Event()
        self.server = FakeOpenAI(default=self._answer)
        self.server.on_request = lambda count: count >= expected and self.asked.set()

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**first_tag_answer(body), "until": self.gate}

    def release(self) -> None:
        self.gate.set()


def start_run(args: list[str], home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TAGGER_HOME": str(home)}
    return subprocess.Popen([*CLI, "run", *args], env=env, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("resume", [False, True], ids=["plain", "resume"])
def test_a_second_run_on_the_same_out_is_refused_at_once(
    tmp_path: Path, tagger_home: Path, capsys: pytest.CaptureFixture[str], resume: bool
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 6), tmp_path / "o.jsonl"
    held = HeldServer(expected=6)  # with --resume: 2 before, then the other 4
    with held.server as server:
        args = [str(source), "-o", str(out), *model_args(server)]
        if resume:  # OUT already has 2 papers; both runs continue it
            held.gate.set()
            assert run_cli(capsys, *args, "--limit", "2").code == 0
            held.gate.clear()
            args.append("--resume")
        first = start_run(args, tagger_home)
        try:
            assert held.asked.wait(60), "the first run never asked the model"
            asked = len(server.requests)
            second = run_cli(capsys, *args)
            assert len(server.requests) == asked  # refused before any call
        finally:
            held.release()
            _, err = first.communicate(timeout=120)
    assert second.code == 2, second.err
    assert f"is being written by process {first.pid}" in second.err_lines[-1]
    assert first.returncode == 0, err
    rows = read_rows(out)
    assert len(rows) == 6 and len({r["id"] for r in rows}) == 6


def test_a_symlink_to_out_takes_the_same_lock(
    tmp_path: Path, tagger_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 4), tmp_path / "real.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(out)
    held = HeldServer(expected=1)
    with held.server as server:
        first = start_run([str(source), "-o", str(link), *model_args(server)], tagger_home)
        try:
            assert held.asked.wait(60), "the first run never asked the model"
            second = run_cli(capsys, str(source), "-o", str(out), *model_args(server), "--resume")
        finally:
            held.release()
            _, err = first.communicate(timeout=120)
    assert second.code == 2 and "is being written by process" in second.err, second.err
    assert first.returncode == 0, err
    assert len(read_rows(out)) == 4


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(
    tmp_path: Path, tagger_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 5), tmp_path / "o.jsonl"
    held = HeldServer(expected=1)
    with held.server as server:
        args = [str(source), "-o", str(out), *model_args(server)]
        first = start_run(args, tagger_home)
        assert held.asked.wait(60)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
        held.release()
        after = run_cli(capsys, *args, "--resume")
    assert after.code == 0, after.err
    assert len(read_rows(out)) == 5


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_writes_the_manifest_marked_interrupted(
    tmp_path: Path, tagger_home: Path, capsys: pytest.CaptureFixture[str], stop: signal.Signals
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 5), tmp_path / "o.jsonl"
    held = HeldServer(expected=1)
    with held.server as server:
        args = [str(source), "-o", str(out), *model_args(server), "--concurrency", "1"]
        proc = start_run(args, tagger_home)
        assert held.asked.wait(60)
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=60)
        held.release()
        assert proc.returncode == 130, err
        written = manifest(out)
        assert written["interrupted"] is True and written["exit_code"] == 130
        assert run_cli(capsys, *args, "--resume").code == 0  # and --resume continues
    assert len(read_rows(out)) == 5


# --- 3. --resume and --batch --resume identity ----------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (["--max-tags", "2"], "--max-tags"),
        (["--model", "openai/other"], "model"),
        (["--api-base", "OTHER"], "api base"),
        (["--taxonomy", "TAXONOMY"], "taxonomy"),
        (["--prompt", "PROMPT"], "prompt"),
    ],
)
def test_resume_with_other_settings_is_refused_naming_what_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: list[str], named: str
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 4), tmp_path / "o.jsonl"
    taxonomy = tmp_path / "tax.yaml"
    tax_text = (SAMPLES.parent / "tagger/data/taxonomy.yaml").read_text()
    taxonomy.write_text(
        tax_text.replace("The paper studies, trains", "The paper studies or trains")
    )
    text = (SAMPLES.parent / "tagger/data/prompts/tag_summarize/v1.yaml").read_text()
    prompt = tmp_path / "v7.yaml"
    prompt.write_text(text.replace("version: 1", "version: 7"))
    with FakeOpenAI() as server, FakeOpenAI() as other:
        args = [str(source), "-o", str(out), *model_args(server)]
        assert run_cli(capsys, *args, "--limit", "2").code == 0
        before = out.read_bytes()
        swap = {"OTHER": other.base_url, "TAXONOMY": str(taxonomy), "PROMPT": str(prompt)}
        result = run_cli(capsys, *args, "--resume", *[swap.get(a, a) for a in change])
        assert not other.requests
    assert result.code == 2, result.err
    assert len(result.err_lines) == 1 and f"another {named}" in result.err, result.err
    assert out.read_bytes() == before


def test_resume_without_a_manifest_checks_the_lines_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 3), tmp_path / "o.jsonl"
    with FakeOpenAI() as server:
        assert (
            run_cli(capsys, str(source), "-o", str(out), *model_args(server), "--limit", "1").code
            == 0
        )
        (tmp_path / "o.run.json").unlink()
        args = [str(source), "-o", str(out), "--model", "openai/b", "--api-base", server.base_url]
        result = run_cli(capsys, *args, "--resume")
    assert result.code == 2 and "another model ('openai/fake'" in result.err, result.err


@pytest.mark.parametrize("change", ["model", "prompt"])
def test_batch_resume_never_writes_one_models_answers_as_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    out = tmp_path / "o.jsonl"
    text = (SAMPLES.parent / "tagger/data/prompts/tag_summarize/v1.yaml").read_text()
    prompt = tmp_path / "v1.yaml"
    prompt.write_text(text.replace("curated paper feed", "curated feed of papers"))
    with FakeBatchServer(polls_before_done=0) as server:
        base = ["--api-base", server.base_url, "--limit", "3", "--batch", "--poll-interval", "0"]
        submitted = run_cli(
            capsys, str(SAMPLES), "-o", str(out), "-m", "openai/a", *base, "--no-wait"
        )
        assert submitted.code == 0, submitted.err
        other = (
            ["-m", "openai/b"] if change == "model" else ["-m", "openai/a", "--prompt", str(prompt)]
        )
        result = run_cli(capsys, str(SAMPLES), "-o", str(out), *other, *base, "--resume")
    assert result.code == 2, result.err
    assert f"another {change}" in result.err and "o.batch.json" in result.err, result.err
    assert read_rows(out) == []
    assert (tmp_path / "o.batch.json").exists()  # the paid-for batch is not forgotten


# --- 4. OUT.run.json keeps every invocation -------------------------------------------------


def test_resume_keeps_the_history_and_the_total_spend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 5), tmp_path / "o.jsonl"
    with FakeOpenAI() as server:
        args = [str(source), "-o", str(out), *model_args(server)]
        assert run_cli(capsys, *args, "--limit", "2").code == 0
        first = manifest(out)
        assert run_cli(capsys, *args, "--resume").code == 0
    data = manifest(out)
    runs = data["invocations"]
    assert [r["counts"]["tagged"] for r in runs] == [2, 3]
    assert [r["usage"]["calls"] for r in runs] == [2, 3]
    assert [r["exit_code"] for r in runs] == [0, 0]
    assert runs[0]["started_at"] == first["started_at"] and runs[1]["model"] == "openai/fake"
    total = runs[0]["usage"]["prompt_tokens"] + runs[1]["usage"]["prompt_tokens"]
    assert data["usage"]["calls"] == 5 and data["usage"]["prompt_tokens"] == total
    assert data["counts"]["skipped_resume"] == 2  # top-level counts: the latest invocation


def test_a_manifest_from_before_the_history_still_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 3), tmp_path / "o.jsonl"
    with FakeOpenAI() as server:
        args = [str(source), "-o", str(out), *model_args(server)]
        assert run_cli(capsys, *args, "--limit", "1").code == 0
        old = manifest(out)
        for key in ("invocations", "exit_code"):
            del old[key]
        (tmp_path / "o.run.json").write_text(json.dumps(old))
        assert run_cli(capsys, *args, "--resume").code == 0
    runs = manifest(out)["invocations"]
    assert [r["exit_code"] for r in runs] == [None, 0]
    assert manifest(out)["usage"]["calls"] == 3


# --- 5. a damaged cache entry is never an answer (12.1) -------------------------------------


def test_a_cache_entry_with_a_tag_outside_the_taxonomy_is_a_miss(
    tmp_path: Path, tagger_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_papers(tmp_path / "p.jsonl", 4)
    with FakeOpenAI() as server:
        args = [str(source), *model_args(server)]
        assert run_cli(capsys, *args, "-o", str(tmp_path / "a.jsonl")).code == 0
        with sqlite3.connect(tagger_home / "cache" / "cache.db") as db:
            changed = db.execute(
                "UPDATE Cache SET value = replace(value, "
                '\'"tags":["large-language-models"]\', \'"tags":["large-language-modelz"]\')'
            ).rowcount
        assert changed == 4
        asked = len(server.requests)
        result = run_cli(capsys, *args, "-o", str(tmp_path / "b.jsonl"))
        assert len(server.requests) == asked + 4
    assert result.code == 0
    assert len([w for w in result.warnings if "cached answer failed validation" in w]) == 1
    rows = read_rows(tmp_path / "b.jsonl")
    assert all(r["tags"] == ["large-language-models"] and not r["cached"] for r in rows)
    assert manifest(tmp_path / "b.jsonl")["counts"]["cache_invalid"] == 4


# --- 6. --retry-failed on an OUT with a blank line (12.5) -----------------------------------


def test_retry_failed_skips_blank_lines_and_leaves_no_temp_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, out = write_papers(tmp_path / "p.jsonl", 3), tmp_path / "o.jsonl"
    with FakeOpenAI(default=bad_for_one) as server:
        assert run_cli(capsys, str(source), "-o", str(out), *model_args(server)).code == 1
        lines = out.read_text().splitlines(keepends=True)
        out.write_text(lines[0] + "\n" + "".join(lines[1:]))
        server.default = first_tag_answer
        result = run_cli(capsys, str(source), "-o", str(out), *model_args(server), "--retry-failed")
    assert result.code == 0, result.err
    assert not (tmp_path / "o.jsonl.tmp").exists()
    rows = read_rows(out) if b"\n\n" not in out.read_bytes() else []
    assert len(rows) == 3 and all(r["status"] == "ok" for r in rows)


# --- 7. -o onto a device, FIFO or symlink (12.16), 8. -o - is stdout --------------------------


def command_args(command: str, tmp_path: Path, target: str) -> list[str]:
    """One small real invocation of each command that writes `-o`."""
    source = write_papers(tmp_path / "p.jsonl", 2)
    if command == "run":
        return ["run", str(source), "-o", target, "-m", "local/keyword", "--overwrite"]
    if command == "dedup":
        return ["dedup", str(source), "-o", target]
    if command == "digest":
        tagged = tmp_path / "tagged.jsonl"
        if not tagged.exists():
            tagged.write_text("".join(_tagged_lines()))
        return ["digest", str(tagged), "-o", target, "--format", "md"]
    gold = str(SAMPLES.parent / "eval" / "gold.jsonl")
    return ["eval", "--gold", gold, "-m", "local/keyword", "--limit", "3", "-o", target]


def _tagged_lines() -> list[str]:
    row = {"id": "2401.00001", "title": "A paper", "summary": "Does a thing", "tags": ["llm"]}
    return [json.dumps({**row, "model": "m", "prompt": "p@v1", "source": "x:1"}) + "\n"]


COMMANDS = ["run", "dedup", "digest", "eval"]


@pytest.mark.parametrize("command", COMMANDS)
def test_o_onto_a_fifo_or_a_device_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    fifo = tmp_path / "fifo.md"  # eval's -o X.md writes X.md (and X.json beside it)
    os.mkfifo(fifo)
    device = tmp_path / "null.md"
    device.symlink_to(os.devnull)  # a link to a character device
    for target in (fifo, device):
        result = invoke(capsys, *command_args(command, tmp_path, str(target)))
        assert result.code == 2, result.err
        assert "not a regular file" in result.err_lines[-1] and "-o -" in result.err, result.err
    assert fifo.is_fifo() and device.is_symlink()


def test_a_fifo_as_a_second_output_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_papers(tmp_path / "p.jsonl", 2)
    report = tmp_path / "groups.json"
    os.mkfifo(report)
    unique = tmp_path / "u.jsonl"
    result = invoke(capsys, "dedup", str(source), "-o", str(unique), "--report", str(report))
    assert result.code == 2 and "not a regular file" in result.err, result.err
    assert not unique.exists()  # the rerun with another --report is not refused as "exists"
    beside = tmp_path / "r.json"  # eval -o r.md also writes r.json
    os.mkfifo(beside)
    args = command_args("eval", tmp_path, str(tmp_path / "r.md"))
    with FakeOpenAI() as server:
        args[args.index("local/keyword")] = "openai/fake"
        refused = invoke(capsys, *args, "--api-base", server.base_url)
        assert refused.code == 2 and "not a regular file" in refused.err, refused.err
        assert server.requests == []  # refused before any model call


@pytest.mark.parametrize("command", COMMANDS)
def test_o_through_a_symlink_writes_its_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    real = tmp_path / "real" / "result.md"
    real.parent.mkdir()
    link = tmp_path / "link.md"
    link.symlink_to(real)
    result = invoke(capsys, *command_args(command, tmp_path, str(link)))
    assert result.code == 0, result.err
    assert link.is_symlink() and real.is_file() and real.stat().st_size > 0


@pytest.mark.parametrize("command", COMMANDS)
def test_o_dash_writes_to_stdout_and_creates_no_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(capsys, *command_args(command, tmp_path, "-"))
    assert result.code == 0, result.err
    assert not list(tmp_path.glob("-*"))
    if command in ("run", "dedup"):
        rows = [json.loads(line) for line in result.out.splitlines()]
        assert len(rows) == 2 and {r["id"] for r in rows} == {"2401.00000", "2401.00001"}
    else:
        assert result.out.startswith("#"), result.out[:200]


def test_o_dash_refuses_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_papers(tmp_path / "p.jsonl", 2)
    result = run_cli(capsys, str(source), "-o", "-", "-m", "local/keyword", "--resume")
    assert result.code == 2 and "-o - is stdout" in result.err


def test_rewrite_for_retry_failed_drops_blank_lines_and_failed_ids(tmp_path: Path) -> None:
    from tagger.run.output import rewrite_without

    out = tmp_path / "o.jsonl"
    data = b'{"id": "a"}\n\n{"id": "b"}\n   \n{"id": "c"}\n'
    out.write_bytes(data)
    rewrite_without(out, {"b"}, len(data))
    assert out.read_bytes() == b'{"id": "a"}\n{"id": "c"}\n'
    assert not (tmp_path / "o.jsonl.tmp").exists()
