"""`tagger cache path|stats|clear|prune`."""

from __future__ import annotations

import json
import re

import click


def _parse_duration(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw]?)", text.strip())
    if match is None:
        raise click.BadParameter("use a number with a unit: 90s, 30m, 12h, 7d, 2w")
    unit = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
    return float(match.group(1)) * unit


def _prompt_tag(ref: str) -> str:
    """Entries are tagged NAME@vN; anything else could never match, so it is refused."""
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)@v?(\d+)", ref.strip())
    if match is None:
        raise click.BadParameter(
            f"'{ref}' is not a prompt reference; use NAME@vN, e.g. tag_summarize@v1 "
            "(see `tagger prompts list`).",
            param_hint="--prompt",
        )
    return f"{match.group(1)}@v{match.group(2)}"


@click.group()
def cache() -> None:
    """Inspect and manage the result cache ($TAGGER_HOME/cache)."""


@cache.command("path")
def path() -> None:
    """Print the cache directory."""
    from tagger.run.cache import default_cache_dir

    click.echo(str(default_cache_dir()))


@cache.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def stats(as_json: bool) -> None:
    """Entries, size on disk and the size limit."""
    from tagger.run.cache import ResultCache

    with ResultCache() as store:
        info = store.stats()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        click.echo(f"{key:18} {value}")


@cache.command("clear")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def clear(yes: bool) -> None:
    """Delete every cached answer."""
    from tagger.run.cache import ResultCache

    if not yes and not click.confirm("Delete every cached answer?"):
        click.echo("nothing removed.", err=True)
        raise SystemExit(1)  # a "no" is an answer, not an interrupt (130)
    with ResultCache() as store:
        removed = store.clear()
    click.echo(f"removed {removed} entries")


@cache.command("prune")
@click.option("--older-than", default=None, help="Remove entries older than this (e.g. 30d).")
@click.option("--prompt", "prompt_ref", default=None, help="Remove one prompt's entries (NAME@vN).")
def prune(older_than: str | None, prompt_ref: str | None) -> None:
    """Remove old entries or one prompt version's entries, then enforce the size limit."""
    from tagger.run.cache import ResultCache

    seconds = _parse_duration(older_than) if older_than else None
    if prompt_ref is not None:
        prompt_ref = _prompt_tag(prompt_ref)
    if seconds is None and prompt_ref is None:
        raise click.UsageError("say what to remove: --older-than DURATION and/or --prompt NAME@vN.")
    with ResultCache() as store:
        removed = store.prune(older_than_s=seconds, prompt=prompt_ref)
    click.echo(f"removed {removed} entries")
