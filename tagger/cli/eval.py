"""`tagger eval`: score a model/prompt on the gold set, side by side, gated on a baseline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tagger.cli.common import echo_err, model_options, pack_option

if TYPE_CHECKING:
    from tagger.evaluate.models import EvalReport


@click.command("eval")
@click.option(
    "--gold", "gold_path", default=None, help="Gold JSONL file [default: eval/gold.jsonl]."
)
@model_options
@click.option(
    "--repeats",
    type=click.IntRange(1, 50),
    default=1,
    show_default=True,
    help="Run each paper N times (separate cache namespaces); report pass^N and agreement.",
)
@click.option(
    "--compare",
    default=None,
    metavar="MODEL_OR_PROMPT",
    help="Second system side by side: a prompt (NAME@vN, .yaml), a model, or a predictions .jsonl.",
)
@click.option("--baseline", default=None, help="Saved JSON report to gate against.")
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    default=("micro_f1",),
    show_default=True,
    help="Metric the gate checks (repeatable), e.g. --metric micro_f1 --metric rouge1.",
)
@click.option(
    "--max-drop",
    type=click.FloatRange(0),
    default=0.02,
    show_default=True,
    help="Largest allowed drop below the baseline (absolute) before exiting 1.",
)
@click.option("--from-log", default=None, help="Re-score a predictions JSONL; no model runs.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N gold papers.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=None, help="Parallel calls.")
@pack_option
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report instead of the table.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="REPORT.md (+ REPORT.json), REPORT.json or REPORT.html; the predictions log goes beside "
    "it [default: $TAGGER_HOME/evals/<timestamp>/].",
)
def eval_(
    gold_path: str | None,
    model: str | None,
    api_base: str | None,
    api_key: str | None,
    taxonomy_path: str | None,
    prompt_ref: str | None,
    max_tags: int,
    mode: str | None,
    threads: int | None,
    repeats: int,
    compare: str | None,
    baseline: str | None,
    metrics: tuple[str, ...],
    max_drop: float,
    from_log: str | None,
    limit: int | None,
    no_cache: bool,
    concurrency: int | None,
    pack: int,
    progress: bool | None,
    as_json: bool,
    output: Path | None,
) -> None:
    """Score a model and prompt on a labelled gold set: tag P/R/F1, summary ROUGE, compliance and
    faithfulness, consistency across --repeats, and cost per paper.

    Uses the same cache as `tagger run`, so re-evaluating an unchanged prompt costs nothing.
    With --baseline, exits 1 when a --metric drops by more than --max-drop.
    """
    from tagger.atomic import is_stdout, write_output
    from tagger.cache import tagger_home
    from tagger.evaluate.predict import PredictOptions
    from tagger.evaluate.report import report_paths, to_markdown, write_reports
    from tagger.evaluate.session import EvalOptions, ModelChoice, run_eval

    options = EvalOptions(
        choice=ModelChoice(
            model, api_base, api_key, taxonomy_path, prompt_ref, max_tags, mode, threads
        ),
        gold_path=gold_path,
        repeats=repeats,
        compare=compare,
        from_log=from_log,
        limit=limit,
        baseline=baseline,
        metrics=metrics,
        max_drop=max_drop,
        predict=PredictOptions(
            use_cache=not no_cache, concurrency=concurrency, progress=progress, pack=pack
        ),
    )
    to_stdout = output is not None and is_stdout(output)  # `-o -`: the Markdown report
    paths = report_paths(None if to_stdout else output, tagger_home())
    report = run_eval(options, paths)
    written = write_reports(report, paths)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        for note in report.notes:
            echo_err(f"tagger: note: {note}")
    elif to_stdout:
        write_output("-", to_markdown(report))  # files still go under $TAGGER_HOME/evals
    else:
        _print_table(report, str(paths.markdown or paths.html or paths.json))
    echo_err("tagger: report: " + ", ".join(str(p) for p in written))
    if report.gate is not None and not report.gate.passed:
        for check in (c for c in report.gate.checks if c.failed):
            echo_err(
                f"tagger: regression: {check.metric} {check.baseline:.4f} -> {check.current:.4f} "
                f"(worse by {check.drop:.4f}, more than --max-drop {max_drop:g})."
            )
        sys.exit(1)


def _print_table(report: EvalReport, more_in: str) -> None:
    from rich.console import Console

    from tagger.evaluate.report import print_terminal

    # Piped output (CI logs) gets a fixed width wide enough for a side-by-side table.
    console = Console() if sys.stdout.isatty() else Console(width=140)
    print_terminal(report, console, more_in=more_in)
    sys.stdout.flush()  # before the stderr lines that follow
