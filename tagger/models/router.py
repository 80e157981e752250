"""Endpoint pools: several OpenAI-compatible servers (e.g. a vLLM fleet) behind one name.

The pool file (`--endpoints pool.yaml`) and the gateway that spreads calls over it: a litellm
Router with least-busy balancing, per-endpoint concurrency and failover with cooldown.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tagger.errors import ConfigError, ModelTransportError, config_error_from
from tagger.models.base import DEFAULT_CONCURRENCY, BatchTarget
from tagger.models.remote import LiteLLMGateway
from tagger.yamlfile import load_yaml

MAX_BUSY_WAIT_S = 0.1  # longest single wait for a free endpoint slot in a pool


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_base: str
    model: str | None = Field(default=None, description="overrides the pool's model")
    max_concurrency: int = Field(
        default=DEFAULT_CONCURRENCY, ge=1, description="requests in flight at once"
    )
    api_key_env: str | None = Field(default=None, description="env var holding this server's key")

    def api_key(self) -> str:
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ConfigError(f"environment variable {self.api_key_env} is not set.")
            return key
        return "no-key"  # self-hosted servers ignore it


class EndpointPool(BaseModel):
    """Load balancing over `endpoints`, per-endpoint concurrency, failover with cooldown."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        description="litellm model string served by every endpoint, e.g. openai/Qwen"
    )
    routing: Literal["least-busy", "simple-shuffle"] = "least-busy"
    cooldown_s: float = Field(default=30.0, ge=0, description="rest a failing endpoint this long")
    endpoints: list[Endpoint] = Field(min_length=1)
    path: str = ""

    @model_validator(mode="after")
    def _distinct(self) -> EndpointPool:
        bases = [e.api_base for e in self.endpoints]
        if len(set(bases)) != len(bases):
            raise ValueError("each api_base may appear once")
        return self

    @property
    def total_concurrency(self) -> int:
        return sum(e.max_concurrency for e in self.endpoints)

    def model_list(self, group: str) -> list[dict[str, Any]]:
        """The litellm Router's deployments."""
        return [
            {
                "model_name": group,
                "litellm_params": {
                    "model": e.model or self.model,
                    "api_base": e.api_base,
                    "api_key": e.api_key(),
                    "max_parallel_requests": e.max_concurrency,
                },
            }
            for e in self.endpoints
        ]


def load_endpoints(path: str | Path) -> EndpointPool:
    file = Path(path)
    data = load_yaml(file, what="endpoints file")
    if data is not None and not isinstance(data, dict):
        raise ConfigError("an endpoints file must be a YAML mapping.", path=str(file), line=1)
    try:
        return EndpointPool.model_validate({**(data or {}), "path": str(file)})
    except ValidationError as exc:
        raise config_error_from(exc, path=str(file)) from None


class RouterGateway(LiteLLMGateway):
    """A litellm Router over an endpoint pool: least-busy balancing, per-endpoint concurrency,
    failover (a failing endpoint cools down; the transport retry lands on another)."""

    GROUP = "tagger-pool"

    def __init__(self, pool: EndpointPool, **options: Any) -> None:
        super().__init__(pool.model, **options)
        self.pool = pool
        self._router: Any = None

    def identity(self) -> dict[str, Any]:
        models = sorted({e.model or self.pool.model for e in self.pool.endpoints})
        return {
            "model": self.model,
            "api_base": None,
            "pool": models,
            "mode": self.mode,
            **self.sampling,
        }

    def batch_target(self) -> BatchTarget:
        raise ConfigError("--batch works with one endpoint (--api-base), not an endpoint pool.")

    def preflight(self) -> None:
        """Each endpoint names its own key (api_key_env, checked when the pool is built)."""

    def _get_router(self) -> Any:
        if self._router is None:
            from litellm.router import Router

            self._router = Router(
                model_list=self.pool.model_list(self.GROUP),
                routing_strategy=self.pool.routing,
                num_retries=0,  # retries live in _transport_call only
                allowed_fails=0,
                cooldown_time=self.pool.cooldown_s,
            )
        return self._router

    async def _send(self, kwargs: dict[str, Any]) -> Any:
        router = self._get_router()
        kwargs = {k: v for k, v in kwargs.items() if k not in ("api_base", "api_key")}
        kwargs["model"] = self.GROUP
        waited, pause = 0.0, 0.005
        while True:
            try:
                return await router.acompletion(**kwargs)
            except Exception as exc:
                if "max_parallel_requests slots in use" not in str(exc):
                    raise
                if waited >= self.timeout_s:  # a slot never freed: fail, don't spin for ever
                    raise ModelTransportError(
                        f"every endpoint stayed busy for {self.timeout_s:g} s"
                    ) from exc
            await self._sleep(pause)  # every slot busy: wait for one, not a failure
            waited, pause = waited + pause, min(pause * 2, MAX_BUSY_WAIT_S)
