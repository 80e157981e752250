"""Read the JSONL files `tagger run` wrote: skip failed records, merge repeats across files."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from tagger.errors import InputError
from tagger.records import TaggedPaper

_HINT = "Pass the JSONL file that `tagger run -o FILE` wrote."


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


def read_run_file(path: str | Path) -> Iterator[TaggedPaper]:
    """Yield each record; a bad line stops with an InputError naming the file and line."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    yield _parse_line(raw, name, number)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot read run file ({reason}).", path=name, hint=_HINT) from None


def _parse_line(raw: bytes, name: str, number: int) -> TaggedPaper:
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("line is not UTF-8 text.", path=name, line=number, hint=_HINT) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"line is not valid JSON ({exc.msg}).", path=name, line=number, hint=_HINT
        ) from None
    try:
        return TaggedPaper.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise InputError(
            f"line is not a tagged-paper record ({where}: {first['msg']}).",
            path=name,
            line=number,
            hint=_HINT,
        ) from None
