"""Read the JSONL files `tagger run` wrote: skip failed records, merge repeats across files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagger.records import TaggedPaper
from tagger.run.reader import read_run_file


@dataclass
class LoadedRuns:
    """The ok papers in first-seen order, and what was skipped on the way."""

    papers: list[TaggedPaper] = field(default_factory=list)
    failed: int = 0
    duplicates: int = 0


def load_runs(paths: Sequence[str | Path]) -> LoadedRuns:
    """Read every run file in order. A paper seen again (same id, or an id it merged) keeps its
    first ok record, so list the file you trust most first."""
    loaded = LoadedRuns()
    known: set[str] = set()
    for path in paths:
        for record in read_run_file(path):
            if record.status != "ok":
                loaded.failed += 1
                continue
            ids = {record.id, *record.duplicates}
            if ids & known:
                loaded.duplicates += 1
                continue
            known |= ids
            loaded.papers.append(record)
    return loaded
