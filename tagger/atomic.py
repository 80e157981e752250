"""Write a file so that readers see the old content or the new one, never half of it."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from tagger.errors import OutputError

STDOUT = "-"


def is_stdout(path: str | Path) -> bool:
    """`-o -` means standard output, never a file named '-'."""
    return str(path) == STDOUT


def check_output_path(path: str | Path) -> Path:
    """The regular file an `-o` writes: a symlink is written through to its target; a device,
    FIFO or socket is refused (rename would replace it, open could block): use `-o -`."""
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()  # a dangling link: its target is created
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"cannot write ({exc.strerror or exc}).", path=str(path)) from None
    if stat.S_ISDIR(mode):
        raise OutputError("is a directory.", path=str(path), hint="Pass a file, e.g. out.jsonl.")
    if not stat.S_ISREG(mode):
        raise OutputError(
            "is not a regular file (a device, FIFO or socket); tagger writes only files.",
            path=str(path),
            hint="Use -o - to write to standard output.",
        )
    return target


def write_output(path: str | Path, text: str) -> None:
    """What every command's `-o` does: `-` is stdout, anything else an atomic file write."""
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_atomic(path, text)


def write_atomic(path: str | Path, text: str | Iterable[str]) -> None:
    """Temp file in the same directory, fsync, then os.replace over the target: a reader or a
    crash never sees half a file. `text` may be pieces, written as they come (a large output
    streams without being joined in memory). The one atomic writer of every `-o`."""
    target = check_output_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write ({exc.strerror or exc}).", path=str(target)) from None
    try:
        # mkstemp makes the file 0600; give it the mode a plain open() would have.
        os.chmod(temp, _mode_for(target))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.writelines([text] if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write ({exc.strerror or exc}).", path=str(target)) from None
        raise


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
