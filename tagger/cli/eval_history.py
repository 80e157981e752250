"""`tagger eval history`: one row per stored eval, so a prompt's progress is one command.

`eval` stays a plain command (its options keep working); a first argument `history` hands the
rest of the command line to the `history` command below."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click

from tagger.cli.store import open_for_reading, read_store_option


@click.command("history")
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    default=("micro_f1",),
    show_default=True,
    help="Metric column (repeatable).",
)
@read_store_option
@click.option("--json", "as_json", is_flag=True, help="JSON (every metric) instead of a table.")
def history(metrics: tuple[str, ...], store_file: Path | None, as_json: bool) -> None:
    """Every stored eval, oldest first: date, model, prompt, gold file hash, metrics."""
    from tagger.store.queries import eval_history

    with contextlib.closing(open_for_reading(store_file)) as conn:
        rows = eval_history(conn)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo("\t".join(["run", "date", "model", "prompt", "gold", *metrics]))
    for row in rows:
        values = [_number(row["metrics"].get(m)) for m in metrics]
        cells = [str(row["run_id"]), row["created_at"], row["model"], row["prompt"]]
        click.echo("\t".join([*cells, row["gold_hash"][:12], *values]))


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


class EvalCommand(click.Command):
    """`tagger eval [options]`, or `tagger eval history [options]`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] == "history":
            ctx.meta["tagger.eval_history"] = args[1:]
            return []
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        rest = ctx.meta.get("tagger.eval_history")
        if rest is None:
            return super().invoke(ctx)
        with history.make_context("history", list(rest), parent=ctx) as sub:
            return history.invoke(sub)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_paragraph()
        formatter.write_text("`tagger eval history --help`: the scores of earlier evals.")
