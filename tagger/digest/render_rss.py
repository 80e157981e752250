"""RSS 2.0: one item per paper, with a GUID that stays the same for that paper on every run."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import format_datetime
from html import escape

from tagger.digest.models import Digest, Entry
from tagger.digest.text import meta_line

DEFAULT_LINK = "https://arxiv.org/"
GUID_PREFIX = "tagger-paper:"


def guid_for(paper_id: str) -> str:
    """Derived from the paper id alone, so a reader never shows the same paper as new twice."""
    return GUID_PREFIX + paper_id


def render_rss(digest: Digest, link: str = DEFAULT_LINK) -> str:
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    published = rfc822(digest.date, digest.date)
    _add(channel, "title", digest.title)
    _add(channel, "link", link)
    about = f"{digest.summary_line()} on {digest.date}."
    _add(channel, "description", f"{about} {digest.intro.text}" if digest.intro else about)
    _add(channel, "pubDate", published)
    _add(channel, "lastBuildDate", published)
    _add(channel, "generator", digest.generator)
    _add(channel, "docs", "https://www.rssboard.org/rss-specification")
    for entry in digest.unique_entries():
        channel.append(_item(entry, digest.date))
    ET.indent(rss)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(rss, encoding="unicode") + "\n"


def _item(entry: Entry, digest_date: str) -> ET.Element:
    item = ET.Element("item")
    _add(item, "title", entry.title)
    if entry.url:
        _add(item, "link", entry.url)
    _add(item, "description", _description(entry))
    for chip in entry.tags:
        _add(item, "category", chip.label)
    guid = _add(item, "guid", guid_for(entry.id))
    guid.set("isPermaLink", "false")
    _add(item, "pubDate", rfc822(entry.date, digest_date))
    return item


def _description(entry: Entry) -> str:
    # Readers treat <description> as HTML: escape the text here, and ElementTree escapes it again
    # as XML, so a '<script>' in an abstract reaches the reader as text.
    tags = ", ".join(escape(chip.label) for chip in entry.tags)
    meta = meta_line(entry.authors, entry.upvotes)
    body = f"<p>{escape(meta)}</p>" if meta else ""
    body += f"<p>{escape(entry.blurb)}</p>" if entry.blurb else ""
    return body + (f"<p>Tags: {tags}</p>" if tags else "")


def rfc822(day: str | None, fallback: str) -> str:
    """RFC 822 date at midnight UTC of an ISO date; unparsable or missing dates use the fallback."""
    for candidate in (day, fallback):
        try:
            parsed = dt.date.fromisoformat((candidate or "")[:10])
        except ValueError:
            continue
        midnight = dt.datetime(parsed.year, parsed.month, parsed.day, tzinfo=dt.UTC)
        return format_datetime(midnight, usegmt=True)
    raise ValueError(f"not an ISO date: {fallback!r}")


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = text
    return child
