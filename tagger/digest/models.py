"""The digest as data: what every renderer (md, html, txt, rss, eml, json) reads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Chip(BaseModel):
    """A tag shown next to an entry: its stable id and the taxonomy's label."""

    model_config = ConfigDict(frozen=True)

    id: str
    label: str


class Entry(BaseModel):
    """One paper as the digest shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    blurb: str = Field(description="the one-line summary, whitespace collapsed")
    url: str | None = Field(default=None, description="http(s) link to the paper page, if known")
    tags: list[Chip] = Field(default_factory=list)
    date: str | None = None
    duplicates: list[str] = Field(default_factory=list, description="ids merged into this paper")
    authors: list[str] = Field(default_factory=list, description="every author, display form")
    upvotes: int | None = Field(default=None, description="the source's popularity, if it has one")
    score: float = Field(default=0.0, description="the ranking score (docs/digest.md#ranking)")
    title_source: str | None = Field(
        default=None, description="the title as the run wrote it, when display changed it"
    )
    blurb_source: str | None = Field(
        default=None, description="the summary as the run wrote it, when display changed it"
    )


class Section(BaseModel):
    """A heading (a tag or a tag group) with the papers under it."""

    id: str
    label: str
    count: int = Field(description="papers in this section before --top cut the list")
    entries: list[Entry]
    more_url: str | None = Field(
        default=None, description="the web archive page listing the papers not shown here"
    )

    @property
    def more(self) -> int:
        """Papers in this section beyond the ones listed."""
        return self.count - len(self.entries)


class Intro(BaseModel):
    """The short paragraph on the day's themes, and who wrote it."""

    text: str
    source: Literal["extractive", "model"] = Field(
        description="'extractive': counted from the sections offline; 'model': written by an LLM"
    )
    fallback_reason: str | None = Field(
        default=None, description="why a model was asked but the extractive intro is shown"
    )


class DigestCounts(BaseModel):
    """Where the papers went between the run files and the digest."""

    papers: int = Field(default=0, description="distinct papers in the digest's sections")
    shown: int = Field(
        default=0, description="distinct papers listed (fewer than papers with --top)"
    )
    sections: int = 0
    loaded: int = Field(default=0, description="ok records read, after merging duplicates")
    failed: int = Field(default=0, description="failed records skipped")
    duplicates: int = Field(default=0, description="repeated records merged across files")
    already_sent: int = Field(default=0, description="skipped because the state file lists them")
    filtered_out: int = Field(default=0, description="skipped by --tags")
    beyond_top: int = Field(default=0, description="left out by --top (not marked as sent)")


class Digest(BaseModel):
    title: str
    date: str = Field(description="the digest's day, YYYY-MM-DD")
    group_by: Literal["tag", "group"] = "tag"
    generator: str
    intro: Intro | None = None
    counts: DigestCounts
    sections: list[Section]

    def unique_entries(self) -> list[Entry]:
        """Every shown paper once, in reading order (--all-sections can repeat them)."""
        seen: set[str] = set()
        out: list[Entry] = []
        for section in self.sections:
            for entry in section.entries:
                if entry.id not in seen:
                    seen.add(entry.id)
                    out.append(entry)
        return out

    def summary_line(self) -> str:
        """'12 papers in 4 sections', or '9 of 12 papers ...' when sections were cut: the count
        a reader sees first is the number of papers listed."""
        c = self.counts
        where = f"in {plural(c.sections, 'section')}"
        if c.shown == c.papers:
            return f"{plural(c.papers, 'paper')} {where}"
        return f"{c.shown} of {plural(c.papers, 'paper')} {where}"

    def skipped_line(self) -> str:
        """'Not shown: 3 already sent, 1 failed.' or '' when nothing was left out."""
        c = self.counts
        parts = [
            (c.already_sent, "already sent"),
            (c.filtered_out, "outside the chosen tags"),
            (c.beyond_top, "beyond each section's limit"),
            (c.failed, "failed to tag"),
        ]
        shown = [f"{n} {what}" for n, what in parts if n]
        return f"Not shown: {', '.join(shown)}." if shown else ""


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
