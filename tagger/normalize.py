"""Text normalization for matching and cache keys; display text is never normalized.

``normalize_text`` maps the spellings one paper gets across sources to one string:
Unicode compatibility forms and accents, LaTeX markup (``$\\ell_p$``, ``\\textbf{x}``,
``{\\em x}``), the backslash-stripped LaTeX that web pages show (``ell_p``, ``mathcal{O}``),
case, punctuation and whitespace. The result is lowercase words separated by single spaces.
"""

from __future__ import annotations

import re
import unicodedata

# Commands that only style their argument: dropped with their backslash, so \textbf{x} == x.
_STYLE_COMMANDS = (
    "textbf|textit|textsl|textsc|texttt|textrm|textsf|textup|textnormal|text|emph|em|bf|it|sl|sc"
    "|tt|rm|sf|mathbf|mathit|mathrm|mathsf|mathtt|mathcal|mathbb|mathfrak|mathscr|mathnormal"
    "|boldsymbol|bm|operatorname|underline|overline|mbox|hbox"
)
_LATEX_STYLE = re.compile(rf"\\(?:{_STYLE_COMMANDS})(?![A-Za-z])")
# Web pages strip backslashes ("mathcal{O}", "mathbf x"); these words are never prose.
_BARE_STYLE_WORDS = frozenset(
    "mathbf mathit mathrm mathsf mathtt mathcal mathbb mathfrak mathscr textbf textit texttt"
    " textrm textsc emph boldsymbol operatorname".split()
)
_BARE_STYLE_BYTES = frozenset(w.encode("ascii") for w in _BARE_STYLE_WORDS)
# Accented letters: \"o, \"{o}, {\"o}, \v{c}, \c c -> the bare letter, joined to its word.
_LATEX_ACCENT = re.compile(r"\{?\\(?:[`'\"^~=.]|[uvHcdbkrt](?![A-Za-z]))\s*\{?([A-Za-z])\}?\}?")
# \&, \%, \\ and other escaped symbols separate words, as the bare symbols do.
_LATEX_SYMBOL = re.compile(r"\\[^A-Za-z\s]")
# \ell -> ell, \leq -> leq: the same text a page shows after stripping backslashes.
_LATEX_NAMED = re.compile(r"\\(?=[A-Za-z])")
_COMBINING_MARKS = re.compile(
    r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_WORD = re.compile(r"[^\W_]+")
# ASCII fast path: one C-level pass lowercases and turns everything but letters/digits to space.
_ASCII_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256)
)


def normalize_text(text: str) -> str:
    """The matching form of ``text``: deterministic, idempotent, and cheap for ASCII input."""
    if "\\" in text:
        text = _strip_latex_commands(text)
    if not text.isascii():
        text = _fold_unicode(text)
    if text.isascii():
        words = text.encode("ascii").translate(_ASCII_TABLE).split()
        if not _BARE_STYLE_BYTES.isdisjoint(words):  # rare: skip the filter loop otherwise
            words = [w for w in words if w not in _BARE_STYLE_BYTES]
        return b" ".join(words).decode("ascii")
    tokens = _WORD.findall(text.casefold())
    return " ".join(w for w in tokens if w not in _BARE_STYLE_WORDS)


def _fold_unicode(text: str) -> str:
    """NFKC (ligatures, full-width forms), then drop accents so 'Schrödinger' == 'Schrodinger'."""
    text = unicodedata.normalize("NFKC", text)
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _COMBINING_MARKS.sub("", decomposed))


def _strip_latex_commands(text: str) -> str:
    text = _LATEX_ACCENT.sub(r"\1", text)
    text = _LATEX_STYLE.sub("", text)
    text = _LATEX_SYMBOL.sub(" ", text)
    return _LATEX_NAMED.sub("", text)


# What str.split() splits ASCII text at, besides the space itself.
_ASCII_BREAKS = ("\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def collapse_whitespace(text: str) -> str:
    """Display form of a title: runs of whitespace (newlines included) become one space."""
    if _collapsed(text):  # most titles and abstracts already are: a few scans, no split
        return text
    return " ".join(text.split())


def _collapsed(text: str) -> bool:
    if not text.isascii() or "  " in text or text[:1] == " " or text[-1:] == " ":
        return False
    return not any(char in text for char in _ASCII_BREAKS)
