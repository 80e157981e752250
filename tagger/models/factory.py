"""`make_gateway`: a model string (and options) -> the gateway that answers for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagger.errors import ConfigError
from tagger.models.base import DEFAULT_CONCURRENCY, EMBEDDED_CONCURRENCY, Gateway
from tagger.models.local import LocalGateway
from tagger.models.remote import LiteLLMGateway


def make_gateway(
    model: str,
    *,
    api_base: str | None = None,
    api_key: str | None = None,
    mode: str = "json",
    sampling: Mapping[str, Any] | None = None,
    max_retries: int = 2,
    threads: int | None = None,
    endpoints: str | None = None,
    timeout_s: float = 120.0,
    head: str | None = None,
) -> Gateway:
    """Build the gateway for a model string; nothing heavy is imported until the first call."""
    from tagger import embedded

    if endpoints:
        from tagger.models.router import RouterGateway, load_endpoints

        pool = load_endpoints(endpoints)
        return RouterGateway(
            pool, mode=mode, sampling=sampling, max_retries=max_retries, timeout_s=timeout_s
        )

    if embedded.is_local(model):
        if api_base:
            raise ConfigError(f"--api-base does not apply to the embedded model '{model}'.")
        options: dict[str, Any] = {"threads": threads} if threads is not None else {}
        if head:
            options["head"] = head
        return LocalGateway(model, embedded.get_backend(model, **options))
    return LiteLLMGateway(
        model,
        api_base=api_base,
        api_key=api_key,
        mode=mode,
        sampling=sampling,
        max_retries=max_retries,
        timeout_s=timeout_s,
    )


def default_concurrency(gateway: Gateway) -> int:
    """Requests in flight when --concurrency is not given (run, eval, the Python API): an
    endpoint pool's total, EMBEDDED_CONCURRENCY for embedded models, else DEFAULT_CONCURRENCY."""
    from tagger.embedded import is_local

    pool = getattr(gateway, "pool", None)
    if pool is not None:
        return int(pool.total_concurrency)
    return EMBEDDED_CONCURRENCY if is_local(gateway.model) else DEFAULT_CONCURRENCY
