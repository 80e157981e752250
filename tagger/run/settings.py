"""What one run is asked to do (`RunSettings`), and the progress display it reports to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tagger.config.prompts import PromptSpec
from tagger.config.taxonomy import Taxonomy
from tagger.models.base import DEFAULT_CONCURRENCY


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, *, cached: bool = False, failed: bool = False) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, *, cached: bool = False, failed: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class RunSettings:
    output: Path
    prompt: PromptSpec
    taxonomy: Taxonomy
    max_tags: int = 3
    concurrency: int = DEFAULT_CONCURRENCY
    use_cache: bool = True
    resume: bool = False
    retry_failed: bool = False
    overwrite: bool = False
    namespace: str = ""
    inputs: Sequence[str] = ()
    batch: BatchSettings | None = None
    pack: int = 1  # abstracts per request (--pack K)
    max_failures: int | None = None  # --max-failures N; None: FailureBudget's default rule


@dataclass
class BatchSettings:
    """`--batch`: submit misses to the provider's batch API instead of live calls."""

    poll_s: float = 30.0
    wait: bool = True
    max_requests: int = 50_000  # per batch input file (OpenAI's limit); larger runs are split
