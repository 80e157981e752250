"""CSV/TSV with a header row naming title and abstract columns (any case) plus optional metadata."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator

from tagger.errors import InputError
from tagger.ingest.files import first_content_line, read_lines
from tagger.ingest.record import (
    ABSTRACT_KEYS,
    TITLE_KEYS,
    OnWarning,
    RawRecord,
    canonical_key,
    raw_from_mapping,
)

# Abstracts can exceed csv's default 128 KiB field limit; long ones are truncated later.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


# A row longer than this is an unclosed quote swallowing the rows after it, not a paper (a
# 20,000-character abstract hard-wrapped at 40 columns is 500 lines).
MAX_ROW_LINES = 2000
# A row over this many lines is kept but named: an unbalanced quote that a later stray quote
# closes reads the rows between as one field, and this warning is the only sign of it.
WARN_ROW_LINES = 100


def read(path: str, on_warning: OnWarning) -> Iterator[RawRecord]:
    first = first_content_line(path)
    delimiter = _delimiter(path, first[1] if first else "")
    rows = _RowLines(path)
    reader = csv.reader(rows, delimiter=delimiter)
    header = _header(path, reader)
    rows.next_row()
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.check_closed(delimiter)
                if len(rows.lines) > WARN_ROW_LINES:
                    on_warning(
                        f"{path}:{rows.start}: this row runs over {len(rows.lines)} lines (a "
                        "quoted field); if a quote there is unbalanced, the rows after it were "
                        "read into that field. Check the quotes from this line on."
                    )
                yield raw_from_mapping(dict(zip(header, row, strict=False)), path, rows.start)
            rows.next_row()
    except csv.Error as exc:
        raise InputError(f"is not valid CSV ({exc}).", path=path, line=rows.start) from None


class _RowLines:
    """Feeds csv.reader one line at a time and remembers where the row being read started, so
    an unclosed quote is reported at its line instead of silently eating the rest of the file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.start = 1
        self.lines: list[str] = []
        self._at_end = False

    def __iter__(self) -> Iterator[str]:
        for number, text in read_lines(self.path):
            if not self.lines:
                self.start = number
            self.lines.append(text + "\n")
            if len(self.lines) > MAX_ROW_LINES:
                raise self._unclosed(f"runs past {MAX_ROW_LINES} lines")
            yield text + "\n"
        self._at_end = True

    def next_row(self) -> None:
        self.lines = []

    def check_closed(self, delimiter: str) -> None:
        """A multi-line row that ends with the file may be an unclosed quote: csv's strict mode
        says so ("unexpected end of data"); the lenient reader used for the rest does not."""
        if not (self._at_end and len(self.lines) > 1):
            return
        try:
            list(csv.reader(self.lines, delimiter=delimiter, strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                problem = f"is never closed ({len(self.lines)} lines to the end)"
                raise self._unclosed(problem) from None

    def _unclosed(self, problem: str) -> InputError:
        return InputError(
            f"a quoted field opened on this line {problem}.",
            path=self.path,
            line=self.start,
            hint='Close the quote (a quote inside a field is written "").',
        )


def has_title_and_abstract(header: list[str]) -> bool:
    keys = {canonical_key(name) for name in header}
    return bool(keys & set(TITLE_KEYS)) and bool(keys & set(ABSTRACT_KEYS))


def split_header(line: str, path: str = "") -> list[str]:
    return next(csv.reader([line], delimiter=_delimiter(path, line)), [])


def _delimiter(path: str, header_line: str) -> str:
    if path.lower().endswith(".tsv") or ("\t" in header_line and "," not in header_line):
        return "\t"
    if ";" in header_line and "," not in header_line:
        return ";"
    return ","


def _header(path: str, reader: Iterator[list[str]]) -> list[str]:
    header: list[str] = []
    for row in reader:
        if any(cell.strip() for cell in row):
            header = row
            break
    if not has_title_and_abstract(header):
        found = ", ".join(repr(h) for h in header) or "none"
        raise InputError(
            f"CSV header has no title and abstract columns (found: {found}).",
            path=path,
            hint="Name the columns 'title' and 'abstract' in the first row.",
        )
    return [canonical_key(h) for h in header]
