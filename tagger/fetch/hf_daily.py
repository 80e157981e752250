"""Hugging Face daily papers: GET {api}/daily_papers?date=YYYY-MM-DD, a JSON list of
{"paper": {"id": arXiv id, "title", "summary", "authors": [{"name"}], "upvotes",
"publishedAt"}, "publishedAt", ...} (the listing the bundled samples were dumped from)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tagger.fetch.http import FetchError, Http
from tagger.fetch.records import FetchedPaper
from tagger.ingest.ids import abs_url, parse_arxiv_id

DEFAULT_API_URL = "https://huggingface.co/api"


def fetch_hf_daily(day: dt.date, http: Http, api_url: str = DEFAULT_API_URL) -> list[FetchedPaper]:
    url = api_url.rstrip("/") + "/daily_papers"
    body = http.get(url, {"date": day.isoformat()})
    return parse_listing(body, url)


def parse_listing(body: bytes, url: str) -> list[FetchedPaper]:
    """The papers of one listing; a body that is not a JSON list of papers is a FetchError."""
    try:
        items = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FetchError(
            f"the daily-papers API at {url} answered something that is not JSON ({exc}).",
            hint="Check the API URL (--api-url, or api_url in daily.yaml); if it is Hugging "
            "Face, try again later.",
        ) from None
    if not isinstance(items, list):
        raise FetchError(
            f"the daily-papers API at {url} answered a JSON {type(items).__name__}, not a list.",
            hint="Check the API URL (--api-url, or api_url in daily.yaml): it should end in /api.",
        )
    return [p for p in (_paper(i) for i in items) if p is not None]


def _paper(item: Any) -> FetchedPaper | None:
    paper = item.get("paper") if isinstance(item, dict) else None
    if not isinstance(paper, dict):
        return None
    ref = parse_arxiv_id(str(paper.get("id", "")))
    title = _text(paper.get("title") or item.get("title"))
    abstract = _text(paper.get("summary") or item.get("summary"))
    if ref is None or not title or not abstract:
        return None
    upvotes = paper.get("upvotes")
    return FetchedPaper(
        id=ref.id + (ref.version or ""),
        arxiv_id=ref.id,
        version=ref.version,
        title=title,
        abstract=abstract,
        authors=[_text(a.get("name")) for a in _list(paper.get("authors")) if _name(a)],
        published=_str(paper.get("publishedAt") or item.get("publishedAt")),
        url=abs_url(ref.id),
        upvotes=upvotes if isinstance(upvotes, int) and not isinstance(upvotes, bool) else None,
        source="hf-daily",
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(author: Any) -> bool:
    return isinstance(author, dict) and bool(author.get("name"))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
