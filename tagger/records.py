"""The records every stage passes on: input papers, tagged output lines, the run manifest."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from tagger.normalize import normalize_text


class Paper(BaseModel):
    """One input record, as read. Original text is kept for display; matching uses normalize."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="arXiv id without version when known, else a stable content id")
    title: str
    abstract: str
    source: str = Field(description="where it was read, as 'file:line'")
    url: str | None = None
    authors: tuple[str, ...] = ()
    date: str | None = Field(default=None, description="ISO YYYY-MM-DD, when the date was readable")
    date_text: str | None = Field(default=None, description="the date as the input wrote it")
    categories: tuple[str, ...] = ()
    arxiv_id: str | None = Field(default=None, description="arXiv id without version")
    version: str | None = Field(default=None, description="arXiv version suffix, e.g. 'v2'")
    truncated: bool = Field(default=False, description="abstract was cut to the length limit")
    upvotes: int | None = Field(default=None, description="the source's popularity (HF upvotes)")

    @cached_property
    def matching(self) -> tuple[str, str]:
        """The matching form of title and abstract (`normalize_text`), made once a paper: dedup,
        the cache key and the run history's paper key all read it."""
        return normalize_text(self.title), normalize_text(self.abstract)

    def __getstate__(self) -> dict[Any, Any]:
        """Pickled without `matching` (dedup's spill file and worker processes stay small)."""
        state = super().__getstate__()
        state["__dict__"] = {k: v for k, v in state["__dict__"].items() if k != "matching"}
        return state

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        if update and ("title" in update or "abstract" in update):
            copied.__dict__.pop("matching", None)  # made again from the new text
        return copied


MAX_SKIPPED_LISTED = 100


class SkippedRecords(BaseModel):
    """Input records dropped at ingest (unreadable line, no title or abstract): how many, where."""

    count: int = 0
    at: list[str] = Field(
        default_factory=list, description=f"file:line of the first {MAX_SKIPPED_LISTED}"
    )

    def add(self, where: str) -> None:
        self.count += 1
        if len(self.at) < MAX_SKIPPED_LISTED:
            self.at.append(where)

    def phrase(self) -> str:
        """'; 2 invalid records skipped (...)', or '' when none were."""
        if not self.count:
            return ""
        noun = "record" if self.count == 1 else "records"
        return f"; {self.count} invalid {noun} skipped (unreadable, or no title or abstract)"


class Usage(BaseModel):
    """What calls spent. `cost_usd` is None when litellm does not know the model's price:
    unknown, never a made-up $0 (a sum with an unknown part is unknown)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = Field(default=0, description="of prompt_tokens, read from cache")
    cache_write_tokens: int = Field(default=0, description="prompt tokens written to the cache")
    cost_usd: float | None = 0.0
    calls: int = 0
    retries: int = 0
    latency_s: float = 0.0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_prompt_tokens += other.cached_prompt_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.cost_usd = add_costs(self.cost_usd, other.cost_usd)
        self.calls += other.calls
        self.retries += other.retries
        self.latency_s += other.latency_s


def add_costs(*costs: float | None) -> float | None:
    """The sum, or None (unknown) when any part is unknown."""
    if any(cost is None for cost in costs):
        return None
    return sum(cost for cost in costs if cost is not None)


def format_cost(cost: float | None) -> str:
    """'$0.0123', or 'cost unknown' for a model without a known price."""
    return "cost unknown" if cost is None else f"${cost:.4f}"


class TaggedPaper(BaseModel):
    """One output line: a unique paper with its tags and one-line summary (or why it failed)."""

    id: str
    title: str
    summary: str | None
    tags: list[str]
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None
    model: str
    prompt: str = Field(description="prompt name@version")
    cached: bool = False
    duplicates: list[str] = Field(default_factory=list, description="ids merged into this paper")
    source: str
    url: str | None = None
    date: str | None = None
    date_text: str | None = None
    authors: list[str] = Field(default_factory=list)
    truncated: bool = False
    usage: Usage | None = None
    upvotes: int | None = Field(default=None, description="the source's popularity (HF upvotes)")


class RunCounts(BaseModel):
    input: int = 0
    unique: int = 0
    tagged: int = 0
    cached: int = 0
    failed: int = 0
    skipped_resume: int = 0
    truncated: int = 0
    not_attempted: int = Field(default=0, description="left unwritten by a stopped run")
    failed_earlier: int = Field(
        default=0, description="failed lines an earlier invocation wrote that --resume kept"
    )
    cache_invalid: int = 0  # cache hits that failed validation and were asked again


class Invocation(BaseModel):
    """One `tagger run` that wrote OUT: what it used, did and spent."""

    started_at: str
    finished_at: str | None = None
    wall_time_s: float = 0.0
    model: str
    api_base: str | None = None
    prompt: str
    counts: RunCounts = Field(default_factory=RunCounts)
    usage: Usage = Field(default_factory=Usage)
    interrupted: bool = False
    exit_code: int | None = Field(default=None, description="None: not recorded (older tagger)")


class RunManifest(BaseModel):
    """Written beside OUT as OUT.run.json. Top-level fields describe the latest invocation,
    except `usage`, which totals every invocation in `invocations` (a --resume keeps them)."""

    tagger_version: str
    started_at: str
    finished_at: str | None = None
    wall_time_s: float = 0.0
    inputs: list[str]
    output: str
    model: str
    api_base: str | None = None
    prompt: str
    taxonomy: str
    taxonomy_hash: str
    max_tags: int
    counts: RunCounts = Field(default_factory=RunCounts)
    usage: Usage = Field(default_factory=Usage)
    interrupted: bool = False
    stopped: str | None = Field(default=None, description="why the run stopped early, if it did")
    stopped_by_cause: bool = Field(
        default=False, description="stopped by an error no retry can fix (key, model name)"
    )
    warnings: list[str] = Field(default_factory=list)
    skipped_invalid: SkippedRecords = Field(default_factory=SkippedRecords)
    exit_code: int | None = None
    invocations: list[Invocation] = Field(default_factory=list)
