"""`tagger dedup`: read inputs, merge duplicates, write unique papers and what was merged."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence

import click
from pydantic import BaseModel

from tagger.atomic import check_output_path, is_stdout, write_atomic
from tagger.cli.common import WarningPrinter
from tagger.dedup.grouping import DEFAULT_THRESHOLD, Deduplicator
from tagger.dedup.report import DedupCounts, DedupGroup
from tagger.errors import ConfigError, OutputError
from tagger.ingest import FORMATS, iter_papers
from tagger.records import SkippedRecords


class DedupSummary(BaseModel):
    """What `tagger dedup --json` prints."""

    counts: DedupCounts
    threshold: float
    output: str
    report: str | None
    warnings: int
    skipped_invalid: SkippedRecords


@click.command("dedup")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o", "--output", required=True, metavar="OUT.jsonl", help="Write the unique papers here."
)
@click.option(
    "--report", "report_path", metavar="GROUPS.json", help="Write what was merged into what."
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Near-duplicate Jaccard similarity of word 3-grams (title + abstract).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Input format; auto detects each file's.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT (and GROUPS.json) if they exist.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def dedup(
    inputs: tuple[str, ...],
    output: str,
    report_path: str | None,
    threshold: float,
    fmt: str,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Merge duplicate papers in INPUT files or directories; write one line per unique paper.

    Duplicates share a normalized title or abstract, an arXiv id (any version), or are
    near-identical (--threshold). Each output line lists the ids (or sources) merged into it.
    """
    _check_outputs(inputs, [output, report_path], overwrite)
    warnings = WarningPrinter()
    with Deduplicator(threshold) as finder:  # records wait on disk, not in memory
        skipped = SkippedRecords()
        finder.add_all(iter_papers(inputs, fmt, warnings, skipped))
        warnings.finish(" (all are in the --report file)" if report_path else "")
        write_unique(output, finder.groups())
        if report_path:
            report = finder.report(warnings.messages).model_dump_json(indent=2)
            _write_atomic(report_path, [report])
        click.echo(f"tagger: {finder.summary()}{skipped.phrase()}", err=True)
        if as_json:
            summary = _summary(finder, output, report_path, len(warnings.messages), skipped)
            click.echo(summary.model_dump_json())


def write_unique(path: str, groups: Iterable[DedupGroup]) -> None:
    """One JSON line per unique paper: the Paper's fields plus its merged duplicates."""
    lines = (
        json.dumps({**g.paper.model_dump(mode="json"), "duplicates": g.duplicate_refs})
        for g in groups
    )
    _write_atomic(path, lines)


def _summary(
    finder: Deduplicator,
    output: str,
    report: str | None,
    warnings: int,
    skipped: SkippedRecords,
) -> DedupSummary:
    return DedupSummary(
        skipped_invalid=skipped,
        counts=finder.counts(),
        threshold=finder.threshold,
        output=output,
        report=report,
        warnings=warnings,
    )


def _write_atomic(path: str, lines: Iterable[str]) -> None:
    """Lines to ``path`` through the one atomic writer (`-` is stdout)."""
    if is_stdout(path):
        sys.stdout.writelines(line + "\n" for line in lines)
        return
    write_atomic(path, (line + "\n" for line in lines))


def _check_outputs(inputs: Sequence[str], outputs: Sequence[str | None], overwrite: bool) -> None:
    """Fail before the (possibly long) read, not after it."""
    sources = {os.path.abspath(p) for p in inputs}
    for out in outputs:
        if not out:
            continue
        if os.path.abspath(out) in sources:
            raise ConfigError(
                "is both an input and an output.", path=out, hint="Choose another output path."
            )
        if not os.path.isdir(os.path.dirname(os.path.abspath(out))):
            raise OutputError(
                "cannot be written: its directory does not exist.",
                path=out,
                hint="Create the directory first.",
            )
        if not overwrite and os.path.isfile(out) and os.path.getsize(out) > 0:
            raise ConfigError(
                "output file already exists.", path=out, hint="Use --overwrite to replace it."
            )
        if not is_stdout(out):
            check_output_path(out)  # a FIFO or device: refused before anything is written
