"""Plain text: the email's text alternative and a terminal-friendly format."""

from __future__ import annotations

import textwrap

from tagger.digest.models import Digest, Entry, Section
from tagger.digest.text import meta_line, more_text

WIDTH = 76


def render_txt(digest: Digest) -> str:
    head = f"{digest.title} — {digest.date}"
    parts = [f"{head}\n{'=' * len(head)}\n{digest.summary_line()}"]
    if digest.intro is not None:
        parts.append(textwrap.fill(digest.intro.text, WIDTH))
    parts += [_section(section) for section in digest.sections]
    parts.append(_footer(digest))
    return "\n\n".join(parts) + "\n"


def _section(section: Section) -> str:
    head = f"{section.label} ({len(section.entries)})"
    blocks = [f"{head}\n{'-' * len(head)}"]
    blocks += [_entry(entry) for entry in section.entries]
    if section.more:
        where = f": {section.more_url}" if section.more_url else "."
        blocks.append(f"  ... {more_text(section.more)}{where}")
    return "\n\n".join(blocks)


def _entry(entry: Entry) -> str:
    lines = textwrap.wrap(entry.title, WIDTH, initial_indent="* ", subsequent_indent="  ")
    meta = meta_line(entry.authors, entry.upvotes)
    if meta:
        lines += textwrap.wrap(meta, WIDTH, initial_indent="  ", subsequent_indent="  ")
    if entry.blurb:
        lines += textwrap.wrap(entry.blurb, WIDTH, initial_indent="  ", subsequent_indent="  ")
    if entry.url:
        lines.append(f"  {entry.url}")
    if entry.tags:
        lines.append("  " + " ".join(f"[{chip.label}]" for chip in entry.tags))
    return "\n".join(lines)


def _footer(digest: Digest) -> str:
    lines = ["--", digest.skipped_line(), f"Made by {digest.generator}."]
    return "\n".join(line for line in lines if line)
