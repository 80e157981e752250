"""Records by index for dedup: held in memory up to a budget, the rest spilled to a temporary
file (TAGGER_DEDUP_MEMORY_MB, TMPDIR)."""

from __future__ import annotations

import os
import pickle
import tempfile
from array import array
from typing import Any

from tagger.errors import ConfigError, OutputError
from tagger.records import Paper

DEFAULT_MEMORY_MB = 16.0  # records held as objects before dedup spills the rest to disk


class Spill:
    """Records by index: the first ones held as objects while they fit `memory_bytes`, the rest
    appended to a temporary file (pickles) and read back on demand. Small inputs never touch
    the disk (pickling costs ~0.08 ms a record); large ones stay within the budget."""

    _FLUSH = 1 << 20

    def __init__(self, memory_bytes: int) -> None:
        self._held: list[Paper] = []
        self._budget = memory_bytes
        self._file: Any = None
        self._offsets = array("q", [0])  # spilled record i is bytes offsets[i]:offsets[i + 1]
        self._flushed = 0
        self._buffer = bytearray()

    def __len__(self) -> int:
        return len(self._held) + len(self._offsets) - 1

    def append(self, paper: Paper) -> None:
        if len(self._offsets) == 1 and self._budget > 0:
            self._held.append(paper)
            self._budget -= _approx_bytes(paper)
            return
        self._buffer += pickle.dumps(paper, protocol=pickle.HIGHEST_PROTOCOL)
        self._offsets.append(self._flushed + len(self._buffer))
        if len(self._buffer) >= self._FLUSH:
            self._flush()

    def __getitem__(self, index: int) -> Paper:
        if index < len(self._held):
            return self._held[index]
        index -= len(self._held)
        start, end = self._offsets[index], self._offsets[index + 1]
        if start >= self._flushed:  # still in the buffer (a record is never split)
            data = bytes(self._buffer[start - self._flushed : end - self._flushed])
        else:
            self._file.seek(start)
            data = self._file.read(end - start)
        paper: Paper = pickle.loads(data)
        return paper

    def _flush(self) -> None:
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="tagger-dedup-")
            self._file.seek(self._flushed)
            self._file.write(self._buffer)
        except OSError as exc:
            raise OutputError(
                f"cannot spill records to a temporary file ({exc.strerror or exc}).",
                hint="Set TMPDIR to a folder with room (about 2 KB a record).",
            ) from None
        self._flushed += len(self._buffer)
        self._buffer = bytearray()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._held, self._buffer = [], bytearray()


def _approx_bytes(paper: Paper) -> int:
    """What a held record costs in memory, roughly: its text (twice: its matching form is kept
    too) plus the objects around it."""
    text = 2 * (len(paper.title) + len(paper.abstract)) + sum(len(a) for a in paper.authors)
    return 1200 + text


def memory_budget() -> int:
    """Bytes of records dedup holds in memory before spilling: TAGGER_DEDUP_MEMORY_MB (16)."""
    raw = os.environ.get("TAGGER_DEDUP_MEMORY_MB", "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_MEMORY_MB
    except ValueError:
        raise ConfigError(
            f"TAGGER_DEDUP_MEMORY_MB must be a number of megabytes, not '{raw}'."
        ) from None
    return max(int(megabytes * 2**20), 0)
