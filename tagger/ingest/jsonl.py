"""JSON lines: one object per line with title/abstract keys (any case), plus optional metadata."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tagger.errors import InputError
from tagger.ingest.files import read_lines
from tagger.ingest.record import OnWarning, RawRecord, raw_from_mapping
from tagger.jsonio import parse_json_line


@dataclass(frozen=True)
class BadLine:
    path: str
    line: int
    problem: str


def read(path: str, on_warning: OnWarning) -> Iterator[RawRecord]:
    for line, obj in iter_objects(path):
        yield raw_from_mapping(obj, path, line) if isinstance(obj, dict) else unreadable(obj)


def unreadable(bad: BadLine) -> RawRecord:
    """A line that held no record: build_paper warns about it and ingest counts it as skipped."""
    return RawRecord(path=bad.path, line=bad.line, problem=bad.problem)


def iter_objects(path: str) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """(line number, object) per line; a bad line comes as a BadLine, unless it is the first.

    A first line that is not a JSON object means the file is not JSON lines at all: one error
    beats a warning for every line.
    """
    seen_object = False
    for line, text in read_lines(path):
        if not text.strip():
            continue
        obj, problem = _parse(text, path, line)
        if obj is not None:
            seen_object = True
            yield line, obj
        elif not seen_object:
            raise InputError(
                f"{problem}, so this is not a JSON-lines file.",
                path=path,
                line=line,
                hint="Fix the line, or pass --format if the file is another kind.",
            )
        else:
            yield line, BadLine(path, line, problem)


def _parse(text: str, path: str, line: int) -> tuple[dict[str, Any] | None, str]:
    try:
        value = parse_json_line(text, path=path, line=line)
    except InputError as exc:  # bad JSON, nesting too deep, a number with too many digits
        return None, f"line is not valid JSON ({exc.message.removeprefix('invalid JSON: ')[:-1]})"
    if not isinstance(value, dict):
        return None, f"line is a JSON {type(value).__name__}, not an object"
    return value, ""
