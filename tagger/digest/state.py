"""The sent-ids state: which papers earlier digests already showed, so none repeats."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from tagger.atomic import write_atomic
from tagger.digest.models import Digest
from tagger.jsonio import load_state_file

_HINT = "Fix it, or move it away to start a fresh state."


class SentState(BaseModel):
    """Stored as JSON: {"version": 1, "sent": {"<paper id>": "<digest date>", ...}}."""

    version: int = 1
    sent: dict[str, str] = Field(default_factory=dict, description="paper id -> date first sent")

    def with_sent(self, ids: Iterable[str], day: str) -> SentState:
        """A copy that also lists ``ids``; an id keeps the date it was first sent."""
        added = {i: day for i in ids if i not in self.sent}
        return SentState(sent={**self.sent, **added})


def load_state(path: str | Path) -> SentState:
    """The state file's contents; a missing file is an empty state (the first digest)."""
    return load_state_file(path, SentState, "sent-ids state", _HINT)


def save_state(path: str | Path, state: SentState) -> None:
    write_atomic(path, state.model_dump_json(indent=1) + "\n")


def sent_ids(digest: Digest) -> list[str]:
    """Every paper id the digest showed (the arXiv id when known), with the paper ids merged into
    them; 'file:line' sources are not ids (state files that hold some still load)."""
    from tagger.digest.select import paper_ids

    return sorted({i for e in digest.unique_entries() for i in paper_ids(e.id, e.duplicates)})
