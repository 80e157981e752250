"""Endpoint-pool files: several OpenAI-compatible servers (e.g. a vLLM fleet) behind one name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tagger.errors import ConfigError, config_error_from
from tagger.yamlfile import load_yaml


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_base: str
    model: str | None = Field(default=None, description="overrides the pool's model")
    max_concurrency: int = Field(default=8, ge=1, description="requests in flight at once")
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
