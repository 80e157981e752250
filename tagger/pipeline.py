"""Input side of a run: read every input, deduplicate, and hand the runner unique papers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tagger.dedup import DEFAULT_THRESHOLD, DedupResult, dedup
from tagger.ingest import iter_papers
from tagger.runner import UniquePaper


@dataclass
class Loaded:
    papers: list[UniquePaper]
    input_count: int
    result: DedupResult
    warnings: list[str] = field(default_factory=list)


def load_unique(
    inputs: Sequence[str],
    *,
    fmt: str = "auto",
    threshold: float | None = None,
    warn: Callable[[str], None] = lambda _: None,
) -> Loaded:
    """Ingest (streaming) and deduplicate; warnings go to `warn` as they happen and are kept."""
    warnings: list[str] = []

    def on_warning(message: str) -> None:
        warnings.append(message)
        warn(message)

    result = dedup(iter_papers(inputs, fmt, on_warning), threshold or DEFAULT_THRESHOLD)
    papers = [UniquePaper(g.paper, [m.ref for m in g.duplicates]) for g in result.groups]
    return Loaded(papers, result.counts().records, result, warnings)
