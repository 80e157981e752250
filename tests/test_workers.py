"""`tagger run --workers N`: the calls run in child processes, the results are the same."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from conftest import SAMPLES, invoke
from fake_openai import FakeOpenAI
from tagger.models.retry import BACKOFF_ENV, backoff_s


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_workers_answer_every_paper_like_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI() as server:
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "24"]
        ran = invoke(capsys, "run", str(SAMPLES), "-o", str(tmp_path / "w.jsonl"), *base,
                     "--workers", "3", "--concurrency", "6")  # fmt: skip
        assert ran.code == 0, ran.err
        in_workers = len(server.requests)
        # the same run in one process: same cache keys, so every paper is a hit
        again = invoke(capsys, "run", str(SAMPLES), "-o", str(tmp_path / "p.jsonl"), *base)
        assert again.code == 0, again.err
    assert in_workers == 24 and len(server.requests) == 24
    workers, single = rows(tmp_path / "w.jsonl"), rows(tmp_path / "p.jsonl")
    assert all(r["status"] == "ok" for r in workers)
    assert all(r["cached"] for r in single)
    by_id = {r["id"]: (r["tags"], r["summary"]) for r in single}
    assert {r["id"]: (r["tags"], r["summary"]) for r in workers} == by_id
    manifest = json.loads((tmp_path / "w.run.json").read_text())
    assert manifest["usage"]["calls"] == 24 and manifest["usage"]["prompt_tokens"] > 0


def test_re_asks_and_failures_cross_the_process_boundary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tagger_home: Path
) -> None:
    out = tmp_path / "o.jsonl"
    with FakeOpenAI() as server:
        bad = {"content": json.dumps({"tags": ["not-a-tag"], "summary": "Finds things."})}
        server.enqueue(bad, bad, bad, bad, bad)  # one paper invalid after all re-asks (3 calls)
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "3"]
        ran = invoke(capsys, "run", str(SAMPLES), "-o", str(out), *base, "--workers", "2",
                     "--concurrency", "1")  # fmt: skip
    assert ran.code == 1, ran.err  # some papers failed: exit 1
    result = rows(out)
    failed = [r for r in result if r["status"] == "failed"]
    assert len(failed) == 1 and "invalid output after 3 attempts" in str(failed[0]["error"])
    # the second paper was re-asked twice, then answered
    assert sum(r["status"] == "ok" for r in result) == 2
    manifest = json.loads(out.with_name("o.run.json").read_text())
    assert manifest["usage"]["retries"] == 4
    with sqlite3.connect(tagger_home / "store.db") as conn:  # raw answers cross the boundary
        raw = dict(conn.execute("SELECT status, raw_response FROM answers WHERE run_id = 1"))
    assert "not-a-tag" in str(raw["failed"]) and '"summary"' in str(raw["ok"])


def test_packed_requests_run_in_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.jsonl"
    with FakeOpenAI() as server:
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "8"]
        ran = invoke(capsys, "run", str(SAMPLES), "-o", str(out), *base, "--pack", "4",
                     "--workers", "2")  # fmt: skip
    assert ran.code == 0, ran.err
    assert len(server.requests) == 2
    assert all(r["status"] == "ok" for r in rows(out))


def test_unreachable_server_fails_papers_not_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BACKOFF_ENV, "0")  # the workers retry at once: no real backoff to wait
    out = tmp_path / "o.jsonl"
    base = ["--model", "openai/fake", "--api-base", "http://127.0.0.1:9/v1", "--limit", "2"]
    ran = invoke(capsys, "run", str(SAMPLES), "-o", str(out), *base, "--workers", "2")
    assert ran.code == 1, ran.err  # some papers failed: exit 1
    result = rows(out)
    assert [r["status"] for r in result] == ["failed", "failed"]
    assert all("cannot reach the API" in str(r["error"]) for r in result)
    assert not any("500" in str(r["error"]) for r in result)  # no server said 500


def test_the_backoff_variable_replaces_the_jittered_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    assert 0 <= backoff_s(2) <= 2.0  # unset: full jitter up to 0.5 * 2**attempt
    monkeypatch.setenv(BACKOFF_ENV, "0")
    assert [backoff_s(a) for a in range(4)] == [0.0, 0.0, 0.0, 0.0]
    monkeypatch.setenv(BACKOFF_ENV, "soon")  # not a number: ignored
    assert 0 <= backoff_s(0) <= 0.5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "local/keyword", "--workers", "2"], "--workers applies to remote models"),
        (["--model", "openai/x", "--workers", "2", "--batch"], "--workers does not apply"),
    ],
)
def test_workers_refused_where_they_do_not_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    ran = invoke(capsys, "run", str(SAMPLES), "-o", str(tmp_path / "o.jsonl"), *args)
    assert ran.code == 2
    assert message in ran.err and "Traceback" not in ran.err


def kill_first_worker() -> None:
    """SIGKILL the worker process this test process started (the one that forked the rest)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if b"serve_fds" in cmdline and parent == os.getpid():
            os.kill(int(entry.name), signal.SIGKILL)
            return


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the worker through /proc")
def test_a_killed_worker_fails_only_its_papers_and_retry_failed_redoes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.jsonl"
    with FakeOpenAI() as server:
        server.latency_s = 0.3  # calls are in flight when the worker dies
        server.on_request = lambda count: kill_first_worker() if count == 4 else None
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "12",
                "--workers", "2", "--concurrency", "4"]  # fmt: skip
        ran = invoke(capsys, "run", str(SAMPLES), "-o", str(out), *base)
        assert ran.code == 1, ran.err  # some papers failed: exit 1
        first = rows(out)
        server.on_request = None
        again = invoke(capsys, "run", str(SAMPLES), "-o", str(out), *base, "--retry-failed")
        assert again.code == 0, again.err
    failed = [r for r in first if r["status"] == "failed"]
    assert len(first) == 12 and 1 <= len(failed) < 12
    assert all(r["error"] == "the worker process exited" for r in failed)
    assert len(rows(out)) == 12 and all(r["status"] == "ok" for r in rows(out))
