"""The fetch step: every source into DATE/papers.jsonl; OUTPUT_DIR/fetch-state.json remembers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tagger.daily.config import DailyConfig


def fetch_sources(config: DailyConfig, day: dt.date, out: Path, root: Path) -> int:
    from tagger.fetch.arxiv import ArxivQuery
    from tagger.fetch.run import arxiv_to, hf_daily_to

    state = root / "fetch-state.json"
    written = 0
    for source in config.sources:
        if source.hf_daily is not None:
            written += hf_daily_to(day, out, state, source.hf_daily.api_url).written
        elif source.arxiv is not None:
            a = source.arxiv
            since = day - dt.timedelta(days=a.days)
            query = ArxivQuery(a.categories, since=since, until=day, max_results=a.max)
            written += arxiv_to(query, out, state, a.api_url).written
    return written
