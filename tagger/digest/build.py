"""From loaded run records to the Digest every renderer reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from tagger import __version__
from tagger.config.taxonomy import Taxonomy
from tagger.digest.group import Placement, build_sections
from tagger.digest.intro import IntroWriter, compose_intro
from tagger.digest.load import LoadedRuns
from tagger.digest.models import Digest, DigestCounts
from tagger.digest.rank import interest_scores
from tagger.digest.select import drop_sent, keep_tags
from tagger.digest.text import one_line

DEFAULT_TITLE = "Papers digest"


@dataclass(frozen=True)
class DigestOptions:
    date: dt.date
    title: str = DEFAULT_TITLE
    placement: Placement = field(default_factory=Placement)
    sent: Collection[str] = frozenset()
    interests: Sequence[str] = ()


def build_digest(
    runs: LoadedRuns,
    taxonomy: Taxonomy,
    options: DigestOptions,
    intro: IntroWriter | None = None,
) -> Digest:
    """Select, group and count today's papers; with ``intro`` set, add the themes paragraph."""
    fresh, already_sent = drop_sent(runs.papers, options.sent)
    wanted, filtered_out = keep_tags(fresh, options.placement.only_tags)
    placement = options.placement
    if options.interests:
        placement = replace(placement, interests=interest_scores(wanted, options.interests))
    sections = build_sections(wanted, taxonomy, placement)
    shown = len({e.id for s in sections for e in s.entries})
    counts = DigestCounts(
        papers=len(wanted),
        shown=shown,
        sections=len(sections),
        loaded=len(runs.papers),
        failed=runs.failed,
        duplicates=runs.duplicates,
        already_sent=already_sent,
        filtered_out=filtered_out,
        beyond_top=len(wanted) - shown,
    )
    return Digest(
        title=one_line(options.title) or DEFAULT_TITLE,
        date=options.date.isoformat(),
        group_by=options.placement.group_by,
        generator=f"tagger {__version__}",
        intro=compose_intro(sections, intro) if intro is not None and sections else None,
        counts=counts,
        sections=sections,
    )
