"""`tagger fetch arxiv|hf-daily`: today's papers as JSONL that `tagger run` reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tagger.fetch import FetchResult

_DATE = click.DateTime(formats=["%Y-%m-%d"])

out_option = click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL file to append the new papers to (papers already in it are not fetched again).",
)
state_option = click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file remembering every paper fetched so far: later fetches skip them.",
)


@click.group(name="fetch")
def fetch() -> None:
    """Fetch papers from arXiv or Hugging Face daily papers as JSONL for `tagger run`."""


@fetch.command(name="arxiv")
@click.option(
    "--category", "categories", multiple=True, required=True, help="e.g. cs.LG (repeatable)."
)
@click.option("--since", type=_DATE, metavar="YYYY-MM-DD", help="Submitted on or after DATE.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Submitted in the last N days.  [default: 1 unless --since or --max bounds the fetch]",
)
@click.option("--max", "max_results", type=click.IntRange(min=1), help="At most N papers.")
@out_option
@state_option
@click.option(
    "--api-url", help="arXiv API endpoint.  [default: export.arxiv.org; env TAGGER_ARXIV_API_URL]"
)
def arxiv(
    categories: tuple[str, ...],
    since: dt.datetime | None,
    days: int | None,
    max_results: int | None,
    output: Path,
    state: Path | None,
    api_url: str | None,
) -> None:
    """Papers in CATEGORY through the arXiv API, newest first, one request every 3 seconds."""
    from tagger.errors import ConfigError
    from tagger.fetch.arxiv import ArxivQuery
    from tagger.fetch.run import arxiv_to

    if since and days:
        raise ConfigError("--since and --days both say where to start; give one.")
    if not (since or days or max_results):
        days = 1  # unbounded, a category's whole history at 100 papers per 3 seconds
    start = since.date() if since else dt.date.today() - dt.timedelta(days=days) if days else None
    query = ArxivQuery(categories, since=start, max_results=max_results)
    _report(arxiv_to(query, output, state, api_url), output)


@fetch.command(name="hf-daily")
@click.option("--date", "day", type=_DATE, metavar="YYYY-MM-DD", help="[default: today]")
@out_option
@state_option
@click.option(
    "--api-url",
    help="Hugging Face API base.  [default: https://huggingface.co/api; env TAGGER_HF_API_URL]",
)
def hf_daily(
    day: dt.datetime | None, output: Path, state: Path | None, api_url: str | None
) -> None:
    """The Hugging Face daily-papers listing of DATE, with upvotes."""
    from tagger.fetch.run import hf_daily_to

    date = day.date() if day else dt.date.today()
    _report(hf_daily_to(date, output, state, api_url), output)


def _report(result: FetchResult, output: Path) -> None:
    known = f", {result.skipped_known} already fetched" if result.skipped_known else ""
    click.echo(
        f"tagger fetch: {result.written} new papers written to "
        f"{'stdout' if str(output) == '-' else output} "
        f"({result.listed} listed{known}).",
        err=True,
    )
