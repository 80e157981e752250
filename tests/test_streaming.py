"""Bounded memory: dedup spills records to disk, and the run loop reads its input as it goes."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FakeGateway
from tagger.config.prompts import load_prompt
from tagger.config.taxonomy import Taxonomy
from tagger.dedup.grouping import Deduplicator
from tagger.dedup.report import UniquePaper
from tagger.models.base import ModelRequest, ModelResult
from tagger.records import Paper
from tagger.run.job import Job
from tagger.run.settings import RunSettings

OK = {"tags": ["llm"], "summary": "Studies language models."}


def paper(i: int, words: int = 300) -> Paper:
    text = " ".join(f"w{i}x{k}" for k in range(words))  # ~2.7 KB, unique per i
    return Paper(id=f"id{i}", title=f"Paper {i}", abstract=text, source=f"f.jsonl:{i + 1}")


def test_spilled_records_come_back_whole_and_grouped_as_in_memory() -> None:
    records = [paper(i) for i in range(600)]  # ~1.6 MB: past the 1 MB spill buffer
    records += [records[5].model_copy(update={"id": "again", "source": "f.jsonl:601"})]
    records += [records[400].model_copy(update={"title": "PAPER 400!", "source": "f.jsonl:602"})]
    with Deduplicator(memory_bytes=20_000) as finder:  # the first few held, the rest spilled
        finder.add_all(records)
        groups = list(finder.groups())
        counts = finder.counts()
        merged = [g for g in finder.groups(merged_only=True)]
    assert [g.paper for g in groups] == records[:600]
    assert [len(g.duplicates) for g in merged] == [1, 1]
    assert counts.records == 602 and counts.unique == 600
    with Deduplicator() as held:  # the default budget holds them all in memory
        held.add_all(records)
        assert counts == held.counts()
        assert [g.paper for g in held.groups()] == [g.paper for g in groups]


class CountingSource:
    """Unique papers handed out one at a time, counting how many were taken."""

    def __init__(self, n: int) -> None:
        self.n, self.taken = n, 0

    def __iter__(self) -> Iterator[UniquePaper]:
        for i in range(self.n):
            self.taken += 1
            yield UniquePaper(
                Paper(id=f"id{i}", title=f"P {i}", abstract="An abstract.", source="s")
            )


class WatchingGateway(FakeGateway):
    def __init__(self, source: CountingSource) -> None:
        super().__init__()
        self.source, self.taken_at_call = source, []
        self.default = OK

    async def complete(self, request: ModelRequest) -> ModelResult:
        self.taken_at_call.append(self.source.taken)
        await asyncio.sleep(0)
        return await super().complete(request)


def test_the_run_reads_its_input_as_it_goes(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    source = CountingSource(2000)
    gateway = WatchingGateway(source)
    settings = RunSettings(
        output=tmp_path / "o.jsonl", prompt=load_prompt(), taxonomy=tiny_taxonomy, concurrency=4
    )
    manifest = asyncio.run(Job(settings, gateway, None).run(source, 2000, total=2000))
    assert manifest.counts.tagged == 2000
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["id"] for x in lines) == sorted(f"id{i}" for i in range(2000))
    # by the 100th call only a short queue's worth was read ahead, not the whole input
    assert gateway.taken_at_call[99] <= 100 + 4 * 4 + 4


class BrokenGateway(FakeGateway):
    async def complete(self, request: ModelRequest) -> ModelResult:
        raise RuntimeError("bug in a gateway")


def test_a_worker_that_dies_ends_the_run_instead_of_hanging(
    tmp_path: Path, tiny_taxonomy: Taxonomy
) -> None:
    settings = RunSettings(
        output=tmp_path / "o.jsonl", prompt=load_prompt(), taxonomy=tiny_taxonomy, concurrency=2
    )
    job = Job(settings, BrokenGateway(), None)

    async def bounded() -> None:
        await asyncio.wait_for(job.run(CountingSource(500), 500, total=500), timeout=30)

    with pytest.raises(RuntimeError, match="bug in a gateway"):
        asyncio.run(bounded())
    # a crash is not a Ctrl-C: the manifest says why the run stopped
    assert not job.manifest.interrupted and "bug in a gateway" in str(job.manifest.stopped)


def test_a_spill_folder_that_cannot_be_written_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import invoke

    data = tmp_path / "papers.jsonl"
    records = (paper(i).model_dump(include={"id", "title", "abstract"}) for i in range(600))
    data.write_text("".join(json.dumps(r) + "\n" for r in records))  # > 1 MB: it must spill
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_folder))  # what TMPDIR=<file> gives
    monkeypatch.setenv("TAGGER_DEDUP_MEMORY_MB", "0")  # spill from the first record
    result = invoke(capsys, "dedup", str(data), "-o", str(tmp_path / "u.jsonl"))
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert "cannot spill records to a temporary file" in result.err and "TMPDIR" in result.err
    assert not (tmp_path / "u.jsonl").exists()
