"""`tagger run`: the batch job."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tagger.cli.common import (
    WarningPrinter,
    echo_err,
    format_option,
    head_option,
    model_options,
    pack_option,
)
from tagger.cli.store import run_recorder, store_options
from tagger.errors import ConfigError
from tagger.records import RunManifest, format_cost

if TYPE_CHECKING:
    from tagger.config.build import ModelSetup


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="OUT.jsonl")
@model_options
@format_option
@click.option("--concurrency", type=click.IntRange(1, 1024), default=None, help="Parallel calls.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Tag only the first N papers.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option("--resume", is_flag=True, help="Skip papers already in OUT and append the rest.")
@click.option("--retry-failed", is_flag=True, help="With --resume: redo papers that failed.")
@click.option("--overwrite", is_flag=True, help="Replace an existing OUT.")
@pack_option
@click.option("--batch", is_flag=True, help="Use the provider's batch API (cheaper, slower).")
@click.option(
    "--poll-interval", type=float, default=30.0, show_default=True, help="--batch poll s."
)
@click.option(
    "--wait/--no-wait", default=True, help="--batch: wait for results or submit and exit."
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=50_000,
    show_default=True,
    help="--batch: most requests per batch (larger runs are split; files stay under 190 MB).",
)
@click.option("--endpoints", default=None, help="YAML pool of OpenAI-compatible servers.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Client processes making remote model calls (for fast servers: one process makes "
    "~90 calls/s).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds one model request may take before it is retried [default: 120].",
)
@click.option(
    "--max-failures",
    type=click.IntRange(1),
    default=None,
    help="Stop once N papers have failed [default: when the first 20 all failed, or more "
    "than half of any 100 in a row]. What was answered stays written.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=None,
    help="Near-dup Jaccard.",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
@click.option("--json", "as_json", is_flag=True, help="Print the run manifest as JSON on stdout.")
@store_options
@head_option
def run(
    inputs: tuple[str, ...],
    output: Path,
    model: str | None,
    api_base: str | None,
    api_key: str | None,
    taxonomy_path: str | None,
    prompt_ref: str | None,
    max_tags: int,
    mode: str | None,
    threads: int | None,
    fmt: str,
    concurrency: int | None,
    limit: int | None,
    no_cache: bool,
    resume: bool,
    retry_failed: bool,
    overwrite: bool,
    pack: int,
    batch: bool,
    poll_interval: float,
    wait: bool,
    batch_size: int,
    endpoints: str | None,
    workers: int,
    timeout: float | None,
    max_failures: int | None,
    threshold: float | None,
    progress: bool | None,
    as_json: bool,
    head: str | None,
) -> None:
    """Deduplicate INPUT files/folders, then tag and summarize each unique paper into OUT.

    Writes one JSON line per unique paper as it finishes, and OUT.run.json beside it.
    """
    from tagger import embedded
    from tagger.atomic import is_stdout
    from tagger.config.build import build_setup
    from tagger.dedup.source import open_unique
    from tagger.models.factory import default_concurrency
    from tagger.run.cache import ResultCache
    from tagger.run.job import Job, limit_papers
    from tagger.run.output import manifest_path
    from tagger.run.progress import progress_for_stderr
    from tagger.run.settings import BatchSettings, RunSettings

    if retry_failed:
        resume = True
    if is_stdout(output) and as_json:
        raise ConfigError("--json prints to stdout, which -o - already uses for the records.")
    setup = build_setup(
        model=model,
        api_base=api_base,
        api_key=api_key,
        taxonomy_path=taxonomy_path,
        prompt_ref=prompt_ref,
        max_tags=max_tags,
        mode=mode,
        threads=threads,
        endpoints=endpoints,
        head=head,
    )
    _set_timeout(setup.gateway, timeout)
    if workers > 1:
        _use_workers(setup, workers, batch)
    printer = WarningPrinter()
    is_local = embedded.is_local(setup.gateway.model)
    settings = RunSettings(
        output=output,
        prompt=setup.prompt,
        taxonomy=setup.taxonomy,
        max_tags=max_tags,
        concurrency=concurrency or default_concurrency(setup.gateway),
        use_cache=not no_cache,
        resume=resume,
        retry_failed=retry_failed,
        overwrite=overwrite,
        inputs=list(inputs),
        batch=BatchSettings(poll_interval, wait, batch_size) if batch else None,
        pack=1 if is_local else pack,  # embedded models already batch internally
        max_failures=max_failures,
    )
    cache = None if no_cache else ResultCache()
    try:
        with open_unique(list(inputs), fmt=fmt, threshold=threshold, warn=printer) as source:
            printer.finish("" if is_stdout(output) else f" (all in {manifest_path(output)})")
            job = Job(
                settings,
                setup.gateway,
                cache,
                progress=progress_for_stderr(progress),
                warn=echo_err,
                recorder=run_recorder(echo_err),
            )
            job.manifest.warnings.extend(source.warnings)
            job.manifest.skipped_invalid = source.skipped
            papers = limit_papers(source, limit)
            count = min(source.unique_count, limit or source.unique_count)
            run = job.run(papers, source.input_count, source.unique_count, total=count)
            with sigterm_as_ctrl_c():
                manifest = asyncio.run(run)
    finally:
        if cache is not None:
            cache.close()
    c, u = manifest.counts, job.usage  # this invocation; OUT.run.json also keeps the totals
    limited = f", first {count} (--limit)" if count < c.unique else ""
    echo_err(
        f"{c.input} records -> {c.unique} unique{limited}; tagged {c.tagged} ({c.cached} cached), "
        f"failed {c.failed}, skipped {c.skipped_resume} already done -> {output} "
        f"[{manifest.wall_time_s:.1f}s, {u.prompt_tokens + u.completion_tokens} tokens, "
        f"{format_cost(u.cost_usd)}]{manifest.skipped_invalid.phrase()}" + _redo_hint(manifest)
    )
    if as_json:
        click.echo(json.dumps(manifest.model_dump(mode="json"), indent=2))
    _report_stop(manifest)
    _finish(manifest)


def _report_stop(manifest: RunManifest) -> None:
    """A stopped run says why in one line (its exit code says whether to fix the setup)."""
    if manifest.stopped is None:
        return
    left = manifest.counts.not_attempted
    echo_err(
        f"tagger: error: run stopped: {manifest.stopped}; {left} papers not attempted. "
        "Fix the cause, then rerun with --retry-failed (answered papers are kept)."
    )


def _redo_hint(manifest: RunManifest) -> str:
    """Appended to the closing line when not every paper was answered."""
    from tagger.run.manifest import closing_line

    line = closing_line(manifest)
    return "" if line is None or manifest.stopped else f"; {line}"


def _finish(manifest: RunManifest) -> None:
    """The run's exit code (1: some papers failed; 2: stopped by a cause to fix)."""
    from tagger.run.manifest import exit_code

    code = exit_code(manifest)
    if code:
        sys.exit(code)  # like eval's gate: SystemExit passes through click to the shell


def _use_workers(setup: ModelSetup, workers: int, batch: bool) -> None:
    from tagger.models.remote import LiteLLMGateway

    if batch:
        raise ConfigError("--workers does not apply to --batch (the provider makes the calls).")
    if not isinstance(setup.gateway, LiteLLMGateway):
        raise ConfigError(
            "--workers applies to remote models; embedded models use --threads instead."
        )
    from tagger.models.workers import WorkerGateway

    setup.gateway = WorkerGateway(setup.gateway, workers)


def _set_timeout(gateway: object, timeout: float | None) -> None:
    from tagger.models.remote import LiteLLMGateway

    if timeout is not None and isinstance(gateway, LiteLLMGateway):
        gateway.timeout_s = timeout  # embedded models run in-process: nothing to time out


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (systemd, `kill`, a CI timeout) stops a run as Ctrl-C does: asyncio's SIGINT
    handler cancels the run, which writes what was answered and its manifest, then exit 130."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
