"""Input side of a run: read every input, deduplicate, and hand the runner unique papers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from tagger.dedup.grouping import DEFAULT_THRESHOLD, Deduplicator
from tagger.dedup.report import DedupCounts, UniquePaper
from tagger.ingest import iter_papers
from tagger.records import SkippedRecords


@dataclass
class UniqueSource:
    """The unique papers of the inputs, read back one at a time from the dedup spill."""

    finder: Deduplicator
    counts: DedupCounts
    warnings: list[str] = field(default_factory=list)
    skipped: SkippedRecords = field(default_factory=SkippedRecords)

    @property
    def input_count(self) -> int:
        return self.counts.records

    @property
    def unique_count(self) -> int:
        return self.counts.unique

    def __iter__(self) -> Iterator[UniquePaper]:
        for group in self.finder.groups():
            yield UniquePaper(group.paper, group.duplicate_refs)


@contextlib.contextmanager
def open_unique(
    inputs: Sequence[str],
    *,
    fmt: str = "auto",
    threshold: float | None = None,
    warn: Callable[[str], None] = lambda _: None,
) -> Iterator[UniqueSource]:
    """Ingest (streaming) and deduplicate; warnings go to `warn` as they happen and are kept.
    Memory holds keys and signatures, not texts: the records wait in a temporary file."""
    warnings: list[str] = []

    def on_warning(message: str) -> None:
        warnings.append(message)
        warn(message)

    with Deduplicator(DEFAULT_THRESHOLD if threshold is None else threshold) as finder:
        skipped = SkippedRecords()
        finder.add_all(iter_papers(inputs, fmt, on_warning, skipped))
        yield UniqueSource(finder, finder.counts(), warnings, skipped)


@dataclass
class Loaded:
    papers: list[UniquePaper]
    input_count: int
    warnings: list[str] = field(default_factory=list)


def load_unique(
    inputs: Sequence[str],
    *,
    fmt: str = "auto",
    threshold: float | None = None,
    warn: Callable[[str], None] = lambda _: None,
) -> Loaded:
    """`open_unique`, all in memory (for small inputs)."""
    with open_unique(inputs, fmt=fmt, threshold=threshold, warn=warn) as source:
        return Loaded(list(source), source.input_count, source.warnings)
