"""The Python API: what `tagger run`, `tagger dedup` and `tagger eval` do, for notebooks.

    import tagger
    papers = tagger.deduplicate(tagger.read_papers(["samples"]))
    for record in tagger.Tagger().tag(papers[:3]):
        print(record.tags, record.summary)

Nothing heavy is imported until it is used: a cache hit or an embedded model never imports
litellm. The API records nothing in the run history; the CLI does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import tempfile
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tagger.errors import InputError
from tagger.records import Paper, TaggedPaper

if TYPE_CHECKING:
    from tagger.config.build import ModelSetup
    from tagger.dedup.report import UniquePaper
    from tagger.evaluate.models import EvalReport

PaperLike = Paper | Mapping[str, Any]
T = TypeVar("T")


class Tagger:
    """One model + prompt + taxonomy, reused across calls (the embedded model loads once).

    `model` is a litellm model string or an embedded one (default: `local/minilm`, or
    $TAGGER_MODEL); `taxonomy` and `prompt` are paths or names as the CLI takes them."""

    def __init__(
        self,
        model: str | None = None,
        api_base: str | None = None,
        taxonomy: str | None = None,
        prompt: str | None = None,
        max_tags: int = 3,
        cache: bool = True,
        *,
        api_key: str | None = None,
        concurrency: int | None = None,
    ) -> None:
        self.choice = {
            "model": model,
            "api_base": api_base,
            "api_key": api_key,
            "taxonomy_path": taxonomy,
            "prompt_ref": prompt,
            "max_tags": max_tags,
        }
        self.max_tags = max_tags
        self.cache = cache
        self.concurrency = concurrency
        self._setup: ModelSetup | None = None

    @property
    def setup(self) -> ModelSetup:
        """The gateway, prompt and taxonomy, built as `tagger run` builds them (once)."""
        if self._setup is None:
            from tagger.config.build import build_setup

            self._setup = build_setup(**self.choice)  # type: ignore[arg-type]
        return self._setup

    def tag(self, papers: Iterable[PaperLike]) -> list[TaggedPaper]:
        """Tag and summarize `papers` (dicts with title/abstract, or Paper records), in order."""
        return _run_sync(self.atag(papers))

    async def atag(self, papers: Iterable[PaperLike]) -> list[TaggedPaper]:
        """`tag`, awaitable."""
        items = [_unique(_as_paper(p, n)) for n, p in enumerate(papers, start=1)]
        if not items:
            return []
        with tempfile.TemporaryDirectory(prefix="tagger-api-") as folder:
            out = Path(folder) / "out.jsonl"
            await self._run(items, out)
            from tagger.run.output import read_done

            done, _ = read_done(out)
        return [done[item.paper.id] for item in items]

    async def _run(self, items: list[UniquePaper], out: Path) -> None:
        from tagger.models.factory import default_concurrency
        from tagger.run.cache import ResultCache
        from tagger.run.job import Job
        from tagger.run.settings import RunSettings

        setup = self.setup
        settings = RunSettings(
            output=out,
            prompt=setup.prompt,
            taxonomy=setup.taxonomy,
            max_tags=self.max_tags,
            concurrency=self.concurrency or default_concurrency(setup.gateway),
            use_cache=self.cache,
        )
        cache = ResultCache() if self.cache else None
        try:
            await Job(settings, setup.gateway, cache).run(items, len(items), total=len(items))
        finally:
            if cache is not None:
                cache.close()


def read_papers(paths: str | Sequence[str], fmt: str = "auto") -> list[Paper]:
    """Every record in `paths` (files or folders; page dumps, JSONL, CSV, arXiv snapshot)."""
    from tagger.ingest import iter_papers

    return list(iter_papers([paths] if isinstance(paths, str) else list(paths), fmt))


def deduplicate(papers: Iterable[PaperLike], threshold: float | None = None) -> list[Paper]:
    """One Paper per duplicate group (exact title/abstract, arXiv id, near-duplicate text).

    (Named so because `tagger.dedup` is the module; its `grouping.Deduplicator` streams the full
    groups, with what merged into each and why.)"""
    from tagger.dedup.grouping import DEFAULT_THRESHOLD, Deduplicator

    records = [_as_paper(p, n) for n, p in enumerate(papers, start=1)]
    with Deduplicator(threshold or DEFAULT_THRESHOLD) as finder:
        finder.add_all(records)
        return [group.paper for group in finder.groups()]


def evaluate_gold(
    model: str | None = None,
    prompt: str | None = None,
    *,
    gold: str | None = None,
    taxonomy: str | None = None,
    api_base: str | None = None,
    max_tags: int = 3,
    limit: int | None = None,
    cache: bool = True,
    output: str | Path | None = None,
) -> EvalReport:
    """Score a model and prompt on a gold set, as `tagger eval` does; the report and the
    predictions log are written under `output` (default $TAGGER_HOME/evals/<timestamp>/)."""
    from tagger.evaluate.predict import PredictOptions
    from tagger.evaluate.report import report_paths, write_reports
    from tagger.evaluate.session import EvalOptions, ModelChoice, run_eval
    from tagger.run.cache import tagger_home

    options = EvalOptions(
        choice=ModelChoice(model, api_base, None, taxonomy, prompt, max_tags),
        gold_path=gold,
        limit=limit,
        predict=PredictOptions(use_cache=cache, progress=False),
    )
    paths = report_paths(Path(output) if output else None, tagger_home())
    report = run_eval(options, paths)
    write_reports(report, paths)
    return report


def _as_paper(value: PaperLike, number: int) -> Paper:
    if isinstance(value, Paper):
        return value
    if not isinstance(value, Mapping):
        raise InputError(f"paper {number} is a {type(value).__name__}, not a dict or Paper.")
    from tagger.ingest.record import build_paper, raw_from_mapping

    problems: list[str] = []
    paper = build_paper(raw_from_mapping(value, "<api>", number), problems.append)
    if paper is None:
        raise InputError(f"paper {number}: {problems[0].split(': ', 1)[-1]}")
    return paper


def _unique(paper: Paper) -> UniquePaper:
    from tagger.dedup.report import UniquePaper

    return UniquePaper(paper)


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, also from inside a running loop (a Jupyter cell): then in a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
