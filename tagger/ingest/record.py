"""From the fields a format read to a Paper: display cleaning, ids, limits, per-record warnings."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from tagger.ingest.dates import iso_date
from tagger.ingest.ids import abs_url, content_id, parse_arxiv_id
from tagger.jsonio import has_surrogates, replace_surrogates
from tagger.normalize import collapse_whitespace
from tagger.records import Paper

OnWarning = Callable[[str], None]

MAX_ABSTRACT_CHARS = 20_000

# Lower-cased header/key spellings accepted for each field (first match wins).
TITLE_KEYS = ("title", "paper_title", "papertitle")
ABSTRACT_KEYS = ("abstract", "summary", "paper_abstract", "abstract_text", "description")
ID_KEYS = ("id", "arxiv_id", "arxivid", "arxiv", "paper_id", "entry_id")
URL_KEYS = ("url", "link", "abs_url", "arxiv_url", "paper_url", "pdf_url", "href")
AUTHOR_KEYS = ("authors", "author", "creators")
DATE_KEYS = ("date", "published", "publication_date", "submitted", "update_date", "created")
CATEGORY_KEYS = ("categories", "category", "primary_category", "subjects")

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|\band\b)\s*")
_CATEGORY_SPLIT = re.compile(r"[\s,;]+")


@dataclass
class RawRecord:
    """What one format read for one record, before ids and cleaning."""

    path: str
    line: int
    title: str = ""
    abstract: str = ""
    id: str = ""
    url: str = ""
    authors: tuple[str, ...] = ()
    date: str | None = None
    categories: tuple[str, ...] = ()
    version: str | None = None
    problem: str = ""  # why the line held no record (bad JSON); warned and counted as skipped
    upvotes: int | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def canonical_key(key: str) -> str:
    """'Title', ' Paper Title', 'paper-title' -> 'title' / 'paper_title' for alias lookup."""
    return key.strip().lower().replace(" ", "_").replace("-", "_")


def pick(mapping: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The first present, non-empty value among ``keys`` (mapping keys already canonical)."""
    for key in keys:
        value = mapping.get(key)
        if value or (value is not None and value not in ("", [], ())):  # truthy: no comparisons
            return value
    return None


def raw_from_mapping(mapping: Mapping[str, Any], path: str, line: int) -> RawRecord:
    """Read the known fields of a JSON object or CSV row, lenient on key case and type."""
    fields = {canonical_key(str(k)): v for k, v in mapping.items()}
    return RawRecord(
        path=path,
        line=line,
        title=_as_text(pick(fields, TITLE_KEYS)),
        abstract=_as_text(pick(fields, ABSTRACT_KEYS)),
        id=_as_text(pick(fields, ID_KEYS)),
        url=_as_text(pick(fields, URL_KEYS)),
        authors=_as_names(pick(fields, AUTHOR_KEYS)),
        date=_as_text(pick(fields, DATE_KEYS)) or None,
        categories=_as_categories(pick(fields, CATEGORY_KEYS)),
        upvotes=_as_count(fields.get("upvotes")),
    )


def _as_count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""  # lists, objects: not usable as text; a missing title/abstract warns later


def _as_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        # "Doe, Jane; Roe, Rob" keeps its commas; "Jane Doe, Rob Roe and Al Li" splits on them.
        names = value.split(";") if ";" in value else _AUTHOR_SPLIT.split(value)
    elif isinstance(value, list):
        names = [v.get("name", "") if isinstance(v, dict) else str(v) for v in value]
    else:
        return ()
    return tuple(n for n in (collapse_whitespace(n) for n in names) if n)


def _as_categories(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(c for c in _CATEGORY_SPLIT.split(value) if c)
    if isinstance(value, list):
        return tuple(str(c).strip() for c in value if str(c).strip())
    return ()


def build_paper(raw: RawRecord, on_warning: OnWarning) -> Paper | None:
    """The Paper for ``raw``, or None (after a warning) when title or abstract is missing."""
    if raw.problem:
        on_warning(f"{raw.where}: {raw.problem}; line skipped.")
        return None
    raw = _without_surrogates(raw, on_warning)
    title = collapse_whitespace(raw.title) or _title_from_id(raw, on_warning)
    abstract = clean_abstract(raw.abstract)
    missing = [name for name, text in (("title", title), ("abstract", abstract)) if not text]
    if missing:
        on_warning(f"{raw.where}: record has no {' or '.join(missing)}; skipped.")
        return None
    truncated = len(abstract) > MAX_ABSTRACT_CHARS
    if truncated:
        on_warning(
            f"{raw.where}: abstract is {len(abstract):,} characters; "
            f"truncated to {MAX_ABSTRACT_CHARS:,}."
        )
        abstract = abstract[:MAX_ABSTRACT_CHARS].rstrip()
    return _paper(raw, title, abstract, truncated)


def _title_from_id(raw: RawRecord, on_warning: OnWarning) -> str:
    """'arXiv:2101.00001' (or the record's own id) for a record that has an abstract but no
    title, so the paper is tagged rather than lost; '' when it has no id either."""
    ref = parse_arxiv_id(raw.id or raw.url) if raw.id or raw.url else None
    title = f"arXiv:{ref.id}" if ref else collapse_whitespace(raw.id)
    if title and clean_abstract(raw.abstract):
        on_warning(f"{raw.where}: record has no title; titled '{title}' from its id.")
        return title
    return ""


def _without_surrogates(raw: RawRecord, on_warning: OnWarning) -> RawRecord:
    """Lone surrogates (JSON escapes like \\ud83d) break every later encode: make them U+FFFD."""
    texts = [raw.title, raw.abstract, raw.id, raw.url, raw.date or "", *raw.authors]
    if not any(has_surrogates(t) for t in [*texts, *raw.categories]):
        return raw
    on_warning(
        f"{raw.where}: text holds invalid characters (lone surrogates); replaced with U+FFFD."
    )
    return replace(
        raw,
        title=replace_surrogates(raw.title),
        abstract=replace_surrogates(raw.abstract),
        id=replace_surrogates(raw.id),
        url=replace_surrogates(raw.url),
        date=replace_surrogates(raw.date) if raw.date else raw.date,
        authors=tuple(map(replace_surrogates, raw.authors)),
        categories=tuple(map(replace_surrogates, raw.categories)),
    )


def _paper(raw: RawRecord, title: str, abstract: str, truncated: bool) -> Paper:
    ref = parse_arxiv_id(raw.id) if raw.id else None
    ref = ref or (parse_arxiv_id(raw.url) if raw.url else None)
    url = raw.url.strip() or None
    return Paper(
        id=ref.id if ref else content_id(title, abstract),
        title=title,
        abstract=abstract,
        source=raw.where,
        url=abs_url(ref.id) if ref else url,
        authors=raw.authors,
        date=iso_date(raw.date) if raw.date else None,
        date_text=raw.date.strip() if raw.date else None,
        categories=raw.categories,
        arxiv_id=ref.id if ref else None,
        version=(raw.version or ref.version) if ref else None,
        truncated=truncated,
        upvotes=raw.upvotes,
    )


def clean_abstract(text: str) -> str:
    """Display form: hard-wrapped lines joined, paragraph breaks kept, spaces collapsed."""
    if "\n" not in text:  # one paragraph (most abstracts): no split
        return collapse_whitespace(text)
    paragraphs = (collapse_whitespace(p) for p in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(p for p in paragraphs if p)
