"""Non-generative backends: MiniLM embedding tags (the default) and the keyword floor."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from tagger.local.base import LocalAnswer
from tagger.local.embedder import Embedder, get_embedder
from tagger.local.summarize import DEFAULT_PICKER, Picker, summarize, summarize_many
from tagger.local.tagging import (
    DEFAULT_MARGIN,
    DEFAULT_TAG_TEXT,
    DEFAULT_THRESHOLD,
    EmbeddingTagger,
    TagRule,
    TagText,
    keyword_tags,
)
from tagger.records import Paper
from tagger.taxonomy import Taxonomy


class MiniLMBackend:
    """Tags by cosine between paper and tag embeddings; summary is an extractive blurb."""

    def __init__(
        self,
        name: str = "local/minilm",
        *,
        threads: int | None = None,
        margin: float = DEFAULT_MARGIN,
        threshold: float = DEFAULT_THRESHOLD,
        tag_text: TagText = DEFAULT_TAG_TEXT,
        picker: Picker = DEFAULT_PICKER,
    ) -> None:
        self.name = name
        self.threads = threads
        self.rule = TagRule(margin=margin, threshold=threshold)
        self.tag_text: TagText = tag_text
        self.picker: Picker = picker
        self._tagger: EmbeddingTagger | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        return self.tagger.embedder

    @property
    def tagger(self) -> EmbeddingTagger:
        """Loaded on first use so that building the backend costs nothing."""
        with self._lock:
            if self._tagger is None:
                self._tagger = EmbeddingTagger(get_embedder(self.threads), self.rule, self.tag_text)
            return self._tagger

    def predict(
        self, papers: Sequence[Paper], taxonomy: Taxonomy, max_tags: int
    ) -> list[LocalAnswer]:
        tags = self.tagger.tag(papers, taxonomy, max_tags)
        items = [(p.title, p.abstract) for p in papers]
        summaries = summarize_many(items, self.picker, self.embedder)
        return [LocalAnswer(tags=t, summary=s) for t, s in zip(tags, summaries, strict=True)]


class KeywordBackend:
    """The floor: tags whose label words occur in the text; no model is loaded."""

    def __init__(self, name: str = "local/keyword", *, picker: Picker = DEFAULT_PICKER) -> None:
        self.name = name
        self.picker: Picker = picker

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
