"""What a model call spent: tokens (cached prompt tokens apart), calls and cost, read from
litellm's responses or instructor's totals over every attempt, failed ones included."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from tagger.records import Usage

# litellm marks the system message (instructions + taxonomy, the prefix every paper shares) as
# cacheable for providers that need explicit markers; others cache prefixes by themselves.
_SYSTEM_CACHEABLE = [{"location": "message", "role": "system"}]


@functools.lru_cache(maxsize=16)
def _provider(model: str) -> str:
    import litellm

    try:
        return str(litellm.get_llm_provider(model)[1])
    except Exception:  # an unknown provider string: litellm's call reports it
        return ""


def cache_markers(model: str) -> dict[str, Any]:
    """Extra litellm arguments that make the shared prompt prefix cacheable for `model`."""
    if _provider(model) == "anthropic":
        return {"cache_control_injection_points": _SYSTEM_CACHEABLE}
    return {}


def read_usage(total: Any) -> Usage:
    """Usage from an OpenAI/litellm usage object (or None): cached prompt tokens are OpenAI's
    `prompt_tokens_details.cached_tokens` or Anthropic's cache read; cache writes apart."""
    details = getattr(total, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or getattr(total, "cache_read_input_tokens", 0)
    return Usage(
        prompt_tokens=int(getattr(total, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(total, "completion_tokens", 0) or 0),
        cached_prompt_tokens=int(cached or 0),
        cache_write_tokens=int(getattr(total, "cache_creation_input_tokens", 0) or 0),
        calls=1,
    )


def price(model: str, usage: Usage) -> float | None:
    """litellm's price for `usage` (cached tokens at their rate); None when it does not know
    the model's price, never a made-up 0."""
    if usage.prompt_tokens == 0 and usage.completion_tokens == 0:
        return 0.0  # nothing was answered, so nothing was billed
    import litellm

    tokens = litellm.Usage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.prompt_tokens + usage.completion_tokens,
        prompt_tokens_details={"cached_tokens": usage.cached_prompt_tokens},
        cache_read_input_tokens=usage.cached_prompt_tokens,
        cache_creation_input_tokens=usage.cache_write_tokens,
    )
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(model=model, usage_object=tokens)
    except Exception:  # unknown/self-hosted models have no price
        return None
    return float(prompt_cost + completion_cost)


def answer_usage(model: str, raw: Any, responses: Sequence[Usage]) -> Usage:
    """A validated answer's usage: `raw`'s alone, or with re-asks every response's summed."""
    if len(responses) > 1:
        return spent_usage(model, responses)
    usage = responses[0].model_copy() if responses else read_usage(getattr(raw, "usage", None))
    # One attempt: litellm already priced this response while logging it (pricing it again
    # costs ~1 ms).
    cost = (getattr(raw, "_hidden_params", None) or {}).get("response_cost")
    usage.cost_usd = float(cost) if cost is not None else price(model, usage)
    return usage


def spent_usage(model: str, responses: Sequence[Usage]) -> Usage:
    """What a call spent over all its attempts: the usage of every response it got, re-asks
    included (instructor's own total on a failure kept only one attempt's)."""
    usage = Usage(calls=1)
    for one in responses:
        usage.prompt_tokens += one.prompt_tokens
        usage.completion_tokens += one.completion_tokens
        usage.cached_prompt_tokens += one.cached_prompt_tokens
        usage.cache_write_tokens += one.cache_write_tokens
    usage.cost_usd = price(model, usage)
    return usage
