"""What the viewer's pages read from the store: paginated, filtered, read-only queries."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from tagger.store.queries import fts_query

PAGE_SIZE = 50

_LATEST_ANSWER = """(SELECT a.rowid FROM answers a JOIN runs r ON r.id = a.run_id
    WHERE a.paper_no = p.paper_no AND r.kind = 'run' {model}
    ORDER BY a.status = 'ok' DESC, a.run_id DESC, a.seq DESC LIMIT 1)"""

# Each matching paper with the row of its latest answer (a success over a later failure).
_LATEST = """
WITH latest AS (
    SELECT p.paper_no, p.paper_key, p.id, p.arxiv_id, p.title, p.abstract, p.url, p.authors,
           COALESCE(p.date, substr(p.first_seen, 1, 10)) AS day, {answer} AS arow
    FROM papers p WHERE 1 {where}
)
"""
_JOINED = " FROM latest JOIN answers a ON a.rowid = latest.arow"


@dataclass
class PaperQuery:
    tags: list[str] = field(default_factory=list)
    since: str = ""
    until: str = ""
    model: str = ""
    search: str = ""
    sort: str = "new"  # 'new' (date, newest first) or 'old'
    page: int = 1


@dataclass
class PaperPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    tag_counts: list[tuple[str, int]]
    models: list[str]


def _parts(q: PaperQuery, *, with_tags: bool = True) -> tuple[str, str, list[Any]]:
    """(the CTE, the tag condition on `a`, their parameters in order)."""
    params: list[Any] = []
    model = ""
    if q.model:
        model = "AND a.model = ?"
        params.append(q.model)
    where: list[str] = []
    if q.since:
        where.append("AND COALESCE(p.date, substr(p.first_seen, 1, 10)) >= ?")
        params.append(q.since)
    if q.until:
        where.append("AND COALESCE(p.date, substr(p.first_seen, 1, 10)) <= ?")
        params.append(q.until)
    if q.search.split():
        where.append("AND p.paper_no IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)")
        params.append(fts_query(q.search))
    cte = _LATEST.format(answer=_LATEST_ANSWER.format(model=model), where=" ".join(where))
    tags = q.tags if with_tags else []
    tag_where = "".join(
        " AND EXISTS (SELECT 1 FROM json_each(a.tags) WHERE value = ?)" for _ in tags
    )
    return cte, f" WHERE 1{tag_where}", [*params, *tags]


_DAY = "COALESCE(p.date, substr(p.first_seen, 1, 10))"  # as indexed by papers_day
_FAST_FROM = (
    " FROM papers p JOIN latest_answers l ON l.paper_key = p.paper_key"
    " JOIN answers a ON a.run_id = l.run_id AND a.seq = l.seq"
)


def papers_page(conn: sqlite3.Connection, q: PaperQuery) -> PaperPage:
    """One page of the latest answer per paper. Without a model filter this reads the
    trigger-kept latest_answers/paper_tags tables and the day index (a page costs the same on
    10 or 100,000 papers); "latest by one model" has no such table and scans the answers."""
    if q.model:
        return _papers_page_by_model(conn, q)
    where, params = _fast_where(q, with_tags=True)
    total = int(conn.execute(f"SELECT COUNT(*){_FAST_FROM}{where}", params).fetchone()[0])
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, q.page), pages)
    order = "ASC" if q.sort == "old" else "DESC"
    sql = (
        "SELECT p.paper_no, p.paper_key, p.id, p.arxiv_id, p.title, p.abstract, p.url,"
        f" p.authors, {_DAY} AS day, a.tags, a.summary, a.model, a.status, a.error, a.run_id"
        f"{_FAST_FROM}{where} ORDER BY {_DAY} {order}, p.paper_no {order} LIMIT ? OFFSET ?"
    )
    rows = [_paper_row(r) for r in conn.execute(sql, [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE])]
    untagged, tag_params = _fast_where(q, with_tags=False)
    counts_sql = (
        "SELECT t.tag, COUNT(*) FROM paper_tags t"
        + (
            f" WHERE t.paper_key IN (SELECT p.paper_key{_FAST_FROM}{untagged})"
            if tag_params
            else ""
        )
        + " GROUP BY t.tag ORDER BY 2 DESC, 1"
    )
    counts = [(str(r[0]), int(r[1])) for r in conn.execute(counts_sql, tag_params)]
    return PaperPage(rows, total, page, pages, counts, _models(conn))


def _fast_where(q: PaperQuery, *, with_tags: bool) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if q.since:
        where.append(f"{_DAY} >= ?")
        params.append(q.since)
    if q.until:
        where.append(f"{_DAY} <= ?")
        params.append(q.until)
    if q.search.split():
        where.append("p.paper_no IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)")
        params.append(fts_query(q.search))
    for tag in q.tags if with_tags else []:
        where.append("p.paper_key IN (SELECT paper_key FROM paper_tags WHERE tag = ?)")
        params.append(tag)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _models(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT DISTINCT model FROM runs WHERE kind = 'run' ORDER BY 1")
    return [str(r[0]) for r in rows if r[0]]


def _papers_page_by_model(conn: sqlite3.Connection, q: PaperQuery) -> PaperPage:
    cte, where, params = _parts(q)
    total = int(conn.execute(f"{cte} SELECT COUNT(*){_JOINED}{where}", params).fetchone()[0])
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, q.page), pages)
    order = "ASC" if q.sort == "old" else "DESC"
    sql = (
        f"{cte} SELECT latest.*, a.tags, a.summary, a.model, a.status, a.error, a.run_id"
        f"{_JOINED}{where} ORDER BY latest.day {order}, latest.paper_no {order} LIMIT ? OFFSET ?"
    )
    rows = [_paper_row(r) for r in conn.execute(sql, [*params, PAGE_SIZE, (page - 1) * PAGE_SIZE])]
    return PaperPage(rows, total, page, pages, _tag_counts(conn, q), _models(conn))


def _tag_counts(conn: sqlite3.Connection, q: PaperQuery) -> list[tuple[str, int]]:
    """Papers per tag among those matching every filter but the tags themselves."""
    cte, where, params = _parts(q, with_tags=False)
    sql = (
        f"{cte} SELECT t.value, COUNT(*){_JOINED}, json_each(a.tags) t{where}"
        " GROUP BY t.value ORDER BY 2 DESC, 1"
    )
    return [(str(r[0]), int(r[1])) for r in conn.execute(sql, params)]


def _paper_row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["tags"] = json.loads(out.get("tags") or "[]")
    out["authors"] = json.loads(out["authors"]) if out.get("authors") else []
    return out


def paper_detail(conn: sqlite3.Connection, paper_no: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM papers WHERE paper_no = ?", (paper_no,)).fetchone()
    if row is None:
        return None
    paper = _paper_row(row)
    answers = conn.execute(
        "SELECT a.run_id, a.seq, a.tags, a.summary, a.status, a.error, a.cached, a.model,"
        " a.prompt, a.cost_usd, a.latency_s, a.raw_response, r.kind, r.started_at"
        " FROM answers a JOIN runs r ON r.id = a.run_id WHERE a.paper_no = ?"
        " ORDER BY a.run_id DESC, a.seq DESC",
        (paper_no,),
    )
    paper["answers"] = [_paper_row(a) for a in answers]
    return paper


def runs(conn: sqlite3.Connection, page: int = 1) -> tuple[list[dict[str, Any]], int]:
    total = int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
    rows = conn.execute(
        "SELECT id, kind, status, started_at, finished_at, model, prompt, output, input_count,"
        " unique_count, tagged, cached, failed, cost_usd, wall_time_s, calls FROM runs"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        (PAGE_SIZE, (max(1, page) - 1) * PAGE_SIZE),
    )
    return [dict(r) for r in rows], total


def run_detail(conn: sqlite3.Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    run = dict(row)
    run["manifest"] = json.loads(run["manifest"]) if run.get("manifest") else None
    run["failures"] = [
        dict(r)
        for r in conn.execute(
            "SELECT p.paper_no, a.paper_id, p.title, a.error, a.raw_response FROM answers a"
            " JOIN papers p USING (paper_key) WHERE a.run_id = ? AND a.status = 'failed'"
            " ORDER BY a.seq LIMIT 500",
            (run_id,),
        )
    ]
    run["tag_counts"] = [
        (str(r[0]), int(r[1]))
        for r in conn.execute(
            "SELECT t.value, COUNT(*) FROM answers a, json_each(a.tags) t WHERE a.run_id = ?"
            " GROUP BY t.value ORDER BY 2 DESC, 1",
            (run_id,),
        )
    ]
    run["eval_report"] = eval_report_json(conn, run_id)
    return run


def evals(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every stored eval system (oldest first) with its metrics."""
    from tagger.store.queries import eval_history

    return eval_history(conn)


def eval_report_json(conn: sqlite3.Connection, run_id: int) -> str | None:
    try:
        row = conn.execute("SELECT report FROM eval_reports WHERE run_id = ?", (run_id,))
    except sqlite3.OperationalError:
        return None  # a store from before eval reports were kept
    found = row.fetchone()
    return str(found[0]) if found else None
