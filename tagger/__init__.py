"""tagger: deduplicate, tag and one-line-summarize research-paper abstracts.

The API (`Tagger`, `read_papers`, `deduplicate`, `evaluate_gold`) loads on first use, so
`import tagger` stays cheap; see tagger/api.py and README "Python".
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# litellm fetches its model cost map from the network at import unless told not to; tagger must
# work offline, so the packaged map is used. Set before anything imports litellm (setdefault: a
# value the host program chose wins). This is the only change importing tagger makes.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tagger.api import Tagger, deduplicate, evaluate_gold, read_papers
    from tagger.records import Paper, TaggedPaper

__all__ = [
    "Paper",
    "TaggedPaper",
    "Tagger",
    "__version__",
    "deduplicate",
    "evaluate_gold",
    "read_papers",
]
_API = {"Tagger", "deduplicate", "evaluate_gold", "read_papers"}
_RECORDS = {"Paper", "TaggedPaper"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from tagger import api

        return getattr(api, name)
    if name in _RECORDS:
        from tagger import records

        return getattr(records, name)
    raise AttributeError(f"module 'tagger' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The API names too (they load on first use), so a notebook's tab completion offers them."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
