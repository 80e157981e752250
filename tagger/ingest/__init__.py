"""Reading papers from page dumps, JSON lines, CSV and the arXiv snapshot, one record at a time.

Malformed single records (no title, bad JSON line, dangling title) are skipped with a warning
passed to ``on_warning``; a file nothing can be read from raises InputError naming the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

from tagger.errors import InputError
from tagger.ingest import arxiv, dailypapers, jsonl
from tagger.ingest import csv as csv_format
from tagger.ingest.detect import FORMATS, check_format, detect_format
from tagger.ingest.files import check_readable, expand_paths, first_content_line
from tagger.ingest.record import MAX_ABSTRACT_CHARS, OnWarning, RawRecord, build_paper
from tagger.records import Paper, SkippedRecords

__all__ = ["FORMATS", "MAX_ABSTRACT_CHARS", "OnWarning", "iter_papers"]

_READERS: dict[str, Callable[[str, OnWarning], Iterator[RawRecord]]] = {
    "dailypapers": dailypapers.read,
    "jsonl": jsonl.read,
    "csv": csv_format.read,
    "arxiv": arxiv.read,
}
_log = logging.getLogger(__name__)


def iter_papers(
    paths: Sequence[str],
    fmt: str = "auto",
    on_warning: OnWarning | None = None,
    skipped: SkippedRecords | None = None,
) -> Iterator[Paper]:
    """Papers from ``paths`` (files or directories) in order, streamed record by record.

    ``fmt`` is one of FORMATS; "auto" detects each file's format on its own. Records dropped
    for want of a title or abstract are warned about and counted in ``skipped``.
    """
    check_format(fmt)
    warn = on_warning or _log.warning
    for path in expand_paths(paths, warn):
        yield from _read_file(path, fmt, warn, skipped or SkippedRecords())


def _read_file(path: str, fmt: str, warn: OnWarning, skipped: SkippedRecords) -> Iterator[Paper]:
    check_readable(path)
    first = first_content_line(path)
    if first is None:
        raise InputError("is empty (only blank lines).", path=path, hint="Pass a file with papers.")
    kind = detect_format(path, first[1]) if fmt == "auto" else fmt
    count = 0
    for raw in _READERS[kind](path, warn):
        paper = build_paper(raw, warn)
        if paper is None:
            skipped.add(raw.where)
        else:
            count += 1
            yield paper
    if count == 0:
        raise InputError(
            f"no papers found (read as {kind}).",
            path=path,
            hint=f"Check the file, or pass --format ({', '.join(FORMATS[1:])}).",
        )
