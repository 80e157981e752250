"""Drive a source into a Sink, keeping what was written when the source fails half-way."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from tagger.fetch.arxiv import DEFAULT_API_URL as ARXIV_URL
from tagger.fetch.arxiv import INTERVAL_S, ArxivQuery, fetch_arxiv
from tagger.fetch.hf_daily import DEFAULT_API_URL as HF_URL
from tagger.fetch.hf_daily import fetch_hf_daily
from tagger.fetch.http import FetchError, Http
from tagger.fetch.records import FetchedPaper
from tagger.fetch.sink import FetchResult, Sink

ARXIV_ENV, HF_ENV = "TAGGER_ARXIV_API_URL", "TAGGER_HF_API_URL"


def arxiv_url(given: str | None) -> str:
    return given or os.environ.get(ARXIV_ENV) or ARXIV_URL


def hf_url(given: str | None) -> str:
    return given or os.environ.get(HF_ENV) or HF_URL


def fill(pages: Iterable[Sequence[FetchedPaper]], sink: Sink) -> FetchResult:
    """Write page after page; a failure says how many papers are already safe in OUT."""
    try:
        for page in pages:
            sink.add(page)
    except FetchError as exc:
        kept = f"{sink.result.written} new papers written to {sink.out} before this are kept."
        raise FetchError(exc.message, path=exc.path, hint=f"{kept} {exc.hint}") from None
    sink.touch()
    return sink.result


def arxiv_to(
    query: ArxivQuery,
    out: Path,
    state: Path | None,
    api_url: str | None = None,
    http: Http | None = None,
) -> FetchResult:
    client = http or Http(interval_s=INTERVAL_S)
    sink = Sink(out, state, dt.date.today().isoformat())
    return fill(fetch_arxiv(query, client, arxiv_url(api_url)), sink)


def hf_daily_to(
    day: dt.date,
    out: Path,
    state: Path | None,
    api_url: str | None = None,
    http: Http | None = None,
) -> FetchResult:
    client = http or Http(interval_s=1.0)
    sink = Sink(out, state, dt.date.today().isoformat())
    return fill([fetch_hf_daily(day, client, hf_url(api_url))], sink)
