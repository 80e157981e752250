"""The arXiv API (Atom feed): papers of some categories since a date, page by page.

Terms of use honoured: one request every 3 seconds (Http.interval_s), pages of at most 100,
a User-Agent naming tagger. https://info.arxiv.org/help/api/tou.html
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax import SAXException

from tagger.fetch.http import FetchError, Http
from tagger.fetch.records import FetchedPaper
from tagger.ingest.ids import abs_url, parse_arxiv_id

DEFAULT_API_URL = "https://export.arxiv.org/api/query"
INTERVAL_S = 3.0
PAGE_SIZE = 100


@dataclass(frozen=True)
class ArxivQuery:
    categories: Sequence[str]
    since: dt.date | None = None
    until: dt.date | None = None
    max_results: int | None = None
    page_size: int = PAGE_SIZE

    def search(self) -> str:
        cats = " OR ".join(f"cat:{c}" for c in self.categories)
        query = f"({cats})" if len(self.categories) > 1 else cats
        if self.since is None:
            return query
        until = self.until or dt.date.today()
        window = f"submittedDate:[{self.since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"
        return f"{query} AND {window}"


def fetch_arxiv(
    query: ArxivQuery, http: Http, api_url: str = DEFAULT_API_URL
) -> Iterator[list[FetchedPaper]]:
    """Yield one list of papers per page, newest first, until the listing or --max ends."""
    start, taken = 0, 0
    while query.max_results is None or taken < query.max_results:
        size = min(query.page_size, (query.max_results or query.page_size) - taken)
        params = {
            "search_query": query.search(),
            "start": str(start),
            "max_results": str(size),
            "sortBy": "submittedDate",
            "sortOrder": "descending",
        }
        total, papers = parse_feed(http.get(api_url, params), api_url)
        if not papers:
            return
        yield papers
        start, taken = start + len(papers), taken + len(papers)
        if start >= total:
            return


def parse_feed(body: bytes, url: str) -> tuple[int, list[FetchedPaper]]:
    """(opensearch:totalResults, papers) of one Atom page; malformed XML is a FetchError."""
    import feedparser

    feed = feedparser.parse(body)
    problem = feed.get("bozo_exception")
    # A parse error (not a mere encoding note) means a cut-off or non-XML page: never half-read it.
    if isinstance(problem, SAXException) or (feed.bozo and not feed.entries):
        reason = getattr(problem, "getMessage", lambda: "not Atom XML")()
        raise FetchError(
            f"the arXiv API at {url} answered something that is not an Atom feed ({reason}).",
            hint="Check the API URL (--api-url, or api_url in daily.yaml); if it is arXiv, "
            "try again later.",
        )
    _raise_api_error(feed, url)
    total = _int(feed.feed.get("opensearch_totalresults"), default=len(feed.entries))
    return total, [p for p in (_paper(e) for e in feed.entries) if p is not None]


def _raise_api_error(feed: Any, url: str) -> None:
    # The API reports a bad query as a feed with one entry titled "Error".
    for entry in feed.entries:
        if "api/errors" in str(entry.get("id", "")):
            raise FetchError(
                f"the arXiv API at {url} rejected the query: {_text(entry.get('summary'))}.",
                hint="Check --category names (e.g. cs.LG).",
            )


def _paper(entry: Any) -> FetchedPaper | None:
    ref = parse_arxiv_id(str(entry.get("id", "")))
    title, abstract = _text(entry.get("title")), _text(entry.get("summary"))
    if ref is None or not title or not abstract:
        return None  # not a paper entry (or an empty one): nothing `tagger run` could tag
    return FetchedPaper(
        id=ref.id + (ref.version or ""),
        arxiv_id=ref.id,
        version=ref.version,
        title=title,
        abstract=abstract,
        authors=[_text(a.get("name")) for a in entry.get("authors", []) if a.get("name")],
        categories=[str(t["term"]) for t in entry.get("tags", []) if t.get("term")],
        published=entry.get("published"),
        updated=entry.get("updated"),
        url=abs_url(ref.id),
        source="arxiv",
    )


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
