"""Where fetched papers go: appended to OUT page by page, remembered in the state file.

A paper already in OUT or in the state is skipped, so an interrupted fetch run again continues
without duplicates, and a daily cron with --state fetches only papers it has not seen.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from tagger.atomic import check_output_path, is_stdout, write_atomic
from tagger.errors import OutputError
from tagger.fetch.records import FetchedPaper
from tagger.jsonio import load_state_file

_HINT = "Fix it, or move it away to fetch everything again."


class FetchState(BaseModel):
    """Stored as JSON: {"version": 1, "seen": {"<arXiv id>": "<date first fetched>"}}."""

    version: int = 1
    seen: dict[str, str] = Field(default_factory=dict)


@dataclass
class FetchResult:
    written: int = 0
    skipped_known: int = 0
    listed: int = 0


class Sink:
    """OUT is a regular file (a symlink is followed; a FIFO or device is refused before any
    request) or `-`, standard output (then only the state says what was fetched before)."""

    def __init__(self, out: Path, state: Path | None, today: str) -> None:
        self.to_stdout = is_stdout(out)
        self.out = out if self.to_stdout else check_output_path(out)
        self.state_path, self.today = state, today
        self.state = load_fetch_state(state) if state else FetchState()
        self.known = set(self.state.seen) | (set() if self.to_stdout else ids_in(self.out))
        self.result = FetchResult()

    def add(self, papers: Iterable[FetchedPaper]) -> None:
        """Append the new ones (one whole line each), then record them in the state."""
        fresh: list[FetchedPaper] = []
        for paper in papers:
            self.result.listed += 1
            if paper.arxiv_id in self.known:
                self.result.skipped_known += 1
                continue
            self.known.add(paper.arxiv_id)
            fresh.append(paper)
        if not fresh:
            return
        lines = "".join(p.model_dump_json() + "\n" for p in fresh)
        if self.to_stdout:
            sys.stdout.write(lines)
            sys.stdout.flush()
        else:
            _append(self.out, lines)
        self.result.written += len(fresh)
        if self.state_path is not None:
            self.state.seen.update({p.arxiv_id: self.today for p in fresh})
            write_atomic(self.state_path, self.state.model_dump_json(indent=1) + "\n")

    def touch(self) -> None:
        """An empty day still leaves an (empty) OUT, so the next step has a file to read."""
        if not self.to_stdout and not self.out.exists():
            _append(self.out, "")


def ids_in(out: Path) -> set[str]:
    """arXiv ids already in OUT; a cut-off last line (a crash mid-write) is dropped first."""
    try:
        data = out.read_bytes()
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise OutputError(f"cannot read ({exc.strerror}).", path=str(out)) from None
    if data and not data.endswith(b"\n"):
        with open(out, "r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
        data = data[: data.rfind(b"\n") + 1]
    ids: set[str] = set()
    for line in data.splitlines():
        try:
            ids.add(str(json.loads(line)["arxiv_id"]))
        except (ValueError, KeyError, TypeError, RecursionError):
            continue  # not a line fetch wrote: leave it, it cannot be a duplicate of ours
    return ids


def _append(out: Path, text: str) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise OutputError(
            f"cannot write fetched papers ({exc.strerror}); lines written before are intact.",
            path=str(out),
        ) from None


def load_fetch_state(path: Path) -> FetchState:
    return load_state_file(path, FetchState, "fetch state", _HINT)
