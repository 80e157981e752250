"""Dates as inputs write them ('2008-11-13 19:18:42', 'Mon, 2 Apr 2007 ...') -> ISO YYYY-MM-DD."""

from __future__ import annotations

from datetime import date, datetime
from email.utils import parsedate_to_datetime

_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%Y/%m/%d")


def iso_date(text: str) -> str | None:
    """The calendar day ``text`` names, or None when it names none (a year alone, free text)."""
    text = " ".join(text.split())
    if not text:
        return None
    return _iso(text) or _rfc2822(text) or _named_month(text)


def _iso(text: str) -> str | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return None if len(text) < 10 else _iso_day(text[:10])


def _iso_day(text: str) -> str | None:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _rfc2822(text: str) -> str | None:
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _named_month(text: str) -> str | None:
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None
