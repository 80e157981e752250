"""When a run should stop instead of spending more on a setup that does not work."""

from __future__ import annotations

from collections import deque

from tagger.errors import ModelError

FIRST_CALLS = 20  # the first 20 papers all failed: the setup, not the papers, is wrong
WINDOW = 100  # more than half of any 100 consecutive papers failed


class FailureBudget:
    """Counts answered and failed papers; `record` returns why the run must stop, or None.

    A cause the next call cannot fix (`ModelError.stops_run`: a wrong key, a model that does not
    exist) stops at once. Otherwise, with `max_failures` N the run stops at the Nth failed paper;
    without it, when the first 20 all failed or more than half of any 100 in a row failed."""

    def __init__(self, max_failures: int | None = None) -> None:
        self.max_failures = max_failures
        self.failed = 0
        self.seen = 0
        self._recent: deque[bool] = deque(maxlen=WINDOW)

    def record(self, error: ModelError | None) -> str | None:
        self.seen += 1
        self._recent.append(error is not None)
        if error is None:
            return None
        self.failed += 1
        if error.stops_run:
            return f"{error.message} (the next calls would fail the same way)"
        return self._exhausted()

    def _exhausted(self) -> str | None:
        if self.max_failures is not None:
            if self.failed >= self.max_failures:
                return f"{self.failed} papers failed (--max-failures {self.max_failures})"
            return None
        if self.seen == self.failed == FIRST_CALLS:
            return f"the first {FIRST_CALLS} papers all failed (--max-failures N changes this)"
        if sum(self._recent) > WINDOW // 2:
            return (
                f"{sum(self._recent)} of the last {len(self._recent)} papers failed "
                "(--max-failures N changes this)"
            )
        return None
