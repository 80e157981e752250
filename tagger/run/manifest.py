"""What OUT.run.json says about a run: its identity, its exit code and every invocation's spend.

One place for the rules a --resume must keep: the same model, endpoint, prompt, taxonomy and K
as the run that wrote OUT, and the history of what each earlier invocation did and spent.
"""

from __future__ import annotations

from pathlib import Path

from tagger.errors import ConfigError
from tagger.records import Invocation, RunManifest, TaggedPaper, Usage
from tagger.run.output import manifest_path

# Exit codes of `tagger run` (README "Exit codes"); 2 (usage, config, input) comes from the CLI.
EXIT_OK = 0  # every paper answered
EXIT_FAILED = 1  # some papers failed (or too many did, and the run stopped early)
EXIT_FIX_SETUP = 2  # stopped by a cause no retry fixes (a wrong key, an unknown model)
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGTERM: what was answered is written, `--resume` continues

# field -> how the refusal names it
_IDENTITY = {
    "model": "model",
    "api_base": "api base",
    "prompt": "prompt",
    "taxonomy_hash": "taxonomy",
    "max_tags": "--max-tags",
}


def exit_code(manifest: RunManifest) -> int:
    """The one mapping from a run's result to its exit code."""
    if manifest.interrupted:
        return EXIT_INTERRUPTED
    if manifest.stopped is not None:
        return EXIT_FIX_SETUP if manifest.stopped_by_cause else EXIT_FAILED
    if manifest.counts.failed or manifest.counts.failed_earlier:
        return EXIT_FAILED
    return EXIT_OK


def closing_line(manifest: RunManifest) -> str | None:
    """What to say last when not every paper was answered; None when all were."""
    failed, earlier = manifest.counts.failed, manifest.counts.failed_earlier
    if not failed and not earlier:
        return None
    said = []
    if failed:
        said.append(f"{failed} {'paper' if failed == 1 else 'papers'} failed")
    if earlier:
        said.append(f"{earlier} failed in an earlier invocation and kept by --resume")
    return (
        f"{' and '.join(said)} (exit 1): rerun the same command with "
        "--retry-failed to redo only those."
    )


def load_previous(out: Path) -> RunManifest | None:
    """The manifest an earlier invocation left beside OUT; None if there is none or it is
    unreadable (a damaged manifest loses its history, never the run)."""
    path = manifest_path(out)
    try:
        return RunManifest.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def check_identity(
    new: RunManifest, previous: RunManifest | None, done: dict[str, TaggedPaper]
) -> None:
    """Refuse a --resume that would append answers of another model/prompt/taxonomy/K to OUT."""
    if not done:
        return  # nothing written yet: nothing to mix with
    if previous is not None:
        for field, name in _IDENTITY.items():
            was, now = getattr(previous, field), getattr(new, field)
            if was != now:
                _refuse(new.output, name, was, now)
        return
    for record in done.values():  # no manifest: the lines themselves say model and prompt
        if record.model != new.model:
            _refuse(new.output, "model", record.model, new.model)
        if record.prompt != new.prompt:
            _refuse(new.output, "prompt", record.prompt, new.prompt)


def _refuse(out: str, name: str, was: object, now: object) -> None:
    shown = {"taxonomy": "a different taxonomy file content"}.get(name)
    detail = shown or f"{was!r}, this run {now!r}"
    raise ConfigError(
        f"--resume refused: OUT was written with another {name} ({detail}).",
        path=out,
        hint="Use the same settings to continue it, or write to another -o (or --overwrite).",
    )


def record_invocation(manifest: RunManifest, previous: RunManifest | None) -> None:
    """Append this invocation to the history carried over from `previous`; usage = totals."""
    history = list(previous.invocations) if previous is not None else []
    if previous is not None and not history:  # a manifest from before the history was kept
        history.append(_as_invocation(previous, exit_code=None))
    history.append(_as_invocation(manifest, exit_code=manifest.exit_code))
    manifest.invocations = history
    total = Usage()
    for invocation in history:
        total.add(invocation.usage)
    manifest.usage = total


def _as_invocation(manifest: RunManifest, *, exit_code: int | None) -> Invocation:
    return Invocation(
        started_at=manifest.started_at,
        finished_at=manifest.finished_at,
        wall_time_s=manifest.wall_time_s,
        model=manifest.model,
        api_base=manifest.api_base,
        prompt=manifest.prompt,
        counts=manifest.counts.model_copy(),
        usage=manifest.usage.model_copy(),
        interrupted=manifest.interrupted,
        exit_code=exit_code,
    )
