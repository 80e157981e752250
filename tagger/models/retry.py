"""What a failed model call was and what may be said about it: retryable or not, how long to
wait, which ModelError it becomes (the one place litellm/openai/instructor exceptions are mapped),
and redaction of credentials from anything shown or stored."""

from __future__ import annotations

import email.utils
import math
import os
import random
import re
import time
import urllib.parse
from collections.abc import Iterable
from typing import Any

from tagger.errors import (
    InvalidAnswerError,
    ModelAuthError,
    ModelError,
    ModelInputError,
    ModelRateLimitError,
    ModelRequestError,
    ModelTimeoutError,
    ModelTransportError,
)

MAX_RETRY_AFTER_S = 120.0
MAX_REASON_CHARS = 200
# Provider error bodies may echo credentials; these shapes are cut from failure messages.
_CREDENTIAL = re.compile(
    r"(?i)(bearer\s+|api[-_ ]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]{4,}|\bsk-[A-Za-z0-9_-]{8,}"
)
_SECRET_ENV_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "_SECRET_KEY", "_PASSWORD")
_SECRET_QUERY = re.compile(r"(?i)key|token|secret|passw|pwd|sig|auth|credential")
_PREFIX_CHARS = 8  # a run of a key's first 8+ characters is treated as the key
# litellm reports a missing key as an HTTP 500 from the OpenAI client; it is an auth problem.
_MISSING_KEY = re.compile(r"(?i)missing credentials|api_key client option must be set")


def is_retryable(exc: BaseException) -> bool:
    return issubclass(classify(exc), ModelTransportError)


def classify(exc: BaseException) -> type[ModelError]:
    """The ModelError subclass for a provider/transport exception (not instructor's wrapper)."""
    import openai

    if isinstance(exc, ModelError):
        return type(exc)
    if isinstance(exc, TimeoutError | openai.APITimeoutError):
        return ModelTimeoutError
    if isinstance(exc, openai.APIConnectionError) or _connection_failure(exc) is not None:
        return ModelTransportError
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        return ModelError
    if status in (401, 403) or _MISSING_KEY.search(str(exc)):
        return ModelAuthError
    if status == 429:
        return ModelRateLimitError
    if status >= 500:
        return ModelTransportError
    if _is_per_paper(exc):
        return ModelInputError
    return ModelRequestError if status >= 400 else ModelError


def _answer_problems(cause: BaseException) -> str:
    """What was wrong with the last answer, in tagger's words: 'tags.0: 'astrology' is not a
    tag of the taxonomy; summary: ...' rather than pydantic's dump of every allowed value."""
    from pydantic import ValidationError

    if not isinstance(cause, ValidationError):
        return " ".join(str(cause).strip().splitlines()[:4])
    said = []
    for error in cause.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "answer"
        if error["type"] == "literal_error":
            said.append(f"{where}: {error['input']!r} is not a tag of the taxonomy")
        else:
            said.append(f"{where}: {error['msg']}")
    more = len(cause.errors()) - len(said)
    return "; ".join(said) + (f" (and {more} more)" if more > 0 else "")


def _connection_failure(exc: BaseException) -> BaseException | None:
    """The transport error under litellm's wrapper: litellm files a refused or dropped
    connection as "InternalServerError ... 500", which no server ever said."""
    import httpx
    import openai

    chain: list[BaseException] = []
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(chain) < 8:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    found = [c for c in chain if isinstance(c, openai.APIConnectionError | httpx.TransportError)]
    if not found:
        return None
    transport = [c for c in found if isinstance(c, httpx.TransportError)]
    return (transport or found)[-1]  # the most specific one


def _is_per_paper(exc: BaseException) -> bool:
    """A 400 about this request's content, which another paper would not hit."""
    from litellm.exceptions import ContentPolicyViolationError, ContextWindowExceededError

    return isinstance(exc, ContextWindowExceededError | ContentPolicyViolationError)


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After: seconds or an HTTP date), if any;
    None (use the normal backoff) when the value is missing, unparseable or not finite."""
    headers: Any = getattr(getattr(exc, "response", None), "headers", None)
    headers = headers or getattr(exc, "litellm_response_headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (ValueError, TypeError, IndexError, OverflowError):
            return None
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


# For tests only: a fixed wait in seconds (0: none) between transport retries in place of the
# jittered backoff, so a test of retries does not sit through them. It is read at each wait, so
# the processes of `--workers` (which inherit the environment) honour it too. Retry-After is
# honoured either way; a value that is not a number is ignored.
BACKOFF_ENV = "TAGGER_RETRY_BACKOFF_S"


def backoff_s(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter (or TAGGER_RETRY_BACKOFF_S, where a test set it)."""
    fixed = os.environ.get(BACKOFF_ENV, "").strip()
    if fixed:
        try:
            wait = float(fixed)
        except ValueError:
            wait = math.nan
        if math.isfinite(wait):
            return min(max(wait, 0.0), cap)
    return float(random.uniform(0, min(cap, base * 2**attempt)))


def known_secrets(secrets: Iterable[str | None] = ()) -> list[str]:
    """The given secrets and key-like env values, longest first (so none is half-replaced)."""
    env = (v for k, v in os.environ.items() if k.upper().endswith(_SECRET_ENV_SUFFIXES))
    return sorted({s for s in (*secrets, *env) if s and len(s) >= 6}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with API keys removed: the given secrets (and runs of their first 8+ characters,
    as a cut or masked echo leaves), key-like env values, bearer tokens, sk-... keys."""
    for secret in known_secrets(secrets):
        text = text.replace(secret, "[redacted]")
        if len(secret) > _PREFIX_CHARS:
            text = _prefix_run(secret).sub("[redacted]", text)
    return _CREDENTIAL.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


def _prefix_run(secret: str) -> re.Pattern[str]:
    """Matches the secret's first 8 characters and as many of the following ones as agree."""
    head, rest = secret[:_PREFIX_CHARS], secret[_PREFIX_CHARS:]
    tail = "".join(f"(?:{re.escape(c)}" for c in rest) + ")?" * len(rest)
    return re.compile(re.escape(head) + tail)


def contains_secret(text: str, secrets: Iterable[str | None] = ()) -> bool:
    """Whether `text` holds one of the configured secrets (not merely a key-like shape)."""
    return any(secret in text for secret in known_secrets(secrets))


def redact_url(url: str | None) -> str | None:
    """`url` without user:password and with secret-looking query values replaced."""
    if not url:
        return url
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "[redacted]@" + netloc.rsplit("@", 1)[1]
    pairs = [p.split("=", 1) for p in parts.query.split("&")] if parts.query else []
    query = "&".join(
        f"{p[0]}=[redacted]" if len(p) == 2 and _SECRET_QUERY.search(p[0]) else redact("=".join(p))
        for p in pairs
    )
    path = redact(parts.path)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, path=path, query=query))


def url_secrets(url: str | None) -> list[str]:
    """The password and secret query values in `url`, to redact from error messages."""
    if not url:
        return []
    parts = urllib.parse.urlsplit(url)
    found = [parts.password or ""]
    for name, value in urllib.parse.parse_qsl(parts.query):
        if _SECRET_QUERY.search(name):
            found.append(value)
    return [s for s in found if s]


def shorten(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """One line of at most `limit` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:") + "…"


def failure(exc: BaseException, max_retries: int, secrets: Iterable[str | None]) -> ModelError:
    """The ModelError for a call that failed for good: its cause's class and one readable,
    redacted line (redacted before it is cut, so no cut can leave part of a key)."""
    from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

    cause = exc
    if isinstance(exc, InstructorRetryException) and exc.__cause__ is not None:
        cause = exc.__cause__
    kind = classify(cause)
    if isinstance(cause, IncompleteOutputException):
        kind = InvalidAnswerError
    if kind is ModelError and isinstance(exc, InstructorRetryException | ValueError):
        kind = InvalidAnswerError
    if kind is InvalidAnswerError and isinstance(exc, InstructorRetryException):
        detail = redact(_answer_problems(cause), secrets)
        text = f"invalid output after {max_retries + 1} attempts: {detail}"
        return kind(shorten(text, 2 * MAX_REASON_CHARS))
    transport = _connection_failure(cause)
    if transport is not None:  # what failed, not litellm's "HTTP 500"
        text = re.sub(r" ssl:<[^>]*>", "", str(transport)) or type(transport).__name__
        detail = redact(text, secrets)
        return kind(shorten(f"cannot reach the API ({type(transport).__name__}): {detail}"))
    status = getattr(cause, "status_code", None)
    prefix = f"HTTP {status}: " if isinstance(status, int) else ""
    return kind(shorten(f"{type(cause).__name__}: {prefix}{redact(str(cause), secrets)}"))
