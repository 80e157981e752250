"""The arXiv metadata snapshot (Kaggle arxiv-metadata-oai-snapshot.json): one object per line.

Each object has id, title, abstract, authors, authors_parsed, categories, update_date and
versions ([{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}, ...]).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tagger.ingest.ids import version_number
from tagger.ingest.jsonl import iter_objects, unreadable
from tagger.ingest.record import OnWarning, RawRecord, raw_from_mapping


def read(path: str, on_warning: OnWarning) -> Iterator[RawRecord]:
    for line, obj in iter_objects(path):
        if not isinstance(obj, dict):
            yield unreadable(obj)
            continue
        raw = raw_from_mapping(obj, path, line)
        listed = obj.get("versions")
        versions = [v for v in listed if isinstance(v, dict)] if isinstance(listed, list) else []
        raw.version = _latest_version(versions)
        raw.date = _first_created(versions) or raw.date  # first submission; text as written
        raw.authors = _parsed_authors(obj.get("authors_parsed")) or raw.authors
        yield raw


def _latest_version(versions: list[dict[str, Any]]) -> str | None:
    names = [str(v.get("version", "")) for v in versions]
    numbered = [n for n in names if version_number(n) > 0]  # absurd ones ("v9999...") are not
    return max(numbered, key=version_number, default=None)


def _first_created(versions: list[dict[str, Any]]) -> str | None:
    """Submission date of the first version, as the snapshot writes it (RFC 2822)."""
    created = versions[0].get("created") if versions else None
    return created if isinstance(created, str) and created.strip() else None


def _parsed_authors(value: Any) -> tuple[str, ...]:
    """[["Last", "First", "Jr"], ...] -> ("First Last Jr", ...)."""
    if not isinstance(value, list):
        return ()
    names = []
    for parts in value:
        if isinstance(parts, list) and parts:
            last, first, suffix = ([str(p) for p in parts] + ["", ""])[:3]
            names.append(" ".join(p for p in (first, last, suffix) if p.strip()))
    return tuple(names)
