"""Predictions for the gold set: run through the normal runner (same cache), or re-read a log."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tagger.config.build import ModelSetup
from tagger.dedup.report import UniquePaper
from tagger.evaluate.gold import GoldSet
from tagger.normalize import normalize_text
from tagger.records import Paper, TaggedPaper
from tagger.run.cache import ResultCache
from tagger.run.job import Job
from tagger.run.settings import Progress, RunSettings

Predictions = dict[str, TaggedPaper]


@dataclass(frozen=True)
class PredictOptions:
    use_cache: bool = True
    concurrency: int | None = None
    progress: bool | None = None  # None: a bar when stderr is a terminal
    pack: int = 1  # abstracts per request for remote models (--pack K); embedded ones ignore it


def repeat_namespace(index: int) -> str:
    """Run 1 shares the normal cache with `tagger run`; each further repeat gets its own."""
    return "" if index == 0 else f"repeat-{index}"


def repeat_log(log: Path, index: int) -> Path:
    if index == 0:
        return log
    return log.with_name(f"{log.name.removesuffix('.jsonl')}.repeat-{index}.jsonl")


@dataclass(frozen=True)
class Planned:
    """One system to run: its model setup, label, and where its predictions log goes."""

    setup: ModelSetup
    label: str
    log: Path


def predict(
    plans: Sequence[Planned], gold: GoldSet, repeats: int, options: PredictOptions
) -> list[list[Predictions]]:
    """For each plan, `repeats` runs over the gold set (run i writes repeat_log(log, i)).

    Everything runs in one event loop: gateways may hold loop-bound state across runs.
    """
    cache = ResultCache() if options.use_cache else None

    async def all_runs() -> list[list[Predictions]]:
        return [
            [await _run_once(plan, gold, i, cache, options) for i in range(repeats)]
            for plan in plans
        ]

    try:
        return asyncio.run(all_runs())
    finally:
        if cache is not None:
            cache.close()


async def _run_once(
    plan: Planned, gold: GoldSet, index: int, cache: ResultCache | None, options: PredictOptions
) -> Predictions:
    from tagger.embedded import is_local
    from tagger.models.factory import default_concurrency

    setup, log = plan.setup, repeat_log(plan.log, index)
    settings = RunSettings(
        output=log,
        prompt=setup.prompt,
        taxonomy=setup.taxonomy,
        max_tags=setup.max_tags,
        concurrency=options.concurrency or default_concurrency(setup.gateway),
        use_cache=cache is not None,
        overwrite=True,  # the log belongs to this eval, like the report beside it
        namespace=repeat_namespace(index),
        inputs=[gold.path],
        pack=1 if is_local(setup.gateway.model) else options.pack,
    )
    description = f"{plan.label} run {index + 1}" if index else plan.label
    job = Job(settings, setup.gateway, cache, progress=_progress(options.progress, description))
    papers = gold_papers(gold)
    await job.run(papers, len(papers))
    return match_to_gold(gold, read_log(log))


def gold_papers(gold: GoldSet) -> list[UniquePaper]:
    return [
        UniquePaper(Paper(id=i.id, title=i.title, abstract=i.abstract, source=i.source))
        for i in gold.items
    ]


def read_log(path: str | Path) -> list[TaggedPaper]:
    # One reader of run output for every consumer (digest, eval).
    from tagger.run.reader import read_run_file

    return list(read_run_file(path))


def match_to_gold(gold: GoldSet, records: Iterable[TaggedPaper]) -> Predictions:
    """Gold id -> record, by id (or an id the record merged as a duplicate), else by title."""
    by_id: dict[str, TaggedPaper] = {}
    by_title: dict[str, TaggedPaper] = {}
    for record in records:
        for key in (record.id, *record.duplicates):
            by_id.setdefault(key, record)
        by_title.setdefault(normalize_text(record.title), record)
    found: Predictions = {}
    for item in gold.items:
        match = by_id.get(item.id) or by_title.get(normalize_text(item.title))
        if match is not None:
            found[item.id] = match
    return found


def _progress(enabled: bool | None, description: str) -> Progress:
    from tagger.run.progress import BarProgress
    from tagger.run.settings import NoProgress

    on = sys.stderr.isatty() if enabled is None else enabled
    return BarProgress(description) if on else NoProgress()
