"""The run loop with a fake gateway (no network, no monkeypatching)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from conftest import FakeGateway
from tagger.config.prompts import load_prompt
from tagger.config.taxonomy import Taxonomy
from tagger.dedup.report import UniquePaper
from tagger.errors import ConfigError, ModelError
from tagger.records import Paper
from tagger.run.cache import ResultCache
from tagger.run.job import Job
from tagger.run.output import manifest_path
from tagger.run.settings import RunSettings


def papers(n: int) -> list[UniquePaper]:
    return [
        UniquePaper(
            Paper(
                id=f"id{i}", title=f"Paper {i}", abstract=f"Abstract number {i}.", source=f"f:{i}"
            )
        )
        for i in range(n)
    ]


def run_job(
    out: Path,
    gateway: FakeGateway,
    taxonomy: Taxonomy,
    items: list[UniquePaper],
    cache: ResultCache | None = None,
    **settings: object,
) -> list[dict[str, object]]:
    job = Job(
        RunSettings(output=out, prompt=load_prompt(), taxonomy=taxonomy, **settings),  # type: ignore[arg-type]
        gateway,
        cache,
    )
    asyncio.run(job.run(items, input_count=len(items)))
    return [json.loads(line) for line in out.read_text().splitlines()]


OK = {"tags": ["llm"], "summary": "Studies language models."}


def test_every_paper_is_written_with_its_fields(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    gateway = FakeGateway()
    gateway.default = OK
    items = papers(5)
    items[0].duplicates.append("dup-of-0")
    rows = run_job(tmp_path / "o.jsonl", gateway, tiny_taxonomy, items)
    assert sorted(r["id"] for r in rows) == [f"id{i}" for i in range(5)]
    row = next(r for r in rows if r["id"] == "id0")
    assert row["duplicates"] == ["dup-of-0"] and row["source"] == "f:0"
    assert row["prompt"] == "tag_summarize@v1" and row["model"] == "fake/model"
    assert row["tags"] == ["llm"] and row["cached"] is False
    manifest = json.loads(manifest_path(tmp_path / "o.jsonl").read_text())
    assert manifest["counts"]["tagged"] == 5 and manifest["usage"]["prompt_tokens"] == 500
    assert manifest["taxonomy_hash"] == tiny_taxonomy.content_hash


def test_failures_are_recorded_not_dropped(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    gateway = FakeGateway()
    gateway.enqueue(OK, ModelError("invalid output after 3 attempts: bad tags"), OK)
    rows = run_job(tmp_path / "o.jsonl", gateway, tiny_taxonomy, papers(3), concurrency=1)
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 3 and len(failed) == 1
    assert "bad tags" in str(failed[0]["error"]) and failed[0]["tags"] == []


def test_cache_hit_rerun_makes_zero_model_calls(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    gateway = FakeGateway()
    gateway.default = OK
    with ResultCache(tmp_path / "cache") as cache:
        run_job(tmp_path / "a.jsonl", gateway, tiny_taxonomy, papers(4), cache)
        calls = len(gateway.history)
        rows = run_job(tmp_path / "b.jsonl", gateway, tiny_taxonomy, papers(4), cache)
    assert calls == 4 and len(gateway.history) == 4
    assert all(r["cached"] for r in rows)


def test_resume_skips_done_and_repairs_torn_line(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    out = tmp_path / "o.jsonl"
    gateway = FakeGateway()
    gateway.default = OK
    run_job(out, gateway, tiny_taxonomy, papers(2))
    with out.open("a") as f:
        f.write('{"id": "id2", "title": "torn')  # a crash mid-line
    rows = run_job(out, gateway, tiny_taxonomy, papers(4), resume=True)
    assert [r["id"] for r in rows].count("id2") == 1
    assert sorted(r["id"] for r in rows) == ["id0", "id1", "id2", "id3"]
    assert len(gateway.history) == 4


def test_retry_failed_redoes_only_failures(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    out = tmp_path / "o.jsonl"
    gateway = FakeGateway()
    gateway.enqueue(ModelError("boom"), OK, OK)
    run_job(out, gateway, tiny_taxonomy, papers(3), concurrency=1)
    gateway.enqueue(OK)
    rows = run_job(out, gateway, tiny_taxonomy, papers(3), resume=True, retry_failed=True)
    assert len(rows) == 3 and all(r["status"] == "ok" for r in rows)
    assert [r.paper.id for r in gateway.history] == ["id0", "id1", "id2", "id0"]


def test_existing_output_is_not_clobbered(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    out = tmp_path / "o.jsonl"
    out.write_text('{"keep": true}\n')
    with pytest.raises(ConfigError, match="--resume"):
        run_job(out, FakeGateway(), tiny_taxonomy, papers(1))
    assert out.read_text() == '{"keep": true}\n'
