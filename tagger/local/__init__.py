"""Embedded offline backends, addressed like any model by a `local/...` name.

Importing this package is cheap: backends (and onnxruntime / llama.cpp) load on first use.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from tagger.errors import ConfigError
from tagger.local.base import LocalAnswer, LocalBackend

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "LocalAnswer",
    "LocalBackend",
    "get_backend",
    "is_local",
]

PREFIX = "local/"
DEFAULT_MODEL = "local/minilm"

# name -> (module, factory, fixed options, one-line description)
BACKENDS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "local/minilm": (
        "tagger.local.backends",
        "MiniLMBackend",
        {},
        "MiniLM embeddings: cosine tags + extractive summary (CPU, ~20 MB, no extra install).",
    ),
    "local/keyword": (
        "tagger.local.backends",
        "KeywordBackend",
        {},
        "Label words found in the abstract + extractive summary (no model; a floor).",
    ),
    "local/smollm2-json": (
        "tagger.local.llm",
        "SmolLM2Backend",
        {"tags": "json", "summary": "extractive"},
        "SmolLM2-135M picks tags in one schema-constrained JSON answer (needs tagger[llm]).",
    ),
    "local/smollm2-yesno": (
        "tagger.local.llm",
        "SmolLM2Backend",
        {"tags": "yesno", "summary": "extractive"},
        "SmolLM2-135M answers yes/no per tag, ranked by log-probability (needs tagger[llm]).",
    ),
    "local/hybrid": (
        "tagger.local.llm",
        "SmolLM2Backend",
        {"tags": "hybrid", "summary": "extractive"},
        "MiniLM shortlists tags, SmolLM2-135M picks among them (needs tagger[llm]).",
    ),
    "local/smollm2": (
        "tagger.local.llm",
        "SmolLM2Backend",
        {"tags": "hybrid", "summary": "tldr"},
        "Hybrid tags + a SmolLM2-135M generated one-sentence TLDR (needs tagger[llm]).",
    ),
}

_instances: dict[tuple[str, tuple[tuple[str, Any], ...]], LocalBackend] = {}
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
    key = (name, tuple(sorted(options.items())))
    with _lock:
        if key not in _instances:
            module, factory, fixed, _ = BACKENDS[name]
            cls = getattr(importlib.import_module(module), factory)
            _instances[key] = cls(name, **{**fixed, **options})
        return _instances[key]
