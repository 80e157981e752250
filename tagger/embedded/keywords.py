"""Keyword tagging: a tag's label words found in the title or abstract (no model)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from tagger.config.taxonomy import Taxonomy
from tagger.records import Paper

if TYPE_CHECKING:
    from numpy.typing import NDArray

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it of on or other that the this to with"
    " using use based via new models model learning paper papers method methods".split()
)


def _stems(text: str) -> set[str]:
    """Crude stems (lower-case, plural 's' dropped) so 'Agents' matches 'agent'."""
    words = _WORD.findall(text.lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in _STOPWORDS}


def keyword_scores(paper: Paper, taxonomy: Taxonomy) -> NDArray[np.float32]:
    """Share of a tag's label words found in the paper, plus a small description tiebreak."""
    text = _stems(f"{paper.title} {paper.abstract}")
    scores = []
    for tag in taxonomy.tags:
        label = _stems(tag.label) or _stems(tag.id.replace("-", " "))
        described = _stems(tag.description) - label
        label_hit = len(label & text) / len(label) if label else 0.0
        desc_hit = len(described & text) / len(described) if described else 0.0
        scores.append(label_hit + 0.1 * desc_hit)
    return np.asarray(scores, dtype=np.float32)


def keyword_tags(paper: Paper, taxonomy: Taxonomy, max_tags: int) -> list[str]:
    """The floor to beat: tags whose label words appear in the title or abstract."""
    scores = keyword_scores(paper, taxonomy)
    order = np.argsort(-scores, kind="stable")[:max_tags]
    chosen = [taxonomy.ids[i] for i in order if scores[i] >= 0.5]
    return chosen or [taxonomy.ids[int(order[0])]]
