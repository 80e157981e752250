"""Recording into the store: a run's invocation and answers (batched), an eval's scores."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from tagger.errors import TaggerError
from tagger.records import Paper, RunManifest, TaggedPaper
from tagger.store import connect, not_recording
from tagger.store.redact import clean_command, clean_url

RAW_RESPONSE_LIMIT = 64 * 1024  # characters of a live answer's raw text kept for inspection
FLUSH_EVERY = 500  # records per transaction ...
FLUSH_SECONDS = 1.0  # ... or this long, whichever comes first


def paper_key(paper: Paper) -> str:
    """One identity per paper across runs: its arXiv id, else its normalized title."""
    if paper.arxiv_id:
        return f"arxiv:{paper.arxiv_id}"
    digest = hashlib.sha256(paper.matching[0].encode("utf-8")).hexdigest()
    return f"title:{digest[:20]}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunRecorder:
    """The run loop's one sink into the store: start(), add() per OUT line, finish().

    A store that fails (locked too long, disk full) costs a warning, never the run."""

    def __init__(
        self,
        path: Path,
        argv: Sequence[str] | None = None,
        *,
        warn: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.path = path
        self.argv = list(sys.argv[1:] if argv is None else argv)
        self.warn = warn
        self.run_id: int | None = None
        self._conn: sqlite3.Connection | None = None
        self._pending: list[Pending] = []
        self._flushed_at = time.monotonic()
        self._seq = 0

    def start(self, manifest: RunManifest, prompt_hash: str | None = None) -> None:
        try:
            self._conn = connect(self.path)
            self.run_id = insert_run(self._conn, "run", self.argv, manifest, prompt_hash)
        except (sqlite3.Error, TaggerError) as exc:
            self._give_up(exc)

    def add(
        self, paper: Paper, record: TaggedPaper, raw: str | None = None, line: str | None = None
    ) -> None:
        """Queue one OUT line: `line` is its JSON as written (made again from `record` if None)."""
        if self._conn is None:
            return
        self._pending.append((paper, record, raw, line))
        elapsed = time.monotonic() - self._flushed_at
        if len(self._pending) >= FLUSH_EVERY or elapsed >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._conn is None or self.run_id is None:
            return
        batch, self._pending = self._pending, []
        self._flushed_at = time.monotonic()
        if not batch:
            return
        try:
            with _transaction(self._conn):
                _insert_batch(self._conn, self.run_id, self._seq, batch)
            self._seq += len(batch)
        except sqlite3.Error as exc:
            self._give_up(exc)

    def finish(self, manifest: RunManifest) -> None:
        self.flush()
        if self._conn is None or self.run_id is None:
            return
        status = "interrupted" if manifest.interrupted else "completed"
        try:
            finish_run(self._conn, self.run_id, manifest, status)
        except sqlite3.Error as exc:
            self._give_up(exc)
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _give_up(self, exc: Exception) -> None:
        self.warn(not_recording(self.path, exc))
        self.close()


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): waits for a concurrent writer up front."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: object, *_: object) -> None:
        self.conn.execute("ROLLBACK" if kind else "COMMIT")


def insert_run(
    conn: sqlite3.Connection,
    kind: str,
    argv: Sequence[str],
    manifest: RunManifest,
    prompt_hash: str | None,
) -> int:
    cursor = conn.execute(
        "INSERT INTO runs (kind, status, started_at, command, model, api_base, prompt,"
        " prompt_hash, taxonomy, taxonomy_hash, tagger_version, output, pid, host)"
        " VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            kind,
            manifest.started_at,
            clean_command(["tagger", *argv]),
            manifest.model,
            clean_url(manifest.api_base),
            manifest.prompt,
            prompt_hash,
            manifest.taxonomy,
            manifest.taxonomy_hash,
            manifest.tagger_version,
            manifest.output if manifest.output == "-" else os.path.abspath(manifest.output),
            os.getpid(),
            socket.gethostname(),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def finish_run(conn: sqlite3.Connection, run_id: int, manifest: RunManifest, status: str) -> None:
    c, u = manifest.counts, manifest.usage
    clean = manifest.model_copy(update={"api_base": clean_url(manifest.api_base)})
    conn.execute(
        "UPDATE runs SET status = ?, finished_at = ?, input_count = ?, unique_count = ?,"
        " tagged = ?, cached = ?, failed = ?, skipped_resume = ?, prompt_tokens = ?,"
        " completion_tokens = ?, cost_usd = ?, calls = ?, wall_time_s = ?, manifest = ?"
        " WHERE id = ?",
        (
            status,
            manifest.finished_at or now(),
            c.input,
            c.unique,
            c.tagged,
            c.cached,
            c.failed,
            c.skipped_resume,
            u.prompt_tokens,
            u.completion_tokens,
            u.cost_usd,
            u.calls,
            manifest.wall_time_s,
            clean.model_dump_json(),
            run_id,
        ),
    )


Pending = tuple[Paper, TaggedPaper, str | None, str | None]  # paper, record, raw, line
_Stored = tuple[int, str | None]  # a stored paper's number and text hash (None: not known)
# a latest_answers row: paper_key, run_id, seq, status, tags, last_seen, paper_no, text_hash
_Latest = tuple[str, int, int, str, str, str, int, str | None]


def _insert_batch(conn: sqlite3.Connection, run_id: int, seq: int, batch: list[Pending]) -> None:
    """One transaction's worth: papers inserted or updated (with their full-text entry) only
    when their text or summary changed, as it does not on a cached rerun; answers inserted; the
    latest answer of each paper moved on and its tags rewritten only where they changed."""
    seen = now()
    keys = [paper_key(paper) for paper, _, _, _ in batch]
    stored, latest = _stored_papers(conn, set(keys))
    kept = _kept_summaries(conn, batch, keys, stored)
    answers: list[tuple[object, ...]] = []
    tags_changed: dict[str, str] = {}
    for number, ((paper, record, raw, line), key) in enumerate(
        zip(batch, keys, strict=True), seq + 1
    ):
        old = stored.get(key)
        summary = record.summary if record.status == "ok" else kept.get(key)
        text = _text_hash(paper, summary)
        if old is None or old[1] != text:
            stored[key] = old = (_write_paper(conn, key, paper, summary, seen, old), text)
            kept[key] = summary
        row = _answer_row(run_id, number, key, old[0], record, raw, line)
        answers.append(row)
        was = latest.get(key)
        if was is None or record.status == "ok" or was[3] != "ok":
            tags = str(row[5])
            latest[key] = (key, run_id, number, record.status, tags, seen, old[0], text)
            if was is None or was[4] != tags:
                tags_changed[key] = tags
        else:  # a failure never replaces a success, but the paper was seen
            latest[key] = (*was[:5], seen, old[0], text)
    conn.executemany(
        "INSERT INTO answers (run_id, seq, paper_key, paper_no, paper_id, tags, summary, status,"
        " error, cached, model, prompt, prompt_tokens, completion_tokens, cost_usd, latency_s,"
        " raw_response, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        answers,
    )
    conn.executemany(
        "INSERT OR REPLACE INTO latest_answers (paper_key, run_id, seq, status, tags, last_seen,"
        " paper_no, text_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [latest[key] for key in dict.fromkeys(keys)],
    )
    if tags_changed:
        conn.executemany(
            "DELETE FROM paper_tags WHERE paper_key = ?", [(key,) for key in tags_changed]
        )
        conn.executemany(
            "INSERT OR IGNORE INTO paper_tags SELECT value, ? FROM json_each(?)",
            list(tags_changed.items()),
        )


def _text_hash(paper: Paper, summary: str | None) -> str:
    """What the papers row holds of this paper (title, abstract, summary, date, url), as its
    CRC-32 and length: it only tells a rerun whether to rewrite the row (a changed text that
    kept both, a 1 in 4 billion chance, leaves the row as it was), and a cryptographic hash of
    ~1.5 KB cost 4x as much on every answer."""
    none = "\x00"  # None and "" differ
    text = "\x1f".join(
        (
            paper.title,
            paper.abstract,
            none if summary is None else summary,
            none if paper.date is None else paper.date,
            none if paper.url is None else paper.url,
        )
    )
    data = text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}.{len(data)}"


def _plain(conn: sqlite3.Connection) -> sqlite3.Cursor:
    cursor = conn.cursor()
    cursor.row_factory = None  # tuples: sqlite3.Row costs a microsecond a row
    return cursor


def _stored_papers(
    conn: sqlite3.Connection, keys: set[str]
) -> tuple[dict[str, _Stored], dict[str, _Latest]]:
    """The stored papers among `keys` (number, text hash) and their latest answers, from the
    narrow latest_answers rows; the wide papers rows only for papers without one."""
    stored: dict[str, _Stored] = {}
    latest: dict[str, _Latest] = {}
    marks = ",".join("?" * len(keys))
    for row in _plain(conn).execute(
        "SELECT paper_key, run_id, seq, status, tags, last_seen, paper_no, text_hash"
        f" FROM latest_answers WHERE paper_key IN ({marks})",
        list(keys),
    ):
        latest[row[0]] = row
        if row[6] is not None:
            stored[row[0]] = (row[6], row[7])
    if len(stored) < len(keys):  # new papers (or ones a migrated store did not number)
        missing = [key for key in keys if key not in stored]
        marks = ",".join("?" * len(missing))
        sql = f"SELECT paper_key, paper_no FROM papers WHERE paper_key IN ({marks})"
        for key, paper_no in _plain(conn).execute(sql, missing):
            stored[key] = (paper_no, None)
    return stored, latest


def _kept_summaries(
    conn: sqlite3.Connection, batch: list[Pending], keys: list[str], stored: dict[str, _Stored]
) -> dict[str, str | None]:
    """The stored summary of each stored paper this batch has a failure for (a failure keeps
    the paper's last successful summary)."""
    failed = {k for (_, record, _, _), k in zip(batch, keys, strict=True) if record.status != "ok"}
    wanted = [key for key in failed if key in stored]
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    sql = f"SELECT paper_key, summary FROM papers WHERE paper_key IN ({marks})"
    return dict(_plain(conn).execute(sql, wanted))


def _write_paper(
    conn: sqlite3.Connection,
    key: str,
    paper: Paper,
    summary: str | None,
    seen: str,
    old: _Stored | None,
) -> int:
    """Insert or update the paper row and its full-text entry; its paper_no."""
    fields = (
        paper.id,
        paper.arxiv_id,
        paper.title,
        paper.abstract,
        paper.date,
        paper.url,
        json.dumps(list(paper.authors)),
        summary,
    )
    if old is None:
        cursor = conn.execute(
            "INSERT INTO papers (id, arxiv_id, title, abstract, date, url, authors, summary,"
            " paper_key, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*fields, key, seen),
        )
        assert cursor.lastrowid is not None
        paper_no = cursor.lastrowid
    else:
        paper_no = old[0]
        conn.execute(
            "UPDATE papers SET id = ?, arxiv_id = ?, title = ?, abstract = ?,"
            " date = COALESCE(?, date), url = COALESCE(?, url), authors = ?, summary = ?"
            " WHERE paper_no = ?",
            (*fields, paper_no),
        )
        conn.execute("DELETE FROM papers_fts WHERE rowid = ?", (paper_no,))
    conn.execute(
        "INSERT INTO papers_fts (rowid, paper_key, title, abstract, summary)"
        " VALUES (?, ?, ?, ?, ?)",
        (paper_no, key, paper.title, paper.abstract, summary or ""),
    )
    return paper_no


def _answer_row(
    run_id: int,
    seq: int,
    key: str,
    paper_no: int,
    record: TaggedPaper,
    raw: str | None,
    line: str | None,
) -> tuple[object, ...]:
    usage = record.usage
    return (
        run_id,
        seq,
        key,
        paper_no,
        record.id,
        _tags_json(record.tags),
        record.summary,
        record.status,
        record.error,
        int(record.cached),
        record.model,
        record.prompt,
        usage.prompt_tokens if usage else None,
        usage.completion_tokens if usage else None,
        usage.cost_usd if usage else None,
        usage.latency_s if usage else None,
        _capped(raw),
        record.model_dump_json(exclude_none=False) if line is None else line,
    )


_TAGS_JSON: dict[tuple[str, ...], str] = {}  # a run repeats a few tag sets thousands of times


def _tags_json(tags: list[str]) -> str:
    key = tuple(tags)
    text = _TAGS_JSON.get(key)
    if text is None:
        text = json.dumps(tags)
        if len(_TAGS_JSON) < 4096:
            _TAGS_JSON[key] = text
    return text


def _capped(raw: str | None) -> str | None:
    if raw is None:
        return None
    from tagger.models.retry import redact

    return redact(raw[:RAW_RESPONSE_LIMIT])
