"""Recording an eval into the store: one runs row (kind 'eval'), its systems, metrics and
per-tag scores, and the whole report."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagger import __version__
from tagger.records import RunManifest
from tagger.store import connect
from tagger.store.writer import _transaction, finish_run, insert_run, now

if TYPE_CHECKING:
    from tagger.evaluate.models import EvalReport


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
