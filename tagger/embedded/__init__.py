"""Embedded offline backends, addressed like any model by a `local/...` name.

Importing this package is cheap: backends (and onnxruntime / llama.cpp) load on first use.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from pathlib import Path
from typing import Any

from tagger.embedded.base import LocalAnswer, LocalBackend
from tagger.errors import ConfigError

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "LocalAnswer",
    "LocalBackend",
    "get_backend",
    "is_local",
]

PREFIX = "local/"
# On eval/gold.jsonl (benchmarks/strategies.py, max_tags 3): minilm micro-F1 0.63, keyword 0.52,
# hybrid 0.57 and smollm2-json 0.15 (first 40 papers, minilm 0.62 there); SmolLM2's TLDRs score
# no better than the extractive blurb (ROUGE-1 0.29 both) at ~50x the time.
DEFAULT_MODEL = "local/minilm"

# name -> (module, factory, fixed options, one-line description)
BACKENDS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "local/minilm": (
        "tagger.embedded.backends",
        "MiniLMBackend",
        {},
        "MiniLM sentence embeddings: cosine tags + extractive summary (default; CPU, no extras).",
    ),
    "local/keyword": (
        "tagger.embedded.backends",
        "KeywordBackend",
        {},
        "Label words found in the abstract + extractive summary (no model; a floor).",
    ),
    "local/smollm2-json": (
        "tagger.embedded.llm",
        "SmolLM2Backend",
        {"tags": "json", "summary": "extractive"},
        "Experimental: SmolLM2-135M picks tags in one JSON answer (weak; needs tagger[llm]).",
    ),
    "local/smollm2-yesno": (
        "tagger.embedded.llm",
        "SmolLM2Backend",
        {"tags": "yesno", "summary": "extractive"},
        "Experimental: SmolLM2-135M yes/no per tag by log-odds (very weak, slow; tagger[llm]).",
    ),
    "local/hybrid": (
        "tagger.embedded.llm",
        "SmolLM2Backend",
        {"tags": "hybrid", "summary": "extractive"},
        "MiniLM shortlists tags, SmolLM2-135M picks among them (needs tagger[llm]).",
    ),
    "local/smollm2": (
        "tagger.embedded.llm",
        "SmolLM2Backend",
        {"tags": "hybrid", "summary": "tldr"},
        "Hybrid tags + a SmolLM2-135M generated one-sentence TLDR (needs tagger[llm]).",
    ),
}

_instances: dict[tuple[str, tuple[tuple[str, Any], ...], str], LocalBackend] = {}
_lock = threading.Lock()


def is_local(model: str) -> bool:
    """Whether a --model value names an embedded backend rather than a litellm model."""
    return model.startswith(PREFIX)


def get_backend(name: str, **options: Any) -> LocalBackend:
    """The backend for `name`, built once per process per options (its caches live on it)."""
    if name not in BACKENDS:
        known = ", ".join(BACKENDS)
        raise ConfigError(
            f"unknown local model '{name}'.", hint=f"Use one of: {known}; or a litellm model name."
        )
    key = (name, tuple(sorted(options.items())), _file_stamp(options.get("head")))
    with _lock:
        if key not in _instances:
            module, factory, fixed, _ = BACKENDS[name]
            cls = getattr(importlib.import_module(module), factory)
            _instances[key] = cls(name, **{**fixed, **options})
        return _instances[key]


def _file_stamp(path: Any) -> str:
    """A head file rewritten in place (retrained) must not reuse the backend built from the old."""
    if not isinstance(path, str):
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()  # a head is ~100 kB
    except OSError:
        return ""  # the backend reports the unreadable file
