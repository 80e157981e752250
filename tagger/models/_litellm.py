"""litellm settings for a batch tool: no telemetry, no per-call logging work we don't use."""

from __future__ import annotations

import os

_configured = False


def configure() -> None:
    global _configured
    if _configured:
        return
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import logging

    import litellm

    # litellm's own warnings (e.g. its logging worker moving to a new event loop) are not the
    # user's business; tagger reports each failure once, redacted, in the output line.
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.drop_params = True  # providers that lack e.g. response_format still answer
    # Redacting messages for logging callbacks deep-copies every request (~1.5 ms a call, a fifth
    # of litellm's own cost); it is only needed when a callback would receive them, and tagger
    # registers none.
    litellm.turn_off_message_logging = bool(
        litellm.callbacks or litellm.success_callback or litellm.failure_callback
    )
    _configured = True
