"""Crash-safe JSONL output (whole lines only) and the run manifest written beside it."""

from __future__ import annotations

import errno
import json
import os
import sys
import time
from pathlib import Path
from typing import BinaryIO

from tagger.atomic import check_output_path, is_stdout, write_atomic
from tagger.errors import OutputError
from tagger.records import RunManifest, TaggedPaper


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + ".run.json")


def lock_path(out: Path) -> Path:
    """Hidden, so `tagger run DIR` never reads it as input; beside the file OUT really is, so a
    symlink to OUT (or OUT named by another path) takes the same lock."""
    real = Path(os.path.realpath(out))
    return real.with_name(f".{real.name}.lock")


class OutputLock:
    """One writer per OUT: an exclusive flock on a lock file beside it, taken before OUT is read.

    The kernel drops a flock when its process dies, so a lock a kill -9 left behind blocks
    nothing; the pid inside is only for the message (written once the lock is held).
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        import fcntl  # POSIX only, like the worker processes

        path = lock_path(self.out)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(  # named as OUT: the lock file is an implementation detail
                f"cannot open output for writing ({exc.strerror}).", path=str(self.out)
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise OutputError(
                f"is being written by process {holder}.",
                path=str(self.out),
                hint="Wait for that run to end, or write to another -o.",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None


class JsonlWriter:
    """Appends one whole line per record, so a crash or a failed write leaves only whole lines.

    Unbuffered binary writes: nothing is left in a buffer for close() to fail on, and a write
    that fails half-way (disk full, file size limit) is cut back to the last whole line.
    """

    def __init__(self, path: Path, *, append: bool, sync_every_s: float = 1.0) -> None:
        self.path = path
        # fsync by time, not by line count: a fast cached rerun would otherwise sync 40x a second.
        self.sync_every_s = sync_every_s
        self._synced_at = time.monotonic()
        self._stdout = is_stdout(path)
        if self._stdout:  # `-o -`: lines go out as they finish; nothing to sync or cut back
            sys.stdout.flush()
            self._file: BinaryIO = sys.stdout.buffer
            self._good = 0
            return
        target = check_output_path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._file = target.open("ab" if append else "wb", buffering=0)
            self._good = self._file.tell() if self._file.seekable() else 0  # end of last line
        except OSError as exc:
            raise OutputError(
                f"cannot open output for writing ({exc.strerror}).", path=str(path)
            ) from None

    def write(self, record: TaggedPaper) -> str:
        """Append the record's line; the line's JSON (without the newline), for the store."""
        text = record.model_dump_json(exclude_none=False)
        line = (text + "\n").encode("utf-8")
        try:
            self._write_all(line)
            if self._stdout:
                self._file.flush()
                return text
            if time.monotonic() - self._synced_at >= self.sync_every_s:
                _sync(self._file)
                self._synced_at = time.monotonic()
        except OSError as exc:
            self._cut_back()
            raise OutputError(
                f"writing output failed ({exc.strerror}); lines written before are intact.",
                path=str(self.path),
                hint="Free space or fix permissions, then rerun with --resume.",
            ) from None
        self._good += len(line)
        return text

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._file.write(view) or 0 :]

    def _cut_back(self) -> None:
        """Drop a partly written line so OUT still ends on a whole line."""
        try:
            os.ftruncate(self._file.fileno(), self._good)
        except OSError:
            pass  # e.g. a device such as /dev/full: nothing to cut

    def close(self) -> None:
        if self._stdout:
            self._file.flush()  # never close the process's stdout
            return
        try:
            _sync(self._file)
        except OSError:
            pass
        finally:
            self._file.close()


def _sync(file: BinaryIO) -> None:
    """fsync, except where the output cannot be synced at all (a pipe, /dev/stdout)."""
    try:
        os.fsync(file.fileno())
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise


def read_done(path: Path) -> tuple[dict[str, TaggedPaper], int]:
    """Records already in OUT (for --resume), and the byte length of its whole lines.

    A torn last line (a crash mid-write) is ignored; the caller truncates the file to the
    returned length before appending. A broken line with whole lines after it is not a crash:
    it is an error, because truncating there would throw the later lines away.
    """
    done: dict[str, TaggedPaper] = {}
    good_bytes = 0
    if not path.exists():
        return done, 0
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            if not raw.endswith(b"\n"):
                break
            if raw.strip():
                record = _parse_line(raw, path, number)
                done[record.id] = record
            good_bytes += len(raw)
    return done, good_bytes


def _parse_line(raw: bytes, path: Path, number: int) -> TaggedPaper:
    try:
        return TaggedPaper.model_validate_json(raw)
    except ValueError:
        raise OutputError(
            "this line is not a tagger output record, so --resume cannot continue the file.",
            path=str(path),
            line=number,
            hint="Delete or fix that line, or start over with --overwrite.",
        ) from None


def rewrite_without(path: Path, drop_ids: set[str], keep_bytes: int) -> None:
    """Atomically rewrite OUT keeping whole lines whose id is not in drop_ids (--retry-failed)."""
    path = check_output_path(path)  # through a symlink, never replacing it
    tmp = path.with_name(path.name + ".tmp")
    try:
        with path.open("rb") as src, tmp.open("wb") as dst:
            data = src.read(keep_bytes)
            for raw in data.splitlines(keepends=True):
                # read_done already parsed every non-blank line; blank ones are dropped
                if raw.strip() and json.loads(raw).get("id") not in drop_ids:
                    dst.write(raw)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot rewrite output ({exc.strerror}).", path=str(path)) from None


def truncate_to(path: Path, length: int) -> None:
    if path.exists() and path.stat().st_size != length:
        with path.open("r+b") as file:
            file.truncate(length)


def write_manifest(manifest: RunManifest, out: Path) -> Path:
    """Atomic write (temp file + rename) so a reader never sees half a manifest."""
    target = manifest_path(out)
    write_atomic(target, manifest.model_dump_json(indent=2) + "\n")
    return target
