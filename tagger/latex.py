"""LaTeX in titles and abstracts, turned into the Unicode text a reader expects (display only)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Cheap test first: most titles have no LaTeX at all, and pylatexenc is slow to import.
_LATEX_HINT = re.compile(r"[\\$^_{}~]")
_SPACES = re.compile(r"\s+")
# In abstracts '%' means percent, not a LaTeX comment that would swallow the rest of the line.
_PERCENT = re.compile(r"(?<!\\)%")


def latex_to_text(text: str) -> str:
    """`$\\ell_p$ embeddings` -> `ℓ_p embeddings`; text without LaTeX comes back unchanged.

    Uses pylatexenc's LaTeX-to-text converter (math kept, accents and symbols as Unicode);
    on anything it cannot parse the input is returned with only whitespace folded.
    """
    if not _LATEX_HINT.search(text):
        return text
    try:
        converted = _converter().latex_to_text(_PERCENT.sub(r"\\%", text))
    except Exception:  # pylatexenc raises bare errors on pathological input; keep the text
        converted = text
    return _SPACES.sub(" ", converted).strip()


@lru_cache(maxsize=1)
def _converter() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="text", strict_latex_spaces=True)
