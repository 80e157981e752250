"""Reading run files (OUT) back: each line one validated TaggedPaper, or one InputError line.

The digest, `tagger eval --predictions` and `tagger train --labels` all read OUT through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tagger.errors import InputError, first_problem
from tagger.jsonio import parse_json_line, replace_surrogates
from tagger.records import TaggedPaper

_HINT = "Pass the JSONL file that `tagger run -o FILE` wrote."


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
        data = parse_json_line(raw.decode("utf-8"), path=name, line=number)
    except UnicodeDecodeError:
        raise InputError("line is not UTF-8 text.", path=name, line=number, hint=_HINT) from None
    except InputError as exc:  # bad JSON, too long, nested too deep, too many digits
        detail = exc.message.removeprefix("invalid JSON: ")[:-1]
        raise InputError(
            f"line is not valid JSON ({detail}).", path=name, line=number, hint=_HINT
        ) from None
    try:
        return TaggedPaper.model_validate(_clean_surrogates(data))
    except ValidationError as exc:
        where, first = first_problem(exc, "record")
        raise InputError(
            f"line is not a tagged-paper record ({where}: {first['msg']}).",
            path=name,
            line=number,
            hint=_HINT,
        ) from None


def _clean_surrogates(value: Any) -> Any:
    """Lone surrogates (JSON escapes like \\ud83d) cannot be written out: make them U+FFFD."""
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, list):
        return [_clean_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean_surrogates(v) for k, v in value.items()}
    return value
