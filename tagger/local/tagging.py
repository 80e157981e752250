"""Choose taxonomy tags offline: embedding similarity (default) and a keyword floor."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from tagger.local.sentences import split_sentences
from tagger.records import Paper
from tagger.taxonomy import Tag, Taxonomy

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from tagger.local.embedder import Embedder

TagText = Literal["label", "description", "label_desc", "label_positive", "mean"]

# Chosen on eval/gold.jsonl with benchmarks/strategies.py (margin x threshold grid, max_tags 3):
# a second/third tag must score within MARGIN of the top tag and at least THRESHOLD in cosine.
DEFAULT_MARGIN = 0.04
DEFAULT_THRESHOLD = 0.20
DEFAULT_TAG_TEXT: TagText = "label_desc"
_EXCLUSION = re.compile(r"(?:not|excludes?|except)\b", re.IGNORECASE)


@dataclass(frozen=True)
class TagRule:
    """Top-1 always; more tags (up to max_tags) only if close to the top score and above a floor."""

    margin: float = DEFAULT_MARGIN
    threshold: float = DEFAULT_THRESHOLD


def choose_tags(
    scores: NDArray[np.float32], ids: Sequence[str], max_tags: int, rule: TagRule
) -> list[str]:
    """Tag ids for one paper, best first, from its score per tag."""
    if len(ids) == 0 or max_tags < 1:
        return []
    order = np.argsort(-scores, kind="stable")
    top = float(scores[order[0]])
    chosen = [ids[order[0]]]
    for index in order[1:max_tags]:
        score = float(scores[index])
        if score < rule.threshold or score < top - rule.margin:
            break
        chosen.append(ids[index])
    return chosen


def paper_text(paper: Paper) -> str:
    """What the embedder reads for a paper; the title leads because truncation keeps the start."""
    title = paper.title.strip().rstrip(".")
    return f"{title}. {paper.abstract.strip()}" if title else paper.abstract.strip()


def tag_texts(tag: Tag, variant: TagText) -> list[str]:
    """Texts whose (mean) embedding stands for a tag."""
    if variant == "label":
        return [tag.label]
    if variant == "description":
        return [tag.description]
    if variant == "label_desc":
        return [f"{tag.label}: {tag.description}"]
    if variant == "label_positive":
        return [f"{tag.label}: {positive_description(tag.description)}"]
    return [tag.label, f"{tag.label}: {tag.description}"]


def positive_description(description: str) -> str:
    """The description without its exclusions ('Not for ...'): embeddings ignore negation."""
    kept = [s for s in split_sentences(description) if not _EXCLUSION.match(s)]
    return " ".join(kept) or description


class EmbeddingTagger:
    """Scores papers against tags by cosine; tag vectors are cached per taxonomy content hash."""

    def __init__(
        self, embedder: Embedder, rule: TagRule | None = None, tag_text: TagText = DEFAULT_TAG_TEXT
    ) -> None:
        self.embedder = embedder
        self.rule = rule or TagRule()
        self.tag_text: TagText = tag_text
        self._tag_vectors: dict[str, NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    def tag_vectors(self, taxonomy: Taxonomy) -> NDArray[np.float32]:
        key = f"{taxonomy.content_hash}:{self.tag_text}"
        with self._lock:
            if key not in self._tag_vectors:
                self._tag_vectors[key] = self._embed_tags(taxonomy.tags)
            return self._tag_vectors[key]

    def scores(self, papers: Sequence[Paper], taxonomy: Taxonomy) -> NDArray[np.float32]:
        """Cosine of each paper (rows) with each tag (columns)."""
        vectors = self.embedder.embed([paper_text(p) for p in papers])
        return vectors @ self.tag_vectors(taxonomy).T

    def tag(self, papers: Sequence[Paper], taxonomy: Taxonomy, max_tags: int) -> list[list[str]]:
        matrix = self.scores(papers, taxonomy)
        return [choose_tags(row, taxonomy.ids, max_tags, self.rule) for row in matrix]

    def _embed_tags(self, tags: Sequence[Tag]) -> NDArray[np.float32]:
        groups = [tag_texts(tag, self.tag_text) for tag in tags]
        flat = self.embedder.embed([text for group in groups for text in group])
        rows, start = [], 0
        for group in groups:
            mean = flat[start : start + len(group)].mean(axis=0)
            rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            start += len(group)
        return np.asarray(rows, dtype=np.float32)


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
