"""Reading the store back: runs, a run's records, the latest answer per paper, eval history."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from tagger.errors import ConfigError

RUN_COLUMNS = (
    "id, kind, status, started_at, finished_at, model, prompt, output, input_count,"
    " unique_count, tagged, cached, failed, prompt_tokens, completion_tokens, cost_usd"
)


def list_runs(conn: sqlite3.Connection, limit: int | None = None) -> list[dict[str, Any]]:
    """Newest first."""
    sql = f"SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC"
    rows = conn.execute(sql + " LIMIT ?", (limit,)) if limit else conn.execute(sql)
    return [dict(row) for row in rows]


def get_run(conn: sqlite3.Connection, run_id: int) -> dict[str, Any]:
    """The run's row with its manifest parsed and its failed papers with their reasons."""
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise ConfigError(f"no run {run_id} in the store.", hint="`tagger runs list` shows them.")
    run = dict(row)
    run["manifest"] = json.loads(run["manifest"]) if run["manifest"] else None
    failures = conn.execute(
        "SELECT a.paper_id AS id, p.title, a.error FROM answers a"
        " JOIN papers p USING (paper_key) WHERE a.run_id = ? AND a.status = 'failed'"
        " ORDER BY a.seq",
        (run_id,),
    )
    run["failures"] = [dict(f) for f in failures]
    return run


def run_records(conn: sqlite3.Connection, run_id: int) -> list[str]:
    """The run's OUT lines (without the newline), in the order they were written."""
    get_run(conn, run_id)  # a clear error for an unknown id
    rows = conn.execute("SELECT record FROM answers WHERE run_id = ? ORDER BY seq", (run_id,))
    return [str(row[0]) for row in rows]


def raw_responses(conn: sqlite3.Connection, run_id: int) -> dict[str, str]:
    rows = conn.execute(
        "SELECT paper_id, raw_response FROM answers WHERE run_id = ? AND raw_response IS NOT NULL",
        (run_id,),
    )
    return {str(r[0]): str(r[1]) for r in rows}


@dataclass
class PaperFilter:
    tags: tuple[str, ...] = ()  # every one of them
    since: str | None = None  # YYYY-MM-DD, inclusive, on the paper's date (else first seen)
    until: str | None = None
    search: str | None = None  # words, all of them, in title, abstract or summary
    model: str | None = None


_LATEST = """
WITH ranked AS (
    SELECT a.paper_key, a.record, ROW_NUMBER() OVER (
        PARTITION BY a.paper_key ORDER BY a.status = 'ok' DESC, a.run_id DESC, a.seq DESC) AS n,
        a.tags
    FROM answers a JOIN runs r ON r.id = a.run_id
    WHERE r.kind = 'run' AND a.model = ?
)
SELECT ranked.record, COALESCE(p.date, substr(p.first_seen, 1, 10)) AS day
FROM ranked JOIN papers p USING (paper_key)
WHERE ranked.n = 1 {where}
ORDER BY day DESC, p.paper_no DESC
"""

# Without --model the latest answer of each paper is kept in latest_answers: no scan of answers.
_KEPT = """
SELECT a.record, COALESCE(p.date, substr(p.first_seen, 1, 10)) AS day
FROM latest_answers ranked JOIN papers p USING (paper_key)
JOIN answers a ON a.run_id = ranked.run_id AND a.seq = ranked.seq
WHERE 1 {where}
ORDER BY day DESC, p.paper_no DESC
"""


def latest_papers(conn: sqlite3.Connection, filters: PaperFilter) -> list[str]:
    """The latest answer for each paper (a successful one over a later failure), filtered, as
    OUT lines; with a model, the latest among that model's answers."""
    params: list[Any] = [filters.model] if filters.model else []
    where: list[str] = []
    for tag in filters.tags:
        where.append("AND EXISTS (SELECT 1 FROM json_each(ranked.tags) WHERE value = ?)")
        params.append(tag)
    if filters.since:
        where.append("AND COALESCE(p.date, substr(p.first_seen, 1, 10)) >= ?")
        params.append(filters.since)
    if filters.until:
        where.append("AND substr(COALESCE(p.date, p.first_seen), 1, 10) <= ?")
        params.append(filters.until)
    if filters.search and filters.search.split():
        where.append("AND p.paper_no IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)")
        params.append(fts_query(filters.search))
    sql = (_LATEST if filters.model else _KEPT).format(where=" ".join(where))
    return [str(row[0]) for row in conn.execute(sql, params)]


def fts_query(text: str) -> str:
    """Plain words as an FTS5 query (each quoted, all required): no syntax errors from users."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def eval_history(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """One row per stored eval system, oldest first, with all its metrics."""
    rows = conn.execute(
        "SELECT e.id, e.run_id, e.created_at, e.label, e.model, e.prompt, e.max_tags,"
        " e.gold_path, e.gold_hash, e.gold_papers FROM evals e ORDER BY e.id"
    ).fetchall()
    metrics: dict[int, dict[str, float]] = {}
    for eval_id, name, value in conn.execute("SELECT eval_id, metric, value FROM eval_metrics"):
        metrics.setdefault(eval_id, {})[name] = value
    return [{**dict(row), "metrics": metrics.get(row["id"], {})} for row in rows]
