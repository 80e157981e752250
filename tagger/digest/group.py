"""Sort papers into sections (one per tag or per taxonomy group), biggest first."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from tagger.config.taxonomy import Taxonomy
from tagger.digest.models import Chip, Entry, Section
from tagger.digest.rank import paper_score, ranked, section_fit
from tagger.digest.text import display, one_line, paper_url
from tagger.records import TaggedPaper

GroupBy = Literal["tag", "group"]
UNTAGGED = ("untagged", "Untagged")
NO_GROUP = "Other"


@dataclass(frozen=True)
class Placement:
    """How papers are placed: by what, in which tags, and how many entries per section."""

    group_by: GroupBy = "tag"
    all_sections: bool = False
    only_tags: Collection[str] = ()
    top: int | None = None
    interests: Mapping[str, float] | None = None
    archive_url: str | None = None


def build_sections(
    papers: Sequence[TaggedPaper], taxonomy: Taxonomy, how: Placement
) -> list[Section]:
    """Sections ordered by size (then label), entries by score; every paper is placed once+."""
    buckets: dict[str, tuple[str, list[Entry]]] = {}
    members: dict[str, set[str]] = {}  # section key -> the tags that put papers there
    for paper in papers:
        entry = to_entry(paper, taxonomy, paper_score(paper, how.interests))
        for key, label, tag in _section_keys(paper, taxonomy, how):
            buckets.setdefault(key, (label, []))[1].append(entry)
            members.setdefault(key, set()).add(tag)
    texts = {p.id: f"{p.title} {p.summary or ''}" for p in papers}
    fits = section_fit(texts, {key: _section_text(tags, taxonomy) for key, tags in members.items()})
    sections = [
        _section(key, label, ranked(entries, fits.get(key)), how)
        for key, (label, entries) in buckets.items()
    ]
    sections.sort(key=_order)
    return sections


def _section(key: str, label: str, entries: list[Entry], how: Placement) -> Section:
    shown = entries[: how.top]
    more_url = how.archive_url if len(shown) < len(entries) else None
    return Section(id=key, label=label, count=len(entries), entries=shown, more_url=more_url)


def to_entry(paper: TaggedPaper, taxonomy: Taxonomy, score: float = 0.0) -> Entry:
    chips = [Chip(id=t, label=tag_label(t, taxonomy)) for t in dict.fromkeys(paper.tags)]
    title, blurb = display(paper.title), display(paper.summary)
    return Entry(
        id=paper.id,
        title=title or paper.id,
        blurb=blurb,
        url=paper_url(paper.id, paper.url),
        tags=chips,
        date=paper.date,
        duplicates=list(paper.duplicates),
        authors=[display(a) for a in paper.authors if display(a)],
        upvotes=paper.upvotes,
        score=score,
        title_source=_if_changed(paper.title, title),
        blurb_source=_if_changed(paper.summary, blurb),
    )


def _if_changed(original: str | None, shown: str) -> str | None:
    return original if original and one_line(original) != shown else None


def tag_label(tag_id: str, taxonomy: Taxonomy) -> str:
    """The taxonomy's label; a tag the taxonomy lacks (an older run) shows its id."""
    tag = taxonomy.by_id.get(tag_id)
    return one_line(tag.label) if tag else tag_id


def _section_text(tags: Collection[str], taxonomy: Taxonomy) -> str:
    """What a section is about, for the fit score: its tags' labels and descriptions."""
    found = [taxonomy.by_id[t] for t in sorted(tags) if t in taxonomy.by_id]
    return " ".join(f"{tag.label} {tag.description}" for tag in found)


def _section_keys(
    paper: TaggedPaper, taxonomy: Taxonomy, how: Placement
) -> list[tuple[str, str, str]]:
    """(section key, label, the paper's tag that puts it there), one per section."""
    tags = [t for t in dict.fromkeys(paper.tags) if not how.only_tags or t in how.only_tags]
    if not tags:
        return [(*UNTAGGED, "")]
    placed: dict[tuple[str, str], str] = {}
    for tag in tags:
        placed.setdefault(_key_for(tag, taxonomy, how.group_by), tag)
    unique = [(key, label, tag) for (key, label), tag in placed.items()]
    return unique if how.all_sections else unique[:1]


def _key_for(tag_id: str, taxonomy: Taxonomy, group_by: GroupBy) -> tuple[str, str]:
    if group_by == "tag":
        return tag_id, tag_label(tag_id, taxonomy)
    tag = taxonomy.by_id.get(tag_id)
    group = one_line(tag.group) if tag and tag.group else NO_GROUP
    return slug(group), group


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _order(section: Section) -> tuple[bool, int, str]:
    # Catch-all sections go last whatever their size: they are the least informative.
    last = section.id in (UNTAGGED[0], slug(NO_GROUP))
    return last, -section.count, section.label.lower()
