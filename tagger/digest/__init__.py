"""`tagger digest`: turn what `tagger run` wrote into a newsletter (md, html, txt, rss, eml, json).

load (run files) -> select (not sent, --tags) -> group (sections) -> intro -> render -> state.
"""

from __future__ import annotations

from tagger.digest.build import DigestOptions, build_digest
from tagger.digest.group import Placement
from tagger.digest.intro import IntroWriter, extractive_intro, intro_facts
from tagger.digest.load import LoadedRuns, load_runs
from tagger.digest.models import Chip, Digest, DigestCounts, Entry, Intro, Section
from tagger.digest.render import FORMATS, Format, RenderOptions, render

__all__ = [
    "FORMATS",
    "Chip",
    "Digest",
    "DigestCounts",
    "DigestOptions",
    "Entry",
    "Format",
    "Intro",
    "IntroWriter",
    "LoadedRuns",
    "Placement",
    "RenderOptions",
    "Section",
    "build_digest",
    "extractive_intro",
    "intro_facts",
    "load_runs",
    "render",
]
