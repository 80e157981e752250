"""The digest's other source and state: papers from the run history, sent ids in the store.

`tagger digest --from-store --since DATE` reads the latest answer of every paper dated on or
after DATE; `--exclude-sent store` keeps the sent ids in the store's `digest_sent` table."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from tagger.digest.load import LoadedRuns
from tagger.digest.state import SentState
from tagger.records import TaggedPaper
from tagger.store import connect, store_path
from tagger.store.queries import PaperFilter, latest_papers

STATE_IN_STORE = "store"  # --exclude-sent store (a file named "store": pass ./store)


def state_in_store(state: Path | None) -> bool:
    return state is not None and str(state) == STATE_IN_STORE


def load_from_store(store_file: Path | None, since: str | None) -> LoadedRuns:
    """The ok papers in the store (latest answer each), newest paper date first."""
    with contextlib.closing(connect(store_path(store_file), create=False)) as conn:
        lines = latest_papers(conn, PaperFilter(since=since))
    loaded = LoadedRuns()
    for line in lines:
        record = TaggedPaper.model_validate_json(line)
        if record.status == "ok":
            loaded.papers.append(record)
        else:
            loaded.failed += 1
    return loaded


def load_sent(store_file: Path | None) -> SentState:
    with contextlib.closing(connect(store_path(store_file))) as conn:
        rows = conn.execute("SELECT paper_id, sent_on FROM digest_sent")
        return SentState(sent={str(pid): str(day) for pid, day in rows})


def save_sent(store_file: Path | None, ids: Iterable[str], day: str) -> None:
    """Add `ids` as sent on `day`; an id keeps the day it was first sent."""
    with contextlib.closing(connect(store_path(store_file))) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT OR IGNORE INTO digest_sent (paper_id, sent_on) VALUES (?, ?)",
            [(i, day) for i in ids],
        )
        conn.execute("COMMIT")
