"""What may enter the store: a command line and URLs without keys or tokens."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

_SECRET_FLAGS = ("--api-key",)
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+")


def clean_url(url: str | None) -> str | None:
    """`url` without a query string, fragment or user:password part."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[redacted]"
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    if not parts.scheme:
        return url.split("?", 1)[0]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def clean_command(argv: Sequence[str]) -> str:
    """The command line for the store: --api-key values, URL credentials/queries and key-like
    environment values replaced."""
    from tagger.models.retry import redact

    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append("[redacted]")
            hide_next = False
        elif arg in _SECRET_FLAGS:
            out.append(arg)
            hide_next = True
        elif arg.startswith(tuple(f"{flag}=" for flag in _SECRET_FLAGS)):
            out.append(arg.split("=", 1)[0] + "=[redacted]")
        else:
            out.append(_URL.sub(lambda m: clean_url(m.group(0)) or "", arg))
    return redact(shlex.join(out))
