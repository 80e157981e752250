"""litellm settings for a batch tool: no telemetry, no per-call logging work we don't use."""

from __future__ import annotations

import os

_configured = False


def configure() -> None:
    global _configured
    if _configured:
        return
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.drop_params = True  # providers that lack e.g. response_format still answer
    litellm.turn_off_message_logging = True
    _configured = True
