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


def read(path: str, on_warning: OnWarning) -> Iterator[RawRecord]:
    first = first_content_line(path)
    lines = (text + "\n" for _, text in read_lines(path))
    reader = csv.reader(lines, delimiter=_delimiter(path, first[1] if first else ""))
    header = _header(path, reader)
    start = reader.line_num + 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield raw_from_mapping(dict(zip(header, row, strict=False)), path, start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"is not valid CSV ({exc}).", path=path, line=start) from None


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
