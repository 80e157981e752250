"""Hugging Face "Daily Papers" page dumps: header lines, then blocks alternating title, abstract.

Blocks are separated by blank lines. Page chrome ("new", "Subscribe", "Daily Papers", a date
line such as "Mar 14") is skipped wherever a title is expected, so concatenated dumps work too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tagger.ingest.files import read_lines
from tagger.ingest.record import OnWarning, RawRecord
from tagger.normalize import collapse_whitespace

_CHROME = frozenset(
    {
        "new",
        "get trending papers in your email inbox!",
        "subscribe",
        "daily papers",
        "by ak and the research community",
        "byak and the research community",
    }
)
_DATE_LINE = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:, \d{4})?",
    re.IGNORECASE,
)
# No arXiv title is this long; a longer "title" means a block is missing above it.
_MAX_TITLE_CHARS = 400


def is_chrome(text: str) -> bool:
    """A page header line such as 'Subscribe' or 'Mar 14', never a paper title."""
    text = " ".join(text.split())
    return text.lower() in _CHROME or _DATE_LINE.fullmatch(text) is not None


def read(path: str, on_warning: OnWarning) -> Iterator[RawRecord]:
    title: tuple[int, str] | None = None
    for line, block in _blocks(path):
        if title is None:
            if not is_chrome(block):
                title = (line, block)
                _check_title(path, line, block, on_warning)
            continue
        yield RawRecord(path=path, line=title[0], title=title[1], abstract=block)
        title = None
    if title is not None:
        on_warning(
            f"{path}:{title[0]}: title has no abstract after it (the file ends there); "
            "skipped. Check whether the dump was cut off."
        )


def _check_title(path: str, line: int, block: str, on_warning: OnWarning) -> None:
    length = len(collapse_whitespace(block))
    if length > _MAX_TITLE_CHARS:
        on_warning(
            f"{path}:{line}: a {length}-character block stands where a title should; "
            "a title or abstract may be missing above it, so titles and abstracts after it "
            "may be swapped. Check the file."
        )


def _blocks(path: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each run of non-blank lines."""
    start = 0
    lines: list[str] = []
    for number, text in read_lines(path):
        if text.strip():
            if not lines:
                start = number
            lines.append(text)
        elif lines:
            yield start, "\n".join(lines)
            lines = []
    if lines:
        yield start, "\n".join(lines)
