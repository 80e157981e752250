"""What the run stage needs from a model, whatever answers it: one request, one validated result.

`Gateway` is the protocol every gateway (remote, pooled, embedded, worker processes) implements;
the run stage (tagger.run) and the digest intro speak only to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from tagger.config.taxonomy import Taxonomy
from tagger.records import Paper, Usage

DEFAULT_CONCURRENCY = 8  # requests in flight at once: a run's, and each pool endpoint's, default
EMBEDDED_CONCURRENCY = 32  # embedded models: two micro-batches of 16 keep the cores busy


@dataclass(frozen=True)
class ModelRequest:
    paper: Paper
    messages: list[dict[str, str]]
    response_model: type[BaseModel]
    taxonomy: Taxonomy
    max_tags: int
    context: dict[str, Any] | None = None  # validation context; default: the paper's title
    sampling: dict[str, Any] | None = None  # overrides for this request (a pack's max_tokens)

    def validation_context(self) -> dict[str, Any]:
        return self.context if self.context is not None else {"title": self.paper.title}


@dataclass
class ModelResult:
    output: Any  # an instance of the request's response_model
    usage: Usage = field(default_factory=Usage)
    raw_text: str | None = None  # the model's answer as sent (live calls), for the store


class Gateway(Protocol):
    """What the runner needs from a model: an identity for the cache key, and `complete`."""

    model: str
    api_base: str | None

    def identity(self) -> dict[str, Any]: ...

    async def complete(self, request: ModelRequest) -> ModelResult: ...


@dataclass(frozen=True)
class BatchTarget:
    """Where a provider batch API is reached (`tagger run --batch`): one endpoint and its key."""

    api_base: str | None
    api_key: str | None = field(default=None, repr=False)  # never logged, cached or written
