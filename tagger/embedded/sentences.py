"""Split abstracts into sentences without splitting at 'e.g.', 'et al.', 'Fig. 2' or '3.5'."""

from __future__ import annotations

import re

# A boundary: terminal punctuation, optional closing quotes/brackets, space, then a sentence start.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_LAST_TOKEN = re.compile(r"(\S+)$")
# Lower-cased, without the final period. Never sentence ends when followed by a capital or digit.
_ABBREVIATIONS = frozenset(
    "al e.g i.e cf vs viz fig figs eq eqs sec secs tab ref refs resp approx ca dr mr ms prof"
    " st jr sr inc ltd co vol pp ch app".split()
)
# Only abbreviations when a number follows ('No. 5'); otherwise ordinary words ending a sentence.
_NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "op", "art"})
_DOTTED = re.compile(r"^(?:[a-z]{1,2}\.)+[a-z]{1,2}$")  # 'u.s', 'a.k.a'


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` in order, whitespace collapsed, none empty."""
    text = normalize_space(text)
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + 1
        if _is_abbreviation(text[start:end], text[match.end() :]):
            continue
        end = match.end()
        sentences.append(text[start:end].strip())
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


def _is_abbreviation(before: str, after: str) -> bool:
    """Whether the period closing `before` belongs to an abbreviation rather than ending it."""
    if not before.endswith("."):
        return False
    found = _LAST_TOKEN.search(before[:-1])
    if not found:
        return False
    token = found.group(1).lstrip("([\"'").lower()
    if token in _ABBREVIATIONS or _DOTTED.match(token):
        return True
    return token in _NUMBER_ABBREVIATIONS and after[:1].isdigit()
