"""The store under stress: concurrent runs, a kill -9, schema migrations, planted secrets."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from store_helpers import remote, rows, write_papers

from conftest import invoke
from fake_openai import FakeOpenAI, first_tag_answer
from tagger.store import connect
from tagger.store.redact import clean_command
from tagger.store.schema import V1, VERSION
from tagger.store.writer import FLUSH_EVERY

RUN = "import sys; from tagger.cli.main import main; main(sys.argv[1:])"


def many_papers(path: Path, n: int, tag: str) -> Path:
    path.write_text(
        "".join(
            json.dumps({"title": f"{tag} paper {i} about topic {i * 7}", "abstract": f"Study {i}."})
            + "\n"
            for i in range(n)
        )
    )
    return path


def spawn(tagger_home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TAGGER_HOME": str(tagger_home), "PYTHONPATH": os.getcwd()}
    return subprocess.Popen(
        [sys.executable, "-c", RUN, "run", "--no-progress", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_runs_both_land_whole(tmp_path: Path, tagger_home: Path) -> None:
    with FakeOpenAI() as server:
        base = ["--model", "openai/fake", "--api-base", server.base_url]
        procs = [
            spawn(
                tagger_home,
                str(many_papers(tmp_path / f"{n}.jsonl", 300, n)),
                "-o",
                str(tmp_path / f"{n}.out.jsonl"),
                *base,
            )
            for n in ("a", "b")
        ]
        results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    with sqlite3.connect(tagger_home / "store.db") as conn:
        runs = rows(conn, "SELECT status, tagged, output FROM runs ORDER BY output")
        counts = rows(conn, "SELECT run_id, COUNT(*) FROM answers GROUP BY run_id")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [(s, t) for s, t, _ in runs] == [("completed", 300), ("completed", 300)]
    assert sorted(c for _, c in counts) == [300, 300]


def test_a_killed_run_leaves_a_readable_store_marked_interrupted(
    tmp_path: Path, tagger_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reached, release = threading.Event(), threading.Event()

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        if len(server.requests) > 250:  # hold the rest: the run is killed while waiting
            return {**first_tag_answer(body), "until": release}
        return first_tag_answer(body)

    out = tmp_path / "out.jsonl"
    with FakeOpenAI(default=answer) as server:
        server.on_request = lambda count: reached.set() if count > 250 else None
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--concurrency", "1"]
        proc = spawn(
            tagger_home, str(many_papers(tmp_path / "in.jsonl", 400, "k")), "-o", str(out), *base
        )
        try:
            assert reached.wait(120), proc.stderr.read() if proc.stderr else ""
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            release.set()
    listed = invoke(capsys, "runs", "list", "--json")
    assert listed.code == 0, listed.err
    assert [r["status"] for r in json.loads(listed.out)] == ["interrupted"]
    stored = invoke(capsys, "runs", "papers", "1").out.splitlines()
    written = out.read_text().splitlines()
    assert len(written) >= 240 and stored == written[: len(stored)]
    # the store commits every FLUSH_EVERY records or FLUSH_SECONDS: a kill loses at most one batch
    assert len(written) - FLUSH_EVERY <= len(stored) <= len(written)
    with sqlite3.connect(tagger_home / "store.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def make_v1_store(path: Path) -> None:
    """A store exactly as the first schema version wrote it, with one run in it."""
    conn = sqlite3.connect(path)
    conn.executescript(V1)
    record = {
        "id": "2401.00001",
        "title": "Sparse Quokka Attention",
        "summary": "Cuts cost.",
        "tags": ["llm"],
        "status": "ok",
        "model": "m",
        "prompt": "p@v1",
        "source": "a:1",
    }
    conn.execute(
        "INSERT INTO runs (id, kind, status, started_at, command, tagger_version)"
        " VALUES (1, 'run', 'completed', '2024-01-01T00:00:00+00:00', 'tagger run x', '0.1.0')"
    )
    conn.execute(
        "INSERT INTO papers (paper_key, id, arxiv_id, title, abstract, date, first_seen,"
        " last_seen) VALUES ('arxiv:2401.00001', '2401.00001', '2401.00001',"
        " 'Sparse Quokka Attention', 'An abstract about wombats.', '2024-01-01', 'x', 'x')"
    )
    conn.execute(
        "INSERT INTO answers (run_id, seq, paper_key, paper_id, tags, summary, status, cached,"
        " record) VALUES (1, 1, 'arxiv:2401.00001', '2401.00001', '[\"llm\"]', 'Cuts cost.',"
        " 'ok', 0, ?)",
        (json.dumps(record),),
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_a_v1_store_is_migrated_and_its_history_kept(
    tmp_path: Path, tagger_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tagger_home.mkdir(parents=True)
    make_v1_store(tagger_home / "store.db")
    found = invoke(capsys, "papers", "--search", "wombats", "--jsonl")
    assert found.code == 0, found.err
    assert [json.loads(line)["title"] for line in found.out.splitlines()] == [
        "Sparse Quokka Attention"
    ]
    with sqlite3.connect(tagger_home / "store.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION == 4
        assert conn.execute("SELECT COUNT(*) FROM digest_sent").fetchone()[0] == 0
    assert json.loads(invoke(capsys, "runs", "papers", "1").out)["summary"] == "Cuts cost."


def test_a_newer_store_is_refused_in_one_line_and_left_alone(
    tmp_path: Path,
    tagger_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tagger_home.mkdir(parents=True)
    db = tagger_home / "store.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    listed = invoke(capsys, "runs", "list")
    assert listed.code == 2 and len(listed.err_lines) == 1
    assert "schema version 99" in listed.err and "Upgrade tagger" in listed.err
    source = write_papers(tmp_path / "in.jsonl")
    with FakeOpenAI() as server:
        ran = invoke(
            capsys, "run", str(source), "-o", str(tmp_path / "o.jsonl"), *remote(server.base_url)
        )
    assert ran.code == 0 and len((tmp_path / "o.jsonl").read_text().splitlines()) == 4
    assert [w for w in ran.warnings if "schema version 99" in w] == ran.warnings[-1:]
    # the store's path once, then the problem and what to do (it was "PATH (PATH: ...).")
    assert ran.warnings[-1].startswith(f"tagger: warning: not recording in the store {db}: this")
    assert ran.warnings[-1].count(str(db)) == 1 and "Upgrade tagger" in ran.warnings[-1]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99


def test_no_secret_enters_the_store(
    tmp_path: Path,
    tagger_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, env_key = "sk-test-PLANTED-0123456789abcdef", "sk-env-PLANTED-fedcba9876543210"
    monkeypatch.setenv("OPENAI_API_KEY", env_key)
    source = write_papers(tmp_path / "in.jsonl")
    with FakeOpenAI() as server:
        args = ["run", str(source), "-o", str(tmp_path / "o.jsonl"), *remote(server.base_url)]
        assert invoke(capsys, *args, "--api-key", key).code == 0
        assert invoke(capsys, *args, f"--api-key={key}", "--overwrite").code == 0
    for path in tagger_home.glob("store.db*"):
        data = path.read_bytes()
        assert key.encode() not in data and env_key.encode() not in data
    command = json.loads(invoke(capsys, "runs", "show", "1", "--json").out)["command"]
    assert command.endswith("--api-key '[redacted]'") and "openai/fake" in command


def test_command_line_cleaning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-value-424242")
    cleaned = clean_command(
        [
            "run",
            "x",
            "--api-base",
            "https://user:pw@h.example:8443/v1?api-key=abc123#f",
            "--prompt",
            "tok-value-424242",
        ]
    )
    assert "abc123" not in cleaned and "pw@" not in cleaned and "tok-value" not in cleaned
    assert "https://h.example:8443/v1" in cleaned


def test_store_file_that_is_not_sqlite_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "store.db"
    bad.write_text("not a database at all, " * 100)
    from tagger.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        connect(bad)
    assert "cannot open the store" in str(info.value) and "\n" not in str(info.value)
