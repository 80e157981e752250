"""Which format a file is in, from its name and first non-blank line."""

from __future__ import annotations

import os

from tagger.errors import InputError
from tagger.ingest import csv as csv_format
from tagger.jsonio import parse_json_line

FORMATS = ("auto", "dailypapers", "jsonl", "csv", "arxiv")
# Keys every arXiv snapshot line has and ordinary JSON-lines exports rarely do.
_ARXIV_MARKERS = ("versions", "update_date", "authors_parsed")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(
            f"Unknown input format {fmt!r}.", hint=f"Use one of: {', '.join(FORMATS)}."
        )
    return fmt


def detect_format(path: str, first_line: str) -> str:
    """'arxiv', 'jsonl', 'csv' or 'dailypapers' (the fallback for plain text)."""
    head = first_line.strip()
    extension = os.path.splitext(path)[1].lower()
    if head == "[" or head.startswith("[{") or (extension == ".json" and head.startswith("[")):
        raise InputError(
            "holds a JSON array; tagger reads JSON lines (one object per line).",
            path=path,
            hint=f"Convert it with: jq -c '.[]' {path} > papers.jsonl",
        )
    if head.startswith("{") or extension in (".jsonl", ".ndjson"):
        return _json_kind(head)
    if extension in (".csv", ".tsv"):
        return "csv"
    if extension not in (".txt", ".md") and csv_format.has_title_and_abstract(
        csv_format.split_header(head, path)
    ):
        return "csv"
    return "dailypapers"


def _json_kind(head: str) -> str:
    try:
        obj = parse_json_line(head, path="", line=0)
    except InputError:
        return "jsonl"  # the reader reports the bad line with its number
    if isinstance(obj, dict) and "id" in obj and any(k in obj for k in _ARXIV_MARKERS):
        return "arxiv"
    return "jsonl"
