"""`tagger runs list|show|papers`: reopen what earlier runs did, from the store."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click

from tagger.cli.store import open_for_reading, read_store_option
from tagger.records import format_cost


@click.group()
def runs() -> None:
    """Past runs and evals recorded in the store."""


@runs.command("list")
@read_store_option
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="Newest N.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def list_(store_file: Path | None, limit: int, as_json: bool) -> None:
    """The newest runs: id, when, status, model, prompt, counts, spend."""
    from tagger.store.queries import list_runs

    with contextlib.closing(open_for_reading(store_file)) as conn:
        rows = list_runs(conn, limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(
            f"{r['id']:>5}  {r['started_at']}  {r['kind']:<4}  {r['status']:<11}  "
            f"{r['model'] or '-'}  {r['prompt'] or '-'}  tagged {r['tagged'] or 0} "
            f"({r['cached'] or 0} cached), failed {r['failed'] or 0}, "
            f"{format_cost(r['cost_usd'])}"
        )


@runs.command("show")
@click.argument("run_id", type=int)
@read_store_option
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
def show(run_id: int, store_file: Path | None, as_json: bool) -> None:
    """One run: its manifest, counts, spend, and every failure with its reason."""
    from tagger.store.queries import get_run

    with contextlib.closing(open_for_reading(store_file)) as conn:
        run = get_run(conn, run_id)
    if as_json:
        click.echo(json.dumps(run, indent=2))
        return
    for key in ("id", "kind", "status", "started_at", "finished_at", "command", "model"):
        click.echo(f"{key}: {run[key]}")
    for key in ("api_base", "prompt", "prompt_hash", "taxonomy", "taxonomy_hash", "output"):
        click.echo(f"{key}: {run[key]}")
    click.echo(
        f"counts: input {run['input_count']}, unique {run['unique_count']}, tagged "
        f"{run['tagged']} ({run['cached']} cached), failed {run['failed']}, skipped "
        f"{run['skipped_resume']} already done"
    )
    click.echo(
        f"spend: {run['prompt_tokens']} prompt + {run['completion_tokens']} completion tokens, "
        f"{run['calls']} calls, {format_cost(run['cost_usd'])}, {run['wall_time_s']} s"
    )
    _echo_failures(run["failures"])


def _echo_failures(failures: list[dict[str, Any]]) -> None:
    click.echo(f"failures: {len(failures)}")
    for f in failures:
        click.echo(f"  {f['id']}  {f['title'][:60]}: {f['error']}")


@runs.command("papers")
@click.argument("run_id", type=int)
@read_store_option
@click.option("--json", "as_json", is_flag=True, help="One JSON list.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="One line per paper, as OUT [default].")
def papers(run_id: int, store_file: Path | None, as_json: bool, as_jsonl: bool) -> None:
    """A run's records again, line for line as its OUT file had them."""
    from tagger.store.queries import run_records

    with contextlib.closing(open_for_reading(store_file)) as conn:
        lines = run_records(conn, run_id)
    if as_json:
        click.echo(json.dumps([json.loads(line) for line in lines], indent=2))
    else:
        for line in lines:
            click.echo(line)
