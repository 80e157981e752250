"""JSON: the Digest model as it is, for scripts and other tools."""

from __future__ import annotations

from tagger.digest.models import Digest


def render_json(digest: Digest) -> str:
    return digest.model_dump_json(indent=2) + "\n"
