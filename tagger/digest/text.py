"""Small text helpers shared by the renderers: one-line text, XML-safe text, paper links."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from tagger.ingest.ids import abs_url, parse_arxiv_id

# XML 1.0 forbids most C0 controls even as character references; feed readers reject them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACE = re.compile(r"\s+")


def one_line(text: str | None) -> str:
    """Collapse all whitespace (newlines too) to single spaces and drop control characters."""
    return _SPACE.sub(" ", _NOT_XML.sub("", text or "")).strip()


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript:, data:, relative links)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # Spaces, quotes and angle brackets are never legal in a URL; encoding them keeps every format's
    # link syntax intact.
    return quote(one_line(url), safe=":/?#[]@!$&'()*+,;=%~-._")


def paper_url(paper_id: str, url: str | None) -> str | None:
    """Where a title links to: the record's own URL, else the arXiv page for an arXiv id."""
    link = safe_url(url)
    if link:
        return link
    ref = parse_arxiv_id(paper_id)
    return abs_url(ref.id) if ref else None


def display(text: str | None) -> str:
    """What a reader sees: LaTeX turned into Unicode (`$\\ell_p$` -> `ℓ_p`), on one line."""
    from tagger.latex import latex_to_text

    return one_line(latex_to_text(one_line(text)))


def byline(authors: Sequence[str], shown: int = 3) -> str:
    """'A, B, C' or 'A, B, C et al.' past ``shown`` names."""
    names = [a for a in authors if a]
    head = ", ".join(names[:shown])
    return f"{head} et al." if len(names) > shown else head


def more_text(more: int) -> str:
    """The line under a cut section; never a CLI flag (readers do not run tagger)."""
    return f"{more} more in this section"


def meta_line(authors: Sequence[str], upvotes: int | None) -> str:
    """'A, B, C et al. · 42 upvotes' (either part may be missing)."""
    votes = "1 upvote" if upvotes == 1 else f"{upvotes} upvotes" if upvotes is not None else ""
    return " · ".join(part for part in (byline(authors), votes) if part)
