"""Recording into the store: a run's invocation and answers (batched), an eval's scores."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagger import __version__
from tagger.errors import TaggerError
from tagger.normalize import normalize_text
from tagger.records import Paper, RunManifest, TaggedPaper
from tagger.store import connect
from tagger.store.redact import clean_command, clean_url

if TYPE_CHECKING:
    from tagger.evaluate.models import EvalReport

RAW_RESPONSE_LIMIT = 64 * 1024  # characters of a live answer's raw text kept for inspection
FLUSH_EVERY = 200  # records per transaction ...
FLUSH_SECONDS = 1.0  # ... or this long, whichever comes first


def paper_key(paper: Paper) -> str:
    """One identity per paper across runs: its arXiv id, else its normalized title."""
    if paper.arxiv_id:
        return f"arxiv:{paper.arxiv_id}"
    digest = hashlib.sha256(normalize_text(paper.title).encode("utf-8")).hexdigest()
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
        self.warn(f"tagger: warning: not recording in the store {self.path} ({exc}).")
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
_Known = tuple[int, str, str | None, str | None, str | None, str | None]  # no, text, summary...


def _insert_batch(conn: sqlite3.Connection, run_id: int, seq: int, batch: list[Pending]) -> None:
    """One transaction's worth: papers upserted (the index rewritten only when a paper's text
    or summary changed, as it does not on a cached rerun), answers inserted."""
    seen = now()
    keys = [paper_key(paper) for paper, _, _, _ in batch]
    known = _known_papers(conn, set(keys))
    answers, touched = [], []
    for number, ((paper, record, raw, line), key) in enumerate(
        zip(batch, keys, strict=True), seq + 1
    ):
        old = known.get(key)
        summary = record.summary if record.status == "ok" else (old[3] if old else None)
        new = (paper.title, paper.abstract, summary, paper.date, paper.url)
        if old is not None and old[1:] == new:
            touched.append((seen, old[0]))
        else:
            known[key] = (_write_paper(conn, key, paper, summary, seen, old), *new)
        answers.append(_answer_row(run_id, number, key, record, raw, line))
    conn.executemany("UPDATE papers SET last_seen = ? WHERE paper_no = ?", touched)
    conn.executemany(
        "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", answers
    )


def _known_papers(conn: sqlite3.Connection, keys: set[str]) -> dict[str, _Known]:
    marks = ",".join("?" * len(keys))
    rows = conn.execute(
        "SELECT paper_key, paper_no, title, abstract, summary, date, url FROM papers"
        f" WHERE paper_key IN ({marks})",
        list(keys),
    )
    return {str(row[0]): tuple(row[1:]) for row in rows}


def _write_paper(
    conn: sqlite3.Connection,
    key: str,
    paper: Paper,
    summary: str | None,
    seen: str,
    old: _Known | None,
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
            " paper_key, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*fields, key, seen, seen),
        )
        assert cursor.lastrowid is not None
        paper_no = cursor.lastrowid
    else:
        paper_no = old[0]
        conn.execute(
            "UPDATE papers SET id = ?, arxiv_id = ?, title = ?, abstract = ?,"
            " date = COALESCE(?, date), url = COALESCE(?, url), authors = ?, summary = ?,"
            " last_seen = ? WHERE paper_no = ?",
            (*fields, seen, paper_no),
        )
        conn.execute("DELETE FROM papers_fts WHERE rowid = ?", (paper_no,))
    conn.execute(
        "INSERT INTO papers_fts (rowid, paper_key, title, abstract, summary)"
        " VALUES (?, ?, ?, ?, ?)",
        (paper_no, key, paper.title, paper.abstract, summary or ""),
    )
    return paper_no


def _answer_row(
    run_id: int, seq: int, key: str, record: TaggedPaper, raw: str | None, line: str | None
) -> tuple[object, ...]:
    usage = record.usage
    return (
        run_id,
        seq,
        key,
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


def record_eval(path: Path, report: EvalReport, argv: Sequence[str] | None = None) -> int:
    """One runs row (kind 'eval') and one evals row per system, with metrics and per-tag scores."""
    first = report.systems[0]
    manifest = RunManifest(
        tagger_version=__version__,
        started_at=report.created_at,
        finished_at=now(),
        inputs=[report.gold.path],
        output=first.predictions,
        model=first.model,
        prompt=first.prompt,
        taxonomy=report.taxonomy.path,
        taxonomy_hash=report.taxonomy.hash,
        max_tags=first.max_tags,
    )
    _take_counts_from_predictions(manifest)
    conn = connect(path)
    try:
        with _transaction(conn):
            run_id = insert_run(
                conn, "eval", list(sys.argv[1:] if argv is None else argv), manifest, None
            )
            finish_run(conn, run_id, manifest, "completed")
            for system in report.systems:
                _insert_system(conn, run_id, report, system)
            conn.execute(
                "INSERT INTO eval_reports VALUES (?, ?)", (run_id, report.model_dump_json())
            )
    finally:
        conn.close()
    return run_id


def _take_counts_from_predictions(manifest: RunManifest) -> None:
    """An eval's runs row counts what system A's predictions run did and spent, as that run's
    manifest (beside the predictions log) says; left at zero when there is none (--from-log)."""
    from tagger.run.manifest import load_previous

    if not manifest.output:
        return
    made = load_previous(Path(manifest.output))
    if made is not None:
        manifest.counts, manifest.usage = made.counts, made.usage
        manifest.wall_time_s = made.wall_time_s


def _insert_system(conn: sqlite3.Connection, run_id: int, report: EvalReport, system: Any) -> None:
    cursor = conn.execute(
        "INSERT INTO evals (run_id, label, model, prompt, max_tags, gold_path, gold_hash,"
        " gold_papers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_id,
            system.label,
            system.model,
            system.prompt,
            system.max_tags,
            report.gold.path,
            report.gold.hash,
            report.gold.papers,
            report.created_at,
        ),
    )
    eval_id = cursor.lastrowid
    conn.executemany(
        "INSERT INTO eval_metrics VALUES (?, ?, ?)",
        [(eval_id, name, value) for name, value in system.metrics.items()],
    )
    conn.executemany(
        "INSERT INTO eval_tags VALUES (?, ?, ?, ?, ?, ?)",
        [(eval_id, t.tag, t.precision, t.recall, t.f1, t.support) for t in system.per_tag],
    )
