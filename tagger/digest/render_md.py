"""Markdown: readable as plain text, safe when a renderer turns it into HTML."""

from __future__ import annotations

import re

from tagger.digest.models import Digest, Entry, Section
from tagger.digest.text import meta_line, more_text

# Backslash-escape what CommonMark reads as markup inside a line (raw HTML included), and '&'
# only where it would start an entity.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")


def md(text: str) -> str:
    return _MARKUP.sub(r"\\\1", text)


def render_md(digest: Digest) -> str:
    parts = [f"# {md(digest.title)} — {digest.date}", f"*{digest.summary_line()}*"]
    if digest.intro is not None:
        parts.append(md(digest.intro.text))
    parts += [_section(section) for section in digest.sections]
    parts.append(_footer(digest))
    return "\n\n".join(parts) + "\n"


def _section(section: Section) -> str:
    lines = [f"## {md(section.label)} ({len(section.entries)})", ""]
    lines += [_entry(entry) for entry in section.entries]
    if section.more:
        more = more_text(section.more)
        lines += ["", f"*[{more}](<{section.more_url}>)*" if section.more_url else f"*{more}.*"]
    return "\n".join(lines)


def _entry(entry: Entry) -> str:
    title = f"**{md(entry.title)}**"
    if entry.url:
        # <...> destinations allow parentheses; safe_url already encoded spaces and brackets.
        title = f"[{title}](<{entry.url}>)"
    blurb = f" — {md(entry.blurb)}" if entry.blurb else ""
    chips = " ".join(f"`{chip.label.replace('`', '')}`" for chip in entry.tags)
    meta = md(meta_line(entry.authors, entry.upvotes))
    under = " · ".join(part for part in (meta, chips) if part)
    # A trailing backslash is CommonMark's hard line break: authors and chips go under the title.
    return f"- {title}{blurb}" + (f"\\\n  {under}" if under else "")


def _footer(digest: Digest) -> str:
    lines = [digest.skipped_line(), f"Made by {digest.generator}."]
    return "---\n\n" + " ".join(line for line in lines if line)
