"""Choose taxonomy tags offline: embedding similarity (default) and a keyword floor."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from tagger.config.taxonomy import Tag, Taxonomy
from tagger.embedded.keywords import keyword_scores
from tagger.embedded.sentences import split_sentences
from tagger.records import Paper

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from tagger.embedded.embedder import Embedder

TagText = Literal["label", "description", "label_desc", "label_positive", "mean"]
Pooling = Literal["sentence_max", "document"]

# Chosen on eval/gold.jsonl (222 papers, 39 tags, max_tags 3) with benchmarks/strategies.py --grid:
# scoring each sentence (and the title) and keeping a tag's best sentence beat one vector per
# truncated abstract (micro-F1 0.61 vs 0.51); tag text without its "Not for ..." exclusions beat
# label+description (0.60 vs 0.57, 2-fold CV); adding 0.1 x the keyword score added 0.02 (CV 0.62).
# Further tags must score within MARGIN of the best one and above THRESHOLD.
DEFAULT_POOLING: Pooling = "sentence_max"
DEFAULT_TAG_TEXT: TagText = "label_positive"
DEFAULT_KEYWORD_WEIGHT = 0.1
DEFAULT_MARGIN = 0.3
DEFAULT_THRESHOLD = 0.5
MAX_SENTENCES = 64  # bounds the cost of a pathological "abstract"
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
    """The whole paper as one text; the title leads because truncation keeps the start."""
    title = paper.title.strip().rstrip(".")
    return f"{title}. {paper.abstract.strip()}" if title else paper.abstract.strip()


def paper_units(paper: Paper, pooling: Pooling) -> list[str]:
    """The texts embedded for a paper: title then each abstract sentence, or the whole text."""
    if pooling == "document":
        return [paper_text(paper)]
    title = [paper.title.strip()] if paper.title.strip() else []
    return (title + split_sentences(paper.abstract)[:MAX_SENTENCES]) or [paper_text(paper)]


def paper_features(vectors: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    """One unit vector per paper (the mean of its unit embeddings): what a learned head reads."""
    rows = [units.mean(axis=0) if len(units) else np.zeros(units.shape[1]) for units in vectors]
    matrix = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (matrix / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


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
        self,
        embedder: Embedder,
        rule: TagRule | None = None,
        tag_text: TagText = DEFAULT_TAG_TEXT,
        pooling: Pooling = DEFAULT_POOLING,
        keyword_weight: float = DEFAULT_KEYWORD_WEIGHT,
    ) -> None:
        self.embedder = embedder
        self.rule = rule or TagRule()
        self.tag_text: TagText = tag_text
        self.pooling: Pooling = pooling
        self.keyword_weight = keyword_weight
        self._tag_vectors: dict[str, NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    def tag_vectors(self, taxonomy: Taxonomy) -> NDArray[np.float32]:
        key = f"{taxonomy.content_hash}:{self.tag_text}"
        with self._lock:
            if key not in self._tag_vectors:
                self._tag_vectors[key] = self._embed_tags(taxonomy.tags)
            return self._tag_vectors[key]

    def embed_papers(self, papers: Sequence[Paper]) -> list[NDArray[np.float32]]:
        """Per paper, one row per unit of `paper_units`, all embedded in one batch."""
        units = [paper_units(p, self.pooling) for p in papers]
        flat = self.embedder.embed([text for group in units for text in group])
        bounds = np.cumsum([0] + [len(group) for group in units])
        return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def scores(
        self,
        papers: Sequence[Paper],
        taxonomy: Taxonomy,
        vectors: Sequence[NDArray[np.float32]] | None = None,
    ) -> NDArray[np.float32]:
        """Score of each paper (rows) for each tag (columns): best unit cosine + keyword bonus."""
        vectors = self.embed_papers(papers) if vectors is None else vectors
        tags = self.tag_vectors(taxonomy)
        rows = [(unit_vectors @ tags.T).max(axis=0) for unit_vectors in vectors]
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(papers), len(tags))
        if self.keyword_weight:
            bonus = [keyword_scores(p, taxonomy) for p in papers]
            matrix += self.keyword_weight * np.asarray(bonus, dtype=np.float32)
        return matrix

    def tag(
        self,
        papers: Sequence[Paper],
        taxonomy: Taxonomy,
        max_tags: int,
        vectors: Sequence[NDArray[np.float32]] | None = None,
        boost: NDArray[np.float32] | None = None,
    ) -> list[list[str]]:
        """Tags per paper; `boost` (papers x tags, e.g. a learned head's) adds to the scores."""
        matrix = self.scores(papers, taxonomy, vectors)
        if boost is not None:
            matrix = matrix + boost
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
