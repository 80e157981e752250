"""What dedup hands on: groups (a representative and what merged into it), counts, the report,
and the unique papers a run tags."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from tagger.records import Paper

MatchKind = Literal["exact-title", "exact-abstract", "arxiv-id", "near-duplicate"]
REASONS: tuple[MatchKind, ...] = ("exact-title", "exact-abstract", "arxiv-id", "near-duplicate")


@dataclass
class UniquePaper:
    """One paper to tag, with the refs of the records dedup merged into it."""

    paper: Paper
    duplicates: list[str] = field(default_factory=list)


class Merge(BaseModel):
    """One record folded into a group's representative."""

    id: str
    source: str
    reason: str = Field(
        description="`match` and `score` in one string, as read by people (and kept for readers "
        "of older reports): exact-title, exact-abstract, arxiv-id or near-duplicate (jaccard=0.92)"
    )
    matched: str = Field(description="source of the record it matched")
    ref: str = Field(
        description="id; for another version of the representative's id, id+version when known, "
        "else source"
    )
    match: MatchKind = Field(
        description="what matched: exact-title, exact-abstract, arxiv-id or near-duplicate"
    )
    score: float | None = Field(
        default=None, description="a near-duplicate's word 3-gram Jaccard similarity, else null"
    )


def reason_text(match: MatchKind, score: float | None) -> str:
    """The combined `reason` string: 'exact-title', or 'near-duplicate (jaccard=0.92)'."""
    return match if score is None else f"{match} (jaccard={score:.2f})"


class DedupGroup(BaseModel):
    paper: Paper
    duplicates: list[Merge] = Field(default_factory=list)

    @property
    def duplicate_refs(self) -> list[str]:
        return [m.ref for m in self.duplicates]


class DedupCounts(BaseModel):
    records: int
    unique: int
    merged: int
    by_reason: dict[str, int] = Field(description="merged records per reason kind")


class ReportGroup(BaseModel):
    id: str
    source: str
    title: str
    duplicates: list[Merge]


class DedupReport(BaseModel):
    threshold: float
    counts: DedupCounts
    groups: list[ReportGroup] = Field(description="only groups that merged something")
    warnings: list[str] = Field(default_factory=list)


def summary_line(c: DedupCounts) -> str:
    """'310 records -> 270 unique (40 merged: 40 exact-title)'."""
    parts = ", ".join(f"{n} {kind}" for kind, n in c.by_reason.items() if n)
    merged = f"{c.merged} merged: {parts}" if c.merged else "none merged"
    return f"{c.records} records -> {c.unique} unique ({merged})"
