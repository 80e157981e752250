"""Non-generative backends: MiniLM embedding tags (the default) and the keyword floor."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tagger.config.taxonomy import Taxonomy
from tagger.embedded.base import LocalAnswer, make_fingerprint, package_version
from tagger.embedded.embedder import MODEL_DISTRIBUTION, get_embedder
from tagger.embedded.head import Head, load_head
from tagger.embedded.keywords import keyword_tags
from tagger.embedded.sentences import split_sentences
from tagger.embedded.summarize import DEFAULT_PICKER, Picker, summarize
from tagger.embedded.tagging import (
    DEFAULT_KEYWORD_WEIGHT,
    DEFAULT_MARGIN,
    DEFAULT_POOLING,
    DEFAULT_TAG_TEXT,
    DEFAULT_THRESHOLD,
    MAX_SENTENCES,
    EmbeddingTagger,
    Pooling,
    TagRule,
    TagText,
    paper_features,
)
from tagger.records import Paper

if TYPE_CHECKING:
    from numpy.typing import NDArray


class MiniLMBackend:
    """Tags by cosine between sentence and tag embeddings; summary is an extractive blurb."""

    reads_prompt = False
    deterministic = True

    def __init__(
        self,
        name: str = "local/minilm",
        *,
        threads: int | None = None,
        margin: float = DEFAULT_MARGIN,
        threshold: float = DEFAULT_THRESHOLD,
        tag_text: TagText = DEFAULT_TAG_TEXT,
        pooling: Pooling = DEFAULT_POOLING,
        keyword_weight: float = DEFAULT_KEYWORD_WEIGHT,
        picker: Picker = DEFAULT_PICKER,
        head: str | None = None,
    ) -> None:
        self.name = name
        self.threads = threads
        self.rule = TagRule(margin=margin, threshold=threshold)
        self.tag_text: TagText = tag_text
        self.pooling: Pooling = pooling
        self.keyword_weight = keyword_weight
        self.picker: Picker = picker
        self._tagger: EmbeddingTagger | None = None
        self._lock = threading.Lock()
        self.head: Head | None = load_head(head) if head else None
        # Only a head adds a key, so caches written without one stay valid.
        extra = {"head": self.head.hash} if self.head else {}
        self.fingerprint = make_fingerprint(
            name,
            [MODEL_DISTRIBUTION],
            margin=margin,
            threshold=threshold,
            tag_text=tag_text,
            pooling=pooling,
            keyword_weight=keyword_weight,
            picker=picker,
            **extra,
        )

    @property
    def tagger(self) -> EmbeddingTagger:
        """Loaded on first use so that building the backend costs nothing."""
        with self._lock:
            if self._tagger is None:
                embedder = get_embedder(self.threads)
                self._tagger = EmbeddingTagger(
                    embedder, self.rule, self.tag_text, self.pooling, self.keyword_weight
                )
            return self._tagger

    def predict(
        self, papers: Sequence[Paper], taxonomy: Taxonomy, max_tags: int
    ) -> list[LocalAnswer]:
        vectors = self.tagger.embed_papers(papers)
        boost = self._boost(vectors, taxonomy)
        tags = self.tagger.tag(papers, taxonomy, max_tags, vectors, boost)
        answers = []
        for paper, paper_tags, units in zip(papers, tags, vectors, strict=True):
            sentence_vectors = _sentence_rows(paper, units) if self.pooling != "document" else None
            summary = summarize(paper.title, paper.abstract, self.picker, sentence_vectors)
            answers.append(LocalAnswer(tags=paper_tags, summary=summary))
        return answers

    def check_head(self, taxonomy: Taxonomy) -> None:
        """Refuse (one line) a head trained for another taxonomy or embedder."""
        if self.head is not None:
            self.head.check(taxonomy, embedding_fingerprint(self.pooling))

    def _boost(
        self, vectors: Sequence[NDArray[np.float32]], taxonomy: Taxonomy
    ) -> NDArray[np.float32] | None:
        if self.head is None:
            return None
        self.check_head(taxonomy)
        return self.head.boost(paper_features(vectors), taxonomy)


def embedding_fingerprint(pooling: Pooling) -> str:
    """What a head's features depend on: the embedding model's version and the pooling."""
    return f"{MODEL_DISTRIBUTION}=={package_version(MODEL_DISTRIBUTION)} pooling={pooling}"


def _sentence_rows(paper: Paper, units: NDArray[np.float32]) -> NDArray[np.float32] | None:
    """The rows of `units` that embed the abstract's sentences (for centroid pickers), if any."""
    count = len(split_sentences(paper.abstract))
    fits = 0 < count <= min(len(units), MAX_SENTENCES)
    return units[len(units) - count :] if fits else None


class KeywordBackend:
    """The floor: tags whose label words occur in the text; no model is loaded."""

    reads_prompt = False
    deterministic = True

    def __init__(
        self,
        name: str = "local/keyword",
        *,
        picker: Picker = DEFAULT_PICKER,
        threads: int | None = None,
    ) -> None:
        del threads  # accepted like every backend's, but nothing here runs a model
        self.name = name
        self.picker: Picker = picker
        self.fingerprint = make_fingerprint(name, [], picker=picker)

    def predict(
        self, papers: Sequence[Paper], taxonomy: Taxonomy, max_tags: int
    ) -> list[LocalAnswer]:
        return [
            LocalAnswer(
                tags=keyword_tags(p, taxonomy, max_tags),
                summary=summarize(p.title, p.abstract, self.picker),
            )
            for p in papers
        ]
