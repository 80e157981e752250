"""The SQLite history of runs and evals under $TAGGER_HOME (see docs/store.md)."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

from tagger.errors import ConfigError, TaggerError
from tagger.store.schema import migrate

STORE_ENV = "TAGGER_STORE"
BUSY_TIMEOUT_MS = 30_000  # a concurrent run holds the write lock for one short batch at a time


def store_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--store FILE, else $TAGGER_STORE, else $TAGGER_HOME/store.db."""
    from tagger.run.cache import tagger_home

    chosen = explicit or os.environ.get(STORE_ENV)
    return Path(chosen).expanduser() if chosen else tagger_home() / "store.db"


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (creating or migrating as needed) the store at `path`, WAL mode."""
    if not create and not path.exists():
        raise ConfigError(
            "no store here yet.", path=str(path), hint="Run `tagger run` or `tagger eval` first."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: consistent after a kill
        migrate(conn, str(path))
        mark_dead_runs(conn)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(
            f"cannot open the store ({exc}).",
            path=str(path),
            hint="Move it away to start a fresh one, or pass --no-store.",
        ) from None
    return conn


def not_recording(path: Path, exc: Exception) -> str:
    """The warning for a store that failed: the path once, then what went wrong and the hint."""
    if isinstance(exc, TaggerError):
        detail = f"{exc.message}{f' {exc.hint}' if exc.hint else ''}"
    else:
        detail = f"{exc}."
    return f"tagger: warning: not recording in the store {path}: {detail}"


def mark_dead_runs(conn: sqlite3.Connection) -> None:
    """Runs still 'running' whose process on this host is gone were killed: say so."""
    host = socket.gethostname()
    rows = conn.execute(
        "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (host,)
    ).fetchall()
    dead = [(row["id"],) for row in rows if not _alive(row["pid"])]
    if dead:
        conn.executemany("UPDATE runs SET status = 'interrupted' WHERE id = ?", dead)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True
