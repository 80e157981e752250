"""A live progress bar on stderr for a terminal (rate, ETA, cache hits, failures).

Quiet when stderr is not a terminal (piped or redirected).
"""

from __future__ import annotations

import sys
from typing import Any


class BarProgress:
    def __init__(self, description: str = "tagging") -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("cached {task.fields[cached]} · failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._description = description
        self._task: Any = None
        self._cached = 0
        self._failed = 0

    def start(self, total: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task(
            self._description, total=total, cached=0, failed=0, rate=""
        )

    def advance(self, *, cached: bool = False, failed: bool = False) -> None:
        self._cached += int(cached)
        self._failed += int(failed)
        task = self._progress.tasks[0]
        elapsed = task.elapsed or 0.0
        # papers/s over the whole run: steadier than a short window when answers come in batches
        rate = f"{(task.completed + 1) / elapsed:.1f}/s" if elapsed > 0 else ""
        self._progress.update(
            self._task, advance=1, cached=self._cached, failed=self._failed, rate=rate
        )

    def close(self) -> None:
        self._progress.stop()


def progress_for_stderr(enabled: bool | None = None) -> Any:
    """A bar when stderr is a terminal (or forced on); otherwise silence."""
    from tagger.run.settings import NoProgress

    if enabled is None:
        enabled = sys.stderr.isatty()
    return BarProgress() if enabled else NoProgress()
