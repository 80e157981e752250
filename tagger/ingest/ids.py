"""Paper ids: arXiv ids recognised in id/url fields, else a stable content id."""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

from tagger.normalize import normalize_text

# New style 2101.00001 (4 or 5 digits after the dot) and old style hep-th/9901001 or
# math.AG/0501001, each with an optional version suffix.
_ID = r"(?P<new>\d{4}\.\d{4,5})|(?P<old>[a-z]+(?:-[a-z]+)?)(?:\.[a-z]{2})?/(?P<num>\d{7})"
_VERSION = r"(?P<version>v\d+)?"
_BARE = re.compile(rf"(?:arxiv:\s*)?(?:{_ID}){_VERSION}", re.IGNORECASE)
_IN_URL = re.compile(
    rf"(?:arxiv\.org/(?:abs|pdf|html|format)/|huggingface\.co/papers/|arxiv:\s*)"
    rf"(?:{_ID}){_VERSION}(?!\d|\.\d)",
    re.IGNORECASE,
)
# A new-style id read back from a float column (Kaggle CSVs): leading and trailing zeros lost.
_FLOAT_ID = re.compile(r"(?P<yymm>\d{3,4})\.(?P<num>\d{1,5})")
_FIVE_DIGITS_FROM = 1501  # ids from January 2015 on have 5 digits after the dot, 4 before
_MAX_VERSION_DIGITS = 6  # arXiv versions are small numbers; more digits is not a version
# Content ids start with a letter no arXiv id starts with and never contain '/' or '.'.
CONTENT_ID_PREFIX = "h"


class ArxivRef(NamedTuple):
    id: str
    version: str | None


def parse_arxiv_id(text: str) -> ArxivRef | None:
    """An arXiv id given alone ('2101.00001v2', 'arXiv:hep-th/9901001') or inside a URL."""
    text = text.strip()
    recovered = _from_float(text)
    if recovered is not None:
        return ArxivRef(recovered, None)
    match = _BARE.fullmatch(text) or _IN_URL.search(text)
    if match is None:
        return None
    if match["new"] is not None:
        if not 1 <= int(match["new"][2:4]) <= 12:  # YYMM: a month, not any number
            return None
        arxiv_id = match["new"]
    else:
        # The subject class (math.AG/...) is not part of the canonical id.
        arxiv_id = f"{match['old'].lower()}/{match['num']}"
    version = match["version"].lower() if match["version"] else None
    return ArxivRef(arxiv_id, version)


def _from_float(text: str) -> str | None:
    """'704.001' -> '0704.0010', '1501.0001' -> '1501.00010': the YYMM rule gives the number of
    digits after the dot, so the zeros a float dropped can be put back. None for anything else
    (a well-formed id, or a number that is no id)."""
    match = _FLOAT_ID.fullmatch(text)
    if match is None:
        return None
    yymm, num = match["yymm"].zfill(4), match["num"]
    digits = 5 if int(yymm) >= _FIVE_DIGITS_FROM else 4
    if not 1 <= int(yymm[2:]) <= 12 or len(num) > digits or int(yymm) < 704:
        return None
    return f"{yymm}.{num.ljust(digits, '0')}"


def content_id(title: str, abstract: str = "") -> str:
    """A stable id for papers without an arXiv id: the hash of the normalized title."""
    key = normalize_text(title) or normalize_text(abstract)
    return CONTENT_ID_PREFIX + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def version_number(version: str | None) -> int:
    """'v3' -> 3; no version, or an absurd one ('v' and 20 digits) -> 0 (sorts before any
    known version; keeps dedup's int64 arrays from overflowing)."""
    digits = version[1:] if version and version[:1].lower() == "v" else ""
    if digits.isdigit() and len(digits) <= _MAX_VERSION_DIGITS:
        return int(digits)
    return 0
