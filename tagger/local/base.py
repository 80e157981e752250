"""The contract every embedded backend meets: papers in, one answer per paper out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, Field

from tagger.records import Paper
from tagger.taxonomy import Taxonomy


class LocalAnswer(BaseModel):
    """What a local backend says about one paper; the gateway validates it like an LLM answer."""

    tags: list[str] = Field(description="taxonomy tag ids, best first")
    summary: str = Field(description="one-line summary")
    prompt_tokens: int = Field(default=0, description="tokens a generative model read (0: none)")
    completion_tokens: int = Field(default=0, description="tokens a generative model wrote")


class LocalBackend(Protocol):
    """An offline model. `predict` may be called from several threads (implementations lock)."""

    name: str

    def predict(
        self, papers: Sequence[Paper], taxonomy: Taxonomy, max_tags: int
    ) -> list[LocalAnswer]: ...
