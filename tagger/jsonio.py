"""Parse one JSON line from a file a user or an earlier run wrote; never a traceback."""

from __future__ import annotations

import json
import re
from typing import Any

from tagger.errors import InputError

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
    return _SURROGATE.search(text) is not None


def replace_surrogates(text: str) -> str:
    """Lone surrogates (from JSON escapes like \\ud83d) cannot be encoded: make them U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)
