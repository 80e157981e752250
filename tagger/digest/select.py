"""Which papers go into today's digest: not sent before, and matching --tags."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from tagger.records import TaggedPaper


def drop_sent(
    papers: Sequence[TaggedPaper], sent: Collection[str]
) -> tuple[list[TaggedPaper], int]:
    """Papers whose id (or an id merged into them) was not sent before, and how many were."""
    kept = [p for p in papers if not ({p.id, *p.duplicates} & set(sent))]
    return kept, len(papers) - len(kept)


def keep_tags(
    papers: Sequence[TaggedPaper], wanted: Collection[str]
) -> tuple[list[TaggedPaper], int]:
    """Papers carrying at least one wanted tag (all papers when nothing is wanted)."""
    if not wanted:
        return list(papers), 0
    kept = [p for p in papers if any(tag in wanted for tag in p.tags)]
    return kept, len(papers) - len(kept)
