"""`tagger run --batch` against a fake OpenAI batch endpoint on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

from fake_batch import FakeBatchServer

from conftest import SAMPLES
from tagger.cli.main import main


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
        assert state["batch_id"] == "batch-1" and rows(out) == []
        main(["run", str(SAMPLES), "-o", str(out), *base, "--resume", "--poll-interval", "0"])
        assert len(server.batches) == 1  # collected the same batch, paid once
    assert len(rows(out)) == 5


def test_invalid_batch_answers_are_failed_with_reason_then_retryable(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    with FakeBatchServer(polls_before_done=0) as server:
        server.enqueue({"content": json.dumps({"tags": ["not-a-tag"], "summary": "x"})})
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "3"]
        main(["run", str(SAMPLES), "-o", str(out), *base, "--batch", "--poll-interval", "0"])
        failed = [r for r in rows(out) if r["status"] == "failed"]
        assert len(failed) == 1 and "--retry-failed" in str(failed[0]["error"])
        main(["run", str(SAMPLES), "-o", str(out), *base, "--retry-failed"])
        assert len(server.requests) == 1  # only the failed paper went to the live path
    assert all(r["status"] == "ok" for r in rows(out)) and len(rows(out)) == 3
