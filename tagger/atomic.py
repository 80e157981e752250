"""Write a file so that readers see the old content or the new one, never half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tagger.errors import OutputError


def write_atomic(path: str | Path, text: str) -> None:
    """Temp file in the same directory, fsync, then os.replace over the target."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write ({exc.strerror or exc}).", path=str(target)) from None
    try:
        # mkstemp makes the file 0600; give it the mode a plain open() would have.
        os.chmod(temp, _mode_for(target))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise OutputError(f"cannot write ({exc.strerror or exc}).", path=str(target)) from None


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
