"""Files tagger itself writes (run outputs and manifests, batch state, dedup and eval results),
recognised so that `tagger run DIR` / `tagger dedup DIR` do not read them back as papers.

By name: OUT.run.json, OUT.batch.json, and lock/temp files. By content, from the first bytes: a
run output or eval prediction log (a JSON line with status, model, prompt and tags), a dedup
output (a JSON line with source, duplicates and truncated), a pretty-printed manifest, dedup
report or eval report (its first key), an eval report in Markdown or HTML (its heading), a
digest in any format (the "Made by tagger" footer, RSS's generator, the JSON's "generator").
"""

from __future__ import annotations

import os
import re

from tagger.errors import InputError
from tagger.jsonio import parse_json_line

_NAMES = ((".run.json", "a run manifest"), (".batch.json", "batch state"), (".lock", "a lock"))
_RUN_KEYS = frozenset({"id", "title", "summary", "tags", "status", "model", "prompt", "source"})
_DEDUP_KEYS = frozenset({"id", "title", "abstract", "source", "truncated", "duplicates"})
_FIRST_KEY = re.compile(r'\{\s*"(tagger_version|threshold|format)"\s*:\s*("tagger-eval/)?')
_DOC_KINDS = {"tagger_version": "a run manifest", "threshold": "a dedup report"}
_HEAD_BYTES = 1 << 16
_TAIL_BYTES = 1024
_DIGEST_FOOTER = re.compile(r"Made by tagger \d[\w.+-]*\.(?:</\w+>|\s)*\Z")
_DIGEST_JSON = re.compile(r'"generator"\s*:\s*"tagger \d')


def written_by_tagger(path: str) -> str | None:
    """What kind of tagger file ``path`` is ('a run output', ...), or None for anything else."""
    name = os.path.basename(path)
    for suffix, kind in _NAMES:
        if name.endswith(suffix):
            return kind
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff")
            size = f.seek(0, os.SEEK_END)
            f.seek(max(size - _TAIL_BYTES, 0))
            tail = f.read().decode("utf-8", errors="replace")
    except OSError:
        return None  # check_readable reports it
    if _is_digest(head, tail):
        return "a digest"
    return _kind_of(head)


def _is_digest(head: str, tail: str) -> bool:
    """A digest says who made it: the md/txt/html footer "Made by tagger X", RSS's
    <generator>, the JSON's "generator" field."""
    if _DIGEST_FOOTER.search(tail[-_TAIL_BYTES:]):
        return True
    text = head.lstrip()
    if text.startswith("<?xml") and "<generator>tagger " in text[:8192]:
        return True
    return text.startswith("{") and _DIGEST_JSON.search(text) is not None


def _kind_of(head: str) -> str | None:
    text = head.lstrip()
    if text.startswith(("# tagger eval\n", "<!doctype html>")) and "tagger eval" in text[:4096]:
        return "an eval report"
    doc = _FIRST_KEY.match(text)
    if doc and text.startswith("{\n"):
        return "an eval report" if doc[2] else _DOC_KINDS.get(doc[1])
    first, _, rest = text.partition("\n")
    if not rest and len(head) == _HEAD_BYTES:
        return None  # a first line longer than the head: no record tagger writes
    return _line_kind(first)


def _line_kind(line: str) -> str | None:
    try:
        value = parse_json_line(line, path="", line=1)
    except InputError:
        return None
    if not isinstance(value, dict):
        return None
    keys = value.keys()
    if _RUN_KEYS <= keys:
        return "a run output"
    if _DEDUP_KEYS <= keys:
        return "a dedup output"
    return None
