"""`tagger eval`: score a model/prompt on the gold set, side by side, gated on a baseline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tagger.cli.common import echo_err, head_option, model_options, pack_option
from tagger.cli.eval_history import EvalCommand
from tagger.cli.store import record_eval_report, store_options

if TYPE_CHECKING:
    from tagger.evaluate.models import EvalReport


@click.command("eval", cls=EvalCommand)
@click.option(
    "--gold", "gold_path", default=None, help="Gold JSONL file [default: eval/gold.jsonl]."
)
@click.option(
    "--split",
    type=click.Choice(["test", "dev", "all"]),
    default=None,
    help="Gold papers to score: test (report and gate), dev (tune), all "
    "[default: test when the gold file has splits, else all].",
)
@model_options
@head_option
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
@store_options
def eval_(
    gold_path: str | None,
    split: str | None,
    model: str | None,
    api_base: str | None,
    api_key: str | None,
    taxonomy_path: str | None,
    prompt_ref: str | None,
    max_tags: int,
    mode: str | None,
    threads: int | None,
    head: str | None,
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
    Exits 0 when every paper was answered (and the --baseline gate passed), 1 when a paper
    failed or a --metric dropped by more than --max-drop, 2 on a usage or input error.
    """
    from tagger.atomic import check_output_path, is_stdout, write_output
    from tagger.evaluate.predict import PredictOptions
    from tagger.evaluate.report import report_paths, to_markdown, write_reports
    from tagger.evaluate.session import EvalOptions, ModelChoice, run_eval
    from tagger.run.cache import tagger_home

    options = EvalOptions(
        choice=ModelChoice(
            model, api_base, api_key, taxonomy_path, prompt_ref, max_tags, mode, threads, head
        ),
        gold_path=gold_path,
        split=split,
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
    for path in (paths.json, paths.markdown, paths.html):
        if path is not None:
            check_output_path(path)  # a FIFO or device: refused before any model call
    report = run_eval(options, paths)
    written = write_reports(report, paths)
    record_eval_report(report, echo_err)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    elif to_stdout:
        write_output("-", to_markdown(report))  # files still go under $TAGGER_HOME/evals
    else:
        _print_table(report, str(paths.markdown or paths.html or paths.json))
    for warning in [*report.notes, *(report.gate.warnings if report.gate else [])]:
        echo_err(f"tagger: warning: {warning}")
    echo_err("tagger: report: " + ", ".join(str(p) for p in written))
    regressed = _report_regressions(report, max_drop)
    failed = _report_failures(report, retry=_retry_hint(from_log, compare, no_cache))
    if regressed or failed:
        sys.exit(1)


def _report_regressions(report: EvalReport, max_drop: float) -> bool:
    if report.gate is None or report.gate.passed:
        return False
    for check in (c for c in report.gate.checks if c.failed):
        echo_err(
            f"tagger: regression: {check.metric} {check.baseline:.4f} -> {check.current:.4f} "
            f"(worse by {check.drop:.4f}, more than --max-drop {max_drop:g})."
        )
    return True


def _report_failures(report: EvalReport, retry: str) -> bool:
    """One line per system that answered nothing, then one closing line with the counts."""
    from tagger.evaluate.session import answered_nothing

    for system in filter(answered_nothing, report.systems):
        first = system.failed[0].error or "no answer"
        echo_err(
            f"tagger: error: {system.label} ({system.model}) failed on every paper "
            f"({len(system.papers)} of {len(system.papers)}); the first error: {first}"
        )
    ids = {p.id for s in report.systems for p in s.failed}
    if not ids:
        return False
    counts = ", ".join(f"{s.label}: {len(s.failed)}" for s in report.systems if s.failed)
    echo_err(
        f"tagger: {len(ids)} of {report.gold.papers} papers failed ({counts}); they count as "
        f"empty predictions. {retry}"
    )
    return True


def _retry_hint(from_log: str | None, compare: str | None, no_cache: bool) -> str:
    logged = [path for path in (from_log, compare) if path and path.endswith(".jsonl")]
    if logged:
        return "`tagger run INPUT -o LOG --resume --retry-failed` redoes a log's failed papers."
    cached = " (answered papers come from the cache)" if not no_cache else ""
    return f"Rerun the same command to retry them{cached}."


def _print_table(report: EvalReport, more_in: str) -> None:
    from rich.console import Console

    from tagger.evaluate.report import print_terminal

    # Piped output (CI logs) gets a fixed width wide enough for a side-by-side table.
    console = Console() if sys.stdout.isatty() else Console(width=140)
    print_terminal(report, console, more_in=more_in)
    sys.stdout.flush()  # before the stderr lines that follow
