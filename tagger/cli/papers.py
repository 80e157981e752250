"""`tagger papers`: the latest answer for each paper across runs, filtered, from the store."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from pathlib import Path

import click

from tagger.cli.store import open_for_reading, read_store_option

_DAY = click.DateTime(["%Y-%m-%d"])


@click.command()
@click.option("--tag", "tags", multiple=True, help="Only papers with this tag (repeat: all).")
@click.option("--since", type=_DAY, default=None, help="Paper date on or after YYYY-MM-DD.")
@click.option("--until", type=_DAY, default=None, help="Paper date on or before YYYY-MM-DD.")
@click.option("--search", default=None, help="Words, all of them, in title, abstract or summary.")
@click.option("--model", default=None, help="Only answers from this model.")
@read_store_option
@click.option("--json", "as_json", is_flag=True, help="One JSON list of records.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="One record per line (as OUT files).")
def papers(
    tags: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    search: str | None,
    model: str | None,
    store_file: Path | None,
    as_json: bool,
    as_jsonl: bool,
) -> None:
    """Every paper tagger has seen, with its latest answer (a success over a later failure).

    Dates are the paper's own (else the day it was first seen), newest first.
    """
    from tagger.store.queries import PaperFilter, latest_papers

    filters = PaperFilter(tags, _day(since), _day(until), search, model)
    with contextlib.closing(open_for_reading(store_file)) as conn:
        lines = latest_papers(conn, filters)
    if as_jsonl:
        for line in lines:
            click.echo(line)
    elif as_json:
        click.echo(json.dumps([json.loads(line) for line in lines], indent=2))
    else:
        for r in map(json.loads, lines):
            shown = ",".join(r["tags"]) if r.get("status", "ok") == "ok" else "(failed)"
            click.echo(f"{r['id']:<12} {r.get('date') or '-':<10} {shown:<28} {r['title']}")


def _day(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None
