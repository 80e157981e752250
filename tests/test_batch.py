"""`tagger run --batch` against a fake OpenAI batch endpoint on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fake_batch import FakeBatchServer

from conftest import SAMPLES, invoke
from tagger.cli.main import main
from tagger.run.batch.client import BatchState, split_requests


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_batch_submit_poll_collect_into_output_and_cache(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    with FakeBatchServer(polls_before_done=2) as server:
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "12"]
        main(["run", str(SAMPLES), "-o", str(out), *base, "--batch", "--poll-interval", "0"])
        assert len(server.batches) == 1 and server.polls["batch-1"] == 3
        submitted = [json.loads(x) for x in server.files["file-1"].splitlines()]
        # a live rerun is served from the cache the batch filled: no chat call at all
        main(["run", str(SAMPLES), "-o", str(tmp_path / "again.jsonl"), *base])
        assert server.requests == []
    assert len(submitted) == 12 and submitted[0]["url"] == "/v1/chat/completions"
    assert submitted[0]["body"]["model"] == "fake"
    assert "JSON schema" in submitted[0]["body"]["messages"][0]["content"]
    result = rows(out)
    assert len(result) == 12 and all(r["status"] == "ok" for r in result)
    assert all(r["cached"] for r in rows(tmp_path / "again.jsonl"))
    assert not (tmp_path / "o.batch.json").exists()


def test_interrupted_batch_resumes_by_id_without_resubmitting(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    with FakeBatchServer(polls_before_done=0) as server:
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "5", "--batch"]
        main(["run", str(SAMPLES), "-o", str(out), *base, "--no-wait"])
        state = json.loads((tmp_path / "o.batch.json").read_text())
        assert state["parts"][0]["batch_id"] == "batch-1" and rows(out) == []
        main(["run", str(SAMPLES), "-o", str(out), *base, "--resume", "--poll-interval", "0"])
        assert len(server.batches) == 1  # collected the same batch, paid once
    assert len(rows(out)) == 5


def stored_raw(home: Path) -> list[str | None]:
    with sqlite3.connect(home / "store.db") as conn:
        return [r[0] for r in conn.execute("SELECT raw_response FROM answers WHERE run_id = 1")]


def test_invalid_batch_answers_are_failed_with_reason_then_retryable(
    tmp_path: Path, tagger_home: Path
) -> None:
    out = tmp_path / "o.jsonl"
    with FakeBatchServer(polls_before_done=0) as server:
        server.enqueue({"content": json.dumps({"tags": ["not-a-tag"], "summary": "x"})})
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "3"]
        with pytest.raises(SystemExit) as exited:  # a failed paper: exit 1
            main(["run", str(SAMPLES), "-o", str(out), *base, "--batch", "--poll-interval", "0"])
        assert exited.value.code == 1
        failed = [r for r in rows(out) if r["status"] == "failed"]
        assert len(failed) == 1 and "--retry-failed" in str(failed[0]["error"])
        raw = stored_raw(tagger_home)  # the history keeps what the batch answered, bad ones too
        assert len(raw) == 3 and all(raw) and sum("not-a-tag" in str(r) for r in raw) == 1
        main(["run", str(SAMPLES), "-o", str(out), *base, "--retry-failed"])
        assert len(server.requests) == 1  # only the failed paper went to the live path
    assert all(r["status"] == "ok" for r in rows(out)) and len(rows(out)) == 3


def test_unreadable_result_lines_fail_their_papers_and_the_rest_is_collected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A provider's results file with a cut-off line, a line without custom_id, a line nested
    too deeply and a usage that is no number: it was a traceback (every result of the batch
    lost, and the same on every --resume); now those papers fail with a reason and a warning,
    the rest is written, and --retry-failed redoes the failed ones."""
    out = tmp_path / "o.jsonl"
    with FakeBatchServer(polls_before_done=0) as server:
        server.broken_lines = {2: '{"custom_id": "p', 3: '{"response": {}}', 4: "[" * 100_000}
        server.usages = {1: {"prompt_tokens": "many", "completion_tokens": None}}
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "5"]
        result = invoke(capsys, "run", str(SAMPLES), "-o", str(out), *base, "--batch",
                        "--poll-interval", "0")  # fmt: skip
        assert result.code == 1, result.err
        assert "Traceback" not in result.err
        assert "3 line(s) of batch batch-1's results could not be read" in result.err
        lines = rows(out)
        assert len(lines) == 5
        failed = [r for r in lines if r["status"] == "failed"]
        assert len(failed) == 3
        assert all(r["error"] == "no result for this paper in the batch" for r in failed)
        manifest = json.loads((tmp_path / "o.run.json").read_text())
        assert any("could not be read" in w for w in manifest["warnings"])
        retried = invoke(capsys, "run", str(SAMPLES), "-o", str(out), *base, "--retry-failed")
        assert retried.code == 0, retried.err
    assert [r["status"] for r in rows(out)] == ["ok"] * 5


def test_large_runs_are_split_into_several_batches(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    with FakeBatchServer(polls_before_done=0) as server:
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "12"]
        main(["run", str(SAMPLES), "-o", str(out), *base, "--batch", "--batch-size", "5",
              "--poll-interval", "0"])  # fmt: skip
        sizes = [
            len(server.files[b["input_file_id"]].splitlines()) for b in server.batches.values()
        ]
    assert sizes == [5, 5, 2]
    assert len(rows(out)) == 12 and all(r["status"] == "ok" for r in rows(out))
    assert not (tmp_path / "o.batch.json").exists()


def test_a_refused_submission_resumes_with_only_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.jsonl"
    with FakeBatchServer(polls_before_done=0) as server:
        server.refuse_batches = {2}
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "12",
                "--batch", "--batch-size", "5", "--poll-interval", "0"]  # fmt: skip
        failed = invoke(capsys, "run", str(SAMPLES), "-o", str(out), *base)
        assert failed.code == 2 and "Traceback" not in failed.err
        assert "HTTP 400: batch quota exceeded" in failed.err and "--batch --resume" in failed.err
        state = json.loads((tmp_path / "o.batch.json").read_text())
        assert [len(p["paper_ids"]) for p in state["parts"]] == [5]  # the one that was accepted
        again = invoke(capsys, "run", str(SAMPLES), "-o", str(out), *base, "--resume")
        assert again.code == 0, again.err
        sent = [
            json.loads(line)["custom_id"]
            for b in server.batches.values()
            for line in server.files[b["input_file_id"]].splitlines()
        ]
    assert len(sent) == len(set(sent)) == 12  # every paper submitted once, none twice
    assert len(rows(out)) == 12 and all(r["status"] == "ok" for r in rows(out))


def test_split_requests_keeps_each_file_under_both_limits() -> None:
    lines = ["x" * 99] * 10  # 100 bytes each with the newline
    assert [len(c) for c in split_requests(lines, max_requests=4)] == [4, 4, 2]
    assert [len(c) for c in split_requests(lines, max_bytes=350)] == [3, 3, 3, 1]
    assert [len(c) for c in split_requests(["y" * 500], max_bytes=100)] == [1]  # never empty
    assert split_requests([]) == []


def test_a_state_file_from_before_splitting_still_resumes() -> None:
    old = {"batch_id": "batch-7", "input_file_id": "file-3", "model": "openai/x",
           "api_base": None, "paper_ids": ["a", "b"], "submitted_at": 1.0}  # fmt: skip
    state = BatchState.model_validate(old)
    assert [p.batch_id for p in state.parts] == ["batch-7"] and state.paper_ids == ["a", "b"]
