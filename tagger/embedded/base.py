"""The contract every embedded backend meets: papers in, one answer per paper out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any, Protocol

from pydantic import BaseModel, Field

from tagger.config.taxonomy import Taxonomy
from tagger.records import Paper


class LocalAnswer(BaseModel):
    """What a local backend says about one paper; the gateway validates it like an LLM answer."""

    tags: list[str] = Field(description="taxonomy tag ids, best first")
    summary: str = Field(description="one-line summary")
    prompt_tokens: int = Field(default=0, description="tokens a generative model read (0: none)")
    completion_tokens: int = Field(default=0, description="tokens a generative model wrote")


# Bump when tagging or summarizing logic changes answers, so cached results are not reused.
ALGORITHM_VERSION = "2"


class LocalBackend(Protocol):
    """An offline model. `predict` may be called from several threads (implementations lock)."""

    name: str
    fingerprint: str  # everything that changes answers; goes into the cache key
    # Eval needs these to say when a comparison cannot show anything:
    reads_prompt: bool  # False: answers come from the paper and taxonomy, never the prompt file
    deterministic: bool  # True: the same paper always gets the same answer (no sampling)

    def predict(
        self, papers: Sequence[Paper], taxonomy: Taxonomy, max_tags: int
    ) -> list[LocalAnswer]: ...


class TextWriter(Protocol):
    """An offline model that can also answer a chat prompt with JSON in a schema (the digest
    intro). Backends that only tag and extract (local/minilm, local/keyword) are not writers."""

    def write_json(
        self, messages: Sequence[Mapping[str, str]], schema: dict[str, Any]
    ) -> tuple[str, int, int]: ...  # (text, prompt tokens, completion tokens)


def make_fingerprint(name: str, packages: Sequence[str], **options: Any) -> str:
    """'local/minilm@1 {...}': backend, logic version, model package versions and options."""
    versions = {package: package_version(package) for package in packages}
    payload = json.dumps({"models": versions, **options}, sort_keys=True, default=str)
    return f"{name}@{ALGORITHM_VERSION} {payload}"


def package_version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"
