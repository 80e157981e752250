"""The latest answer of each paper, kept by the recorder a batch at a time (schema v4): always
what a full recomputation from `answers` gives, across successes, failures, changed tags, changed
text and a paper twice in one batch; and a v3 store (trigger-kept) migrates with it intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store_helpers import rows

from tagger.records import Paper, RunManifest, TaggedPaper
from tagger.store import connect
from tagger.store import writer as store_writer
from tagger.store.schema import MIGRATIONS, VERSION, _statements
from tagger.store.writer import RunRecorder

# What latest_answers must hold: the V3 migration's own recomputation (a success over a later
# failure, else the newest), for answers of kind 'run'.
RECOMPUTED = """
SELECT paper_key, run_id, seq, status, tags FROM (
    SELECT a.paper_key, a.run_id, a.seq, a.status, a.tags, ROW_NUMBER() OVER (
        PARTITION BY a.paper_key ORDER BY a.status = 'ok' DESC, a.run_id DESC, a.seq DESC
    ) AS n
    FROM answers a JOIN runs r ON r.id = a.run_id WHERE r.kind = 'run'
) WHERE n = 1 ORDER BY paper_key
"""


def paper(i: int, abstract: str = "") -> Paper:
    return Paper(
        id=f"p{i}",
        title=f"Quokka paper number {i}",
        abstract=abstract or f"About quokka {i}.",
        arxiv_id=f"2401.{i:05d}" if i % 2 else None,  # both kinds of paper key
        source=f"in:{i}",
    )


def answer(p: Paper, tags: list[str] | None, summary: str = "") -> TaggedPaper:
    """tags None: a failed answer."""
    return TaggedPaper(
        id=p.id,
        title=p.title,
        summary=None if tags is None else (summary or f"Studies {p.title}."),
        tags=tags or [],
        status="failed" if tags is None else "ok",
        error="too long" if tags is None else None,
        model="openai/fake",
        prompt="p@v1",
        source=p.source,
    )


def record_run(store: Path, answers: list[tuple[Paper, TaggedPaper]]) -> None:
    manifest = RunManifest(
        tagger_version="0",
        started_at="2026-01-01T00:00:00+00:00",
        inputs=["in"],
        output="-",
        model="openai/fake",
        prompt="p@v1",
        taxonomy="t.yaml",
        taxonomy_hash="h",
        max_tags=3,
    )
    recorder = RunRecorder(store, ["run", "in"])
    recorder.start(manifest)
    for p, a in answers:
        recorder.add(p, a)
    recorder.finish(manifest)


def assert_latest_consistent(store: Path) -> None:
    conn = sqlite3.connect(store)
    try:
        kept = rows(
            conn,
            "SELECT paper_key, run_id, seq, status, tags FROM latest_answers ORDER BY paper_key",
        )
        assert kept == rows(conn, RECOMPUTED)
        tags = rows(conn, "SELECT tag, paper_key FROM paper_tags ORDER BY 1, 2")
        expected = rows(
            conn,
            "SELECT DISTINCT t.value, l.paper_key FROM latest_answers l, json_each(l.tags) t"
            " ORDER BY 1, 2",
        )
        assert tags == expected
        # last_seen: the start of the last batch that had the paper, whatever its status
        assert rows(conn, "SELECT COUNT(*) FROM latest_answers WHERE last_seen IS NULL") == [(0,)]
        # each answer points at its paper's row; the full-text index holds the latest summary
        assert rows(
            conn,
            "SELECT COUNT(*) FROM answers a JOIN papers p USING (paper_key)"
            " WHERE a.paper_no IS NOT p.paper_no",
        ) == [(0,)]
        assert rows(
            conn,
            "SELECT COUNT(*) FROM papers p JOIN papers_fts f ON f.rowid = p.paper_no"
            " WHERE f.summary IS NOT COALESCE(p.summary, '') OR f.abstract IS NOT p.abstract",
        ) == [(0,)]
    finally:
        conn.close()


def mixed_runs() -> list[list[tuple[Paper, TaggedPaper]]]:
    ps = [paper(i) for i in range(6)]
    return [
        [(p, answer(p, ["llm"])) for p in ps[:4]],
        # p0 fails (keeps its success), p1 changes tags, p4 fails first, p5 new
        [(ps[0], answer(ps[0], None)), (ps[1], answer(ps[1], ["diffusion", "llm"]))]
        + [(ps[4], answer(ps[4], None)), (ps[5], answer(ps[5], ["robotics"]))],
        # p4 succeeds after its failure; p2's abstract changes; p3 twice in one batch
        [(ps[4], answer(ps[4], ["llm"])), (paper(2, "A new abstract."), answer(ps[2], ["llm"]))]
        + [(ps[3], answer(ps[3], ["robotics"])), (ps[3], answer(ps[3], None))],
        # everything cached and unchanged, p1 back to one tag
        [(p, answer(p, ["diffusion"] if p is ps[1] else ["llm"])) for p in ps],
    ]


@pytest.mark.parametrize("flush_every", [1, 3, 500])
def test_the_kept_latest_answer_is_the_recomputed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flush_every: int
) -> None:
    monkeypatch.setattr(store_writer, "FLUSH_EVERY", flush_every)
    store = tmp_path / "store.db"
    abstracts = []
    for answers in mixed_runs():
        record_run(store, answers)
        assert_latest_consistent(store)
        with sqlite3.connect(store) as conn:
            abstracts += rows(conn, "SELECT abstract FROM papers WHERE id = 'p2'")
    conn = sqlite3.connect(store)
    by_key = dict(
        rows(conn, "SELECT p.id, l.status FROM latest_answers l JOIN papers p USING (paper_key)")
    )
    assert by_key == {f"p{i}": "ok" for i in range(6)}
    assert [a for (a,) in abstracts] == ["About quokka 2."] * 2 + [
        "A new abstract.",
        "About quokka 2.",
    ]
    conn.close()


def make_v3_store(path: Path) -> None:
    """A store at schema version 3 with its trigger-kept latest answers, as that release made."""
    conn = sqlite3.connect(path, isolation_level=None)
    for version in range(3):
        for statement in _statements(MIGRATIONS[version]):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute(
        "INSERT INTO runs (id, kind, status, started_at, command, tagger_version)"
        " VALUES (1, 'run', 'completed', '2025-01-01T00:00:00+00:00', 'tagger run x', '0.1.0')"
    )
    for key, seen in (("arxiv:2401.00001", "2025-01-02"), ("title:abc", "2025-01-03")):
        conn.execute(
            "INSERT INTO papers (paper_key, id, title, abstract, first_seen, last_seen, summary)"
            " VALUES (?, ?, 'Quokkas', 'About quokkas.', '2025-01-01', ?, 'S.')",
            (key, key[-5:], seen),
        )
        conn.execute(
            "INSERT INTO papers_fts (rowid, paper_key, title, abstract, summary)"
            " SELECT paper_no, paper_key, title, abstract, summary FROM papers WHERE paper_key = ?",
            (key,),
        )
    for seq, (key, status) in enumerate((("arxiv:2401.00001", "ok"), ("title:abc", "failed")), 1):
        conn.execute(
            "INSERT INTO answers (run_id, seq, paper_key, paper_id, tags, summary, status, cached,"
            " record) VALUES (1, ?, ?, ?, ?, 'S.', ?, 0, '{}')",
            (seq, key, key[-5:], '["llm"]' if status == "ok" else "[]", status),
        )
    conn.close()


def test_a_v3_store_migrates_with_its_latest_answers(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    make_v3_store(store)
    connect(store).close()
    conn = sqlite3.connect(store)
    assert rows(conn, "PRAGMA user_version") == [(VERSION,)] and VERSION == 4
    assert rows(conn, "SELECT paper_key, status, last_seen FROM latest_answers ORDER BY 1") == [
        ("arxiv:2401.00001", "ok", "2025-01-02"),
        ("title:abc", "failed", "2025-01-03"),
    ]
    assert rows(conn, "SELECT paper_key, paper_no FROM answers ORDER BY seq") == [
        ("arxiv:2401.00001", 1),
        ("title:abc", 2),
    ]
    columns = {r[1] for r in conn.execute("PRAGMA table_info(papers)")}
    assert "last_seen" not in columns and "first_seen" in columns
    triggers = rows(conn, "SELECT name FROM sqlite_master WHERE type = 'trigger'")
    assert triggers == []
    assert rows(conn, "SELECT COUNT(*) FROM latest_answers WHERE text_hash IS NULL") == [(2,)]
    conn.close()
    assert_latest_consistent(store)
    # the next run that sees a migrated paper writes its row once and then knows it
    quokkas = Paper(
        id="00001", title="Quokkas", abstract="About quokkas.", arxiv_id="2401.00001", source="a:1"
    )
    for _ in range(2):
        record_run(store, [(quokkas, answer(quokkas, ["llm"], "S."))])
    conn = sqlite3.connect(store)
    assert rows(
        conn,
        "SELECT status, run_id, text_hash IS NOT NULL FROM latest_answers"
        " WHERE paper_key = 'arxiv:2401.00001'",
    ) == [("ok", 3, 1)]
    conn.close()
    assert_latest_consistent(store)


def test_the_documented_example_queries_run(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    for answers in mixed_runs():
        record_run(store, answers)
    text = (Path(__file__).parent.parent / "docs" / "store.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```sql")[1:]]
    statements = [s for b in blocks for s in _statements(b)]
    assert len(statements) >= 2
    conn = sqlite3.connect(store)
    for statement in statements:
        conn.execute(statement).fetchall()  # no error on the current schema
    conn.close()


def test_a_rerun_rewrites_only_the_papers_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store.db"
    ps = [paper(i) for i in range(5)]
    record_run(store, [(p, answer(p, ["llm"])) for p in ps])
    written: list[str] = []
    real = store_writer._write_paper

    def counting(conn: sqlite3.Connection, key: str, p: Paper, *rest: object) -> int:
        written.append(p.id)
        return real(conn, key, p, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(store_writer, "_write_paper", counting)
    record_run(store, [(p, answer(p, ["llm"])) for p in ps])
    assert written == []
    changed = [paper(0, "Changed."), ps[1], ps[2], ps[3], ps[4]]
    record_run(store, [(p, answer(p, ["llm"], "New." if p is ps[3] else "")) for p in changed])
    assert written == ["p0", "p3"]  # a new abstract; a new summary
    record_run(store, [(p, answer(p, None)) for p in ps[2:]])  # failures keep the summary
    assert written == ["p0", "p3"]
    with sqlite3.connect(store) as conn:
        assert rows(conn, "SELECT summary FROM papers WHERE id = 'p3'") == [("New.",)]
    assert_latest_consistent(store)
