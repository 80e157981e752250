"""One fetched paper, as a JSON line `tagger run` ingests (id with version, abstract, ...)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FetchedPaper(BaseModel):
    id: str = Field(description="arXiv id with its version when the source gives one")
    arxiv_id: str = Field(description="arXiv id without version: the key for dedup and state")
    version: str | None = None
    title: str
    abstract: str
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    url: str
    upvotes: int | None = Field(default=None, description="Hugging Face upvotes, if listed")
    source: str = Field(description="'arxiv' or 'hf-daily'")
