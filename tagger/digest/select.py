"""Which papers go into today's digest: not sent before, and matching --tags."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence

from tagger.ingest.ids import CONTENT_ID_PREFIX, parse_arxiv_id
from tagger.records import TaggedPaper

_CONTENT_ID = re.compile(re.escape(CONTENT_ID_PREFIX) + "[0-9a-f]{12}")


def is_paper_id(ref: str) -> bool:
    """An arXiv id or a content id, not a 'file:line' source (a merged record whose id equalled
    its representative's is listed by source; those repeat across days and name no paper)."""
    return parse_arxiv_id(ref) is not None or _CONTENT_ID.fullmatch(ref) is not None


def paper_ids(paper_id: str, duplicates: Iterable[str]) -> set[str]:
    return {paper_id, *(d for d in duplicates if is_paper_id(d))}


def drop_sent(
    papers: Sequence[TaggedPaper], sent: Collection[str]
) -> tuple[list[TaggedPaper], int]:
    """Papers whose id (or an id merged into them) was not sent before, and how many were."""
    known = set(sent)
    kept = [p for p in papers if not (paper_ids(p.id, p.duplicates) & known)]
    return kept, len(papers) - len(kept)


def keep_tags(
    papers: Sequence[TaggedPaper], wanted: Collection[str]
) -> tuple[list[TaggedPaper], int]:
    """Papers carrying at least one wanted tag (all papers when nothing is wanted)."""
    if not wanted:
        return list(papers), 0
    kept = [p for p in papers if any(tag in wanted for tag in p.tags)]
    return kept, len(papers) - len(kept)
