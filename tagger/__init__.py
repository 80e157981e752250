"""tagger: deduplicate, tag and one-line-summarize research-paper abstracts."""

import os

# litellm fetches its model cost map from the network at import unless told not to; tagger must
# work offline, so the packaged map is used. Set before anything imports litellm.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__version__ = "0.1.0"
