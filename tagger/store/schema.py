"""The store's tables, versioned by `PRAGMA user_version`, and the migrations between versions."""

from __future__ import annotations

import sqlite3

from tagger.errors import ConfigError

# Version 1, frozen: a store made by the first release looks exactly like this. Never edit it;
# add a migration below instead (tests build a v1 store from this text and migrate it).
V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                -- 'run' or 'eval'
    status TEXT NOT NULL,              -- 'running', 'completed', 'interrupted'
    started_at TEXT NOT NULL,
    finished_at TEXT,
    command TEXT NOT NULL,             -- the command line, secrets removed
    model TEXT,
    api_base TEXT,
    prompt TEXT,
    prompt_hash TEXT,
    taxonomy TEXT,
    taxonomy_hash TEXT,
    tagger_version TEXT NOT NULL,
    output TEXT,
    pid INTEGER,
    host TEXT,
    input_count INTEGER,
    unique_count INTEGER,
    tagged INTEGER,
    cached INTEGER,
    failed INTEGER,
    skipped_resume INTEGER,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost_usd REAL,
    calls INTEGER,
    wall_time_s REAL,
    manifest TEXT                      -- OUT.run.json as JSON
);
CREATE TABLE papers (
    paper_no INTEGER PRIMARY KEY,      -- stable row number (the full-text index refers to it)
    paper_key TEXT NOT NULL UNIQUE,    -- 'arxiv:<id>' or 'title:<hash of the normalized title>'
    id TEXT NOT NULL,
    arxiv_id TEXT,
    title TEXT NOT NULL,
    abstract TEXT,
    date TEXT,
    url TEXT,
    authors TEXT,                      -- JSON list
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE TABLE answers (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,              -- order in the run's OUT
    paper_key TEXT NOT NULL REFERENCES papers(paper_key),
    paper_id TEXT NOT NULL,
    tags TEXT NOT NULL,                -- JSON list
    summary TEXT,
    status TEXT NOT NULL,
    error TEXT,
    cached INTEGER NOT NULL,
    model TEXT,
    prompt TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost_usd REAL,
    latency_s REAL,
    raw_response TEXT,                 -- live calls only, first 64 KiB
    record TEXT NOT NULL,              -- the OUT line, exactly
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE evals (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    label TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    max_tags INTEGER,
    gold_path TEXT,
    gold_hash TEXT,
    gold_papers INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE eval_metrics (
    eval_id INTEGER NOT NULL REFERENCES evals(id),
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (eval_id, metric)
);
CREATE TABLE eval_tags (
    eval_id INTEGER NOT NULL REFERENCES evals(id),
    tag TEXT NOT NULL,
    precision REAL,
    recall REAL,
    f1 REAL,
    support INTEGER,
    PRIMARY KEY (eval_id, tag)
);
"""

# Version 2: full-text search over title, abstract and the latest summary (kept on papers too, so
# an unchanged paper costs no index rewrite); the digest's sent state; an index per paper.
V2 = """
CREATE VIRTUAL TABLE papers_fts USING fts5(paper_key UNINDEXED, title, abstract, summary);
INSERT INTO papers_fts (rowid, paper_key, title, abstract, summary)
    SELECT p.paper_no, p.paper_key, p.title, COALESCE(p.abstract, ''),
           COALESCE((SELECT a.summary FROM answers a WHERE a.paper_key = p.paper_key
                     AND a.status = 'ok' ORDER BY a.run_id DESC, a.seq DESC LIMIT 1), '')
    FROM papers p;
CREATE INDEX answers_paper ON answers (paper_key, run_id);
ALTER TABLE papers ADD COLUMN summary TEXT;       -- the latest successful summary
UPDATE papers SET summary = (SELECT a.summary FROM answers a WHERE a.paper_key = papers.paper_key
    AND a.status = 'ok' ORDER BY a.run_id DESC, a.seq DESC LIMIT 1);
CREATE TABLE digest_sent (
    paper_id TEXT PRIMARY KEY,
    sent_on TEXT NOT NULL              -- date of the first digest that showed it
);
"""

# Version 3: each eval's whole report (tagger-eval/1 JSON), so `tagger view` can reopen it; the
# latest answer of each paper (a success over a later failure) and its tags kept current by a
# trigger, so the viewer pages a 100,000-paper history without scanning every answer.
V3 = """
CREATE TABLE eval_reports (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    report TEXT NOT NULL               -- the EvalReport as JSON, as `tagger eval -o X.json` writes
);
CREATE TABLE latest_answers (
    paper_key TEXT PRIMARY KEY REFERENCES papers(paper_key),
    run_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,              -- with run_id: the answers row
    status TEXT NOT NULL,
    tags TEXT NOT NULL                 -- JSON list, as in answers
) WITHOUT ROWID;
CREATE TABLE paper_tags (
    tag TEXT NOT NULL,
    paper_key TEXT NOT NULL,           -- a paper whose latest answer has this tag
    PRIMARY KEY (tag, paper_key)
) WITHOUT ROWID;
CREATE INDEX paper_tags_paper ON paper_tags (paper_key);
CREATE INDEX papers_day ON papers (COALESCE(date, substr(first_seen, 1, 10)), paper_no);
INSERT INTO latest_answers
    SELECT paper_key, run_id, seq, status, tags FROM (
        SELECT a.paper_key, a.run_id, a.seq, a.status, a.tags, ROW_NUMBER() OVER (
            PARTITION BY a.paper_key ORDER BY a.status = 'ok' DESC, a.run_id DESC, a.seq DESC
        ) AS n
        FROM answers a JOIN runs r ON r.id = a.run_id WHERE r.kind = 'run'
    ) WHERE n = 1;
INSERT INTO paper_tags
    SELECT DISTINCT t.value, l.paper_key FROM latest_answers l, json_each(l.tags) t;
CREATE TRIGGER answers_latest AFTER INSERT ON answers
WHEN (SELECT kind FROM runs WHERE id = NEW.run_id) = 'run' AND (NEW.status = 'ok' OR COALESCE(
    (SELECT status FROM latest_answers WHERE paper_key = NEW.paper_key), 'failed') != 'ok')
BEGIN
    DELETE FROM paper_tags WHERE paper_key = NEW.paper_key AND NEW.tags IS NOT COALESCE(
        (SELECT tags FROM latest_answers WHERE paper_key = NEW.paper_key), '');
    INSERT OR IGNORE INTO paper_tags SELECT value, NEW.paper_key FROM json_each(NEW.tags)
        WHERE NEW.tags IS NOT COALESCE(
            (SELECT tags FROM latest_answers WHERE paper_key = NEW.paper_key), '');
    INSERT OR REPLACE INTO latest_answers
        VALUES (NEW.paper_key, NEW.run_id, NEW.seq, NEW.status, NEW.tags);
END;
"""

# Version 4: the latest answer kept by the recorder, one statement per batch, instead of a trigger
# per answer; `last_seen` moved from the wide `papers` rows (a rerun rewrote every paper's page)
# to `latest_answers`, which each answer rewrites anyway, with the paper's number and a hash of
# the text its row was last written with (a rerun tells an unchanged paper without reading it);
# answers indexed by the paper's number instead of its key (a third of the index pages to dirty).
V4 = """
DROP TRIGGER answers_latest;
ALTER TABLE answers ADD COLUMN paper_no INTEGER REFERENCES papers(paper_no);
UPDATE answers SET paper_no = (
    SELECT p.paper_no FROM papers p WHERE p.paper_key = answers.paper_key);
DROP INDEX answers_paper;
CREATE INDEX answers_paper_no ON answers (paper_no, run_id);
ALTER TABLE latest_answers ADD COLUMN last_seen TEXT;  -- when a run last had this paper
ALTER TABLE latest_answers ADD COLUMN paper_no INTEGER;  -- papers.paper_no
ALTER TABLE latest_answers ADD COLUMN text_hash TEXT;  -- the papers row's title ... summary
UPDATE latest_answers SET (last_seen, paper_no) = (
    SELECT p.last_seen, p.paper_no FROM papers p WHERE p.paper_key = latest_answers.paper_key);
ALTER TABLE papers DROP COLUMN last_seen;
"""

MIGRATIONS: tuple[str, ...] = (
    V1,
    V2,
    V3,
    V4,
)  # MIGRATIONS[n] takes a store from version n to n + 1
VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, path: str) -> None:
    """Bring the store up to VERSION; refuse one written by a newer tagger."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > VERSION:
        raise ConfigError(
            f"this store has schema version {current}; this tagger reads up to {VERSION}.",
            path=path,
            hint="Upgrade tagger, or pass --no-store / --store OTHER.db.",
        )
    if current == VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")  # one migrating process at a time; others wait
    try:
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        for version in range(current, VERSION):
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a DDL script at statement ends (executescript would commit our transaction)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    text = "\n".join(lines)
    out, buf = [], ""
    for part in text.split(";"):
        buf += part
        if sqlite3.complete_statement(buf + ";"):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
        else:
            buf += ";"
    return out
