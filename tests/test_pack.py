"""`--pack K`: K abstracts per request, id-keyed answers, fallback to single requests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import SAMPLES
from fake_openai import FakeOpenAI
from tagger.cli.main import main


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_pack_sends_k_abstracts_per_request(tmp_path: Path, tagger_home: Path) -> None:
    out = tmp_path / "o.jsonl"
    with FakeOpenAI() as server:
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "16"]
        main(["run", str(SAMPLES), "-o", str(out), *base, "--pack", "4", "--concurrency", "2"])
        packed_requests = len(server.requests)
        user = server.requests[0]["body"]["messages"][1]["content"]
        room = server.requests[0]["body"]["max_tokens"]
        main(["run", str(SAMPLES), "-o", str(tmp_path / "single.jsonl"), *base])
    assert packed_requests == 4
    assert room == 4 * 300  # four answers get four times one answer's max_tokens
    assert server.requests[-1]["body"]["max_tokens"] == 300  # a single request keeps its own
    assert user.count("</abstract>") == 4 and '<abstract id="p4">' in user
    result = rows(out)
    assert len(result) == 16 and all(r["status"] == "ok" for r in result)
    with sqlite3.connect(tagger_home / "store.db") as conn:  # the pack's whole answer per paper
        raw = [r[0] for r in conn.execute("SELECT raw_response FROM answers WHERE run_id = 1")]
    assert len(raw) == 16 and all('"p4"' in str(r) for r in raw)
    assert {str(r["summary"]).split()[-1] for r in result} == {"p1", "p2", "p3", "p4"}
    # packed answers are cached apart from single ones: the single run asked again
    assert len(server.requests) == 4 + 16


def test_a_failed_pack_falls_back_to_single_requests(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    with FakeOpenAI() as server:
        bad = {"content": json.dumps({"items": [{"id": "p1", "tags": ["x"], "summary": "s"}]})}
        server.enqueue(bad, bad, bad)  # first pack invalid after all re-asks
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "3"]
        main(["run", str(SAMPLES), "-o", str(out), *base, "--pack", "3", "--concurrency", "1"])
    result = rows(out)
    assert len(result) == 3 and all(r["status"] == "ok" for r in result)
    assert len(server.requests) == 3 + 3
