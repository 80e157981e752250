"""A polite HTTP client for paper APIs: a minimum interval between requests, retries with
backoff on 429/5xx and connection errors (honouring Retry-After), and one-line errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tagger import __version__
from tagger.errors import TaggerError


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


USER_AGENT = f"tagger/{__version__} (research-paper digest; python-httpx)"
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 300.0


class FetchError(TaggerError):
    """A paper source could not be read (network, HTTP status, or a malformed answer)."""


@dataclass
class Http:
    """GET with a minimum gap between requests (arXiv asks for 3 s) and bounded retries.

    ``sleep`` and ``clock`` are injectable so tests never wait; ``transport`` lets a test hand
    httpx a mock, though the tests here use loopback servers.
    """

    interval_s: float = 0.0
    retries: int = 3
    backoff_s: float = 3.0
    timeout_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    transport: Any = None
    requests: int = 0
    _last: float | None = field(default=None, repr=False)

    def get(self, url: str, params: Mapping[str, str] | None = None) -> bytes:
        """The body of a 200 answer; anything else after the retries is a FetchError."""
        import httpx

        shown = str(httpx.URL(url, params=dict(params or {})))
        with httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=self.timeout_s,
            transport=self.transport,
            follow_redirects=True,
        ) as client:
            failure, tries = "no attempt made", 0
            for attempt in range(self.retries + 1):
                tries += 1
                self._wait()
                outcome, delay = self._attempt(client, url, params, attempt)
                if isinstance(outcome, bytes):
                    return outcome
                failure = outcome
                if attempt == self.retries or delay is None:
                    break
                self.sleep(delay)
        raise FetchError(
            f"GET {shown} failed ({plural(tries, 'attempt')}): {failure}.",
            hint="Check the network and the URL (--api-url, or api_url in daily.yaml), then "
            "run the same command again: "
            "papers already written are kept and not fetched twice.",
        )

    def _attempt(
        self, client: Any, url: str, params: Mapping[str, str] | None, attempt: int
    ) -> tuple[bytes | str, float | None]:
        """(body, None) on success, else (what failed, seconds to wait or None: do not retry)."""
        import httpx

        self.requests += 1
        try:
            response = client.get(url, params=params)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return f"not a URL it can fetch ({exc})", None  # the same next time: no retry
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}", self._backoff(attempt)
        finally:
            self._last = self.clock()
        if response.status_code == 200:
            return bytes(response.content), None
        reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        if response.status_code not in RETRY_STATUS:
            return reason, None
        return reason, _retry_after(response.headers.get("retry-after")) or self._backoff(attempt)

    def _wait(self) -> None:
        if self._last is None or self.interval_s <= 0:
            return
        left = self.interval_s - (self.clock() - self._last)
        if left > 0:
            self.sleep(left)

    def _backoff(self, attempt: int) -> float:
        return float(self.backoff_s * 2**attempt)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta form only), capped."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return min(seconds, MAX_RETRY_AFTER_S) if seconds is not None and seconds >= 0 else None
