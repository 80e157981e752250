"""Parse one JSON line from a file a user or an earlier run wrote; never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from tagger.errors import InputError

M = TypeVar("M", bound=BaseModel)

# One record line longer than this is refused before parsing (a 200 MB line peaked at 3.85 GB).
MAX_LINE_BYTES = 10 * 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json_line(text: str | bytes, *, path: str, line: int, what: str = "JSON") -> Any:
    """json.loads with tagger's limits, raising InputError(path, line) for every bad input:
    over MAX_LINE_BYTES, invalid JSON, nesting too deep, integers past Python's digit limit."""
    if len(text) > MAX_LINE_BYTES:
        raise InputError(
            f"line is longer than {MAX_LINE_BYTES // (1024 * 1024)} MB.",
            path=path,
            line=line,
            hint="Split the record or remove the oversized field.",
        )
    try:
        return json.loads(text)
    except RecursionError:
        problem = "nested too deeply"
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg} (column {exc.colno})"
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string"
        problem = str(exc).split(";")[0]
    except UnicodeDecodeError:
        problem = "not UTF-8"
    raise InputError(f"invalid {what}: {problem}.", path=path, line=line, hint="Fix that line.")


def has_surrogates(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def replace_surrogates(text: str) -> str:
    """Lone surrogates (from JSON escapes like \\ud83d) cannot be encoded: make them U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def load_state_file(path: str | Path, model: type[M], what: str, hint: str) -> M:
    """A small JSON state file (a digest's sent ids, fetch's seen ids) as `model`; a missing
    file is the empty state; anything unreadable is one InputError naming `what` and the line."""
    from pydantic import ValidationError

    from tagger.errors import first_problem

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return model()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the {what} ({exc}).", path=str(file)) from None
    try:
        return model.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the {what} is not valid JSON ({exc.msg}).", path=str(file), line=exc.lineno, hint=hint
        ) from None
    except (ValidationError, RecursionError, ValueError) as exc:
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        if isinstance(exc, ValidationError):
            where, first = first_problem(exc, "file")
            problem = f"{where}: {first['msg']}"
        raise InputError(
            f"the {what} is malformed ({problem}).", path=str(file), hint=hint
        ) from None
