"""The run step: `tagger run DATE/papers.jsonl -o DATE/tagged.jsonl`; run again, it keeps the
answers and redoes the failed papers (`--retry-failed`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tagger.daily.config import DailyConfig
from tagger.errors import TaggerError

# `tagger run ARGS` in this process, returning its exit code (the CLI hands it in: nothing
# below tagger.cli imports it).
RunTagger = Callable[[list[str]], object]


def tag_papers(config: DailyConfig, papers: Path, tagged: Path, run_tagger: RunTagger) -> None:
    if not papers.exists() or papers.stat().st_size == 0:
        # An empty day: `tagger run` refuses an empty input; there is simply nothing to tag.
        tagged.write_text("", encoding="utf-8")
        return
    args = [str(papers), "-o", str(tagged), "--model", config.model]
    if config.taxonomy is not None:
        args += ["--taxonomy", str(config.taxonomy.resolve())]
    if config.api_base:
        args += ["--api-base", config.api_base]
    # continuing a cut-short or failed step: keep the answers, redo the failed papers
    args.append("--retry-failed" if tagged.exists() else "--overwrite")
    code = run_tagger(args)
    if code in (None, 0) or _some_answered(tagged, code):
        return
    raise TaggerError(
        f"`tagger run` exited with code {code} (the next `tagger daily` call keeps its answers "
        "and redoes the failed papers).",
        path=str(tagged),
    )


def _some_answered(tagged: Path, code: object) -> bool:
    """Exit 1 with the run finished (not stopped) means some papers failed: today's digest
    goes out with the answered ones, and says so; a stopped or unanswered run is a failed step."""
    import click

    from tagger.records import RunManifest
    from tagger.run.output import manifest_path

    if code != 1:
        return False
    try:
        manifest = RunManifest.model_validate_json(manifest_path(tagged).read_bytes())
    except (OSError, ValueError):
        return False
    counts = manifest.counts
    if manifest.stopped is not None or counts.tagged == 0:
        return False
    click.echo(
        f"tagger daily: warning: {counts.failed} of {counts.tagged + counts.failed} papers "
        "could not be tagged and are left out of this digest.",
        err=True,
    )
    return True
