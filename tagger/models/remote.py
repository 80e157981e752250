"""Remote models: instructor over litellm (any litellm model string, or an OpenAI-compatible
server at --api-base).

Retries live in exactly two places: instructor re-asks on validation errors (`max_retries`), and
`_transport_call` retries transient transport failures (429/5xx/timeouts/resets) honouring
Retry-After (tagger.models.retry). litellm's and the OpenAI SDK's own retries are switched off so
nothing stacks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from tagger.errors import InvalidAnswerError
from tagger.models import instructor_adapter
from tagger.models.base import BatchTarget, ModelRequest, ModelResult
from tagger.models.retry import (
    backoff_s,
    contains_secret,
    failure,
    is_retryable,
    retry_after_s,
    url_secrets,
)
from tagger.models.spend import answer_usage, cache_markers, read_usage, spent_usage


class LiteLLMGateway:
    """Any litellm model string: openai/..., anthropic/..., ollama/..., vLLM or llama.cpp."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        mode: str = "json",
        sampling: Mapping[str, Any] | None = None,
        max_retries: int = 2,
        transport_retries: int = 3,
        timeout_s: float = 120.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.model = model
        self.api_base = api_base
        self._api_key = api_key  # never logged, cached or written
        self.mode = mode
        self.sampling = dict(sampling or {})
        self.max_retries = max_retries
        self.transport_retries = transport_retries
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._client: Any = None
        self._checked = False  # credentials looked at (see `preflight`)

    def identity(self) -> dict[str, Any]:
        return {"model": self.model, "api_base": self.api_base, "mode": self.mode, **self.sampling}

    def _instructor(self) -> Any:
        if self._client is None:
            from tagger.models import _litellm

            _litellm.configure()
            self._client = instructor_adapter.make_client(self._transport_call, self.mode)
        return self._client

    def batch_target(self) -> BatchTarget:
        """The provider batch API at this gateway's endpoint, with its key."""
        return BatchTarget(self.api_base, self._api_key)

    async def _send(self, kwargs: dict[str, Any]) -> Any:
        import litellm

        return await litellm.acompletion(**kwargs)

    def preflight(self) -> None:
        """Before the first call: the provider's credentials are there (else one ConfigError
        naming the variable, and no call is made). Idempotent and cheap after the first time."""
        if not self._checked:
            from tagger.models import _litellm
            from tagger.models.credentials import check_credentials

            _litellm.configure()  # before litellm's first import: no remote price-list fetch
            check_credentials(self.model, api_key=self._api_key, api_base=self.api_base)
            self._checked = True

    def _secrets(self) -> list[str | None]:
        """What must never be shown or stored: the key, and any credentials in --api-base."""
        return [self._api_key, *url_secrets(self.api_base)]

    async def _transport_call(self, **kwargs: Any) -> Any:
        kwargs.update(num_retries=0, max_retries=0, timeout=self.timeout_s)
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        elif self.api_base:
            kwargs["api_key"] = "no-key"  # self-hosted OpenAI-compatible servers ignore it
        kwargs.update(cache_markers(self.model))
        call = instructor_adapter.current_call()
        if call is not None:
            call.completions += 1
        for attempt in range(self.transport_retries + 1):
            try:
                response = await self._attempt(kwargs)
            except Exception as exc:
                if attempt >= self.transport_retries or not is_retryable(exc):
                    raise
                if call is not None:
                    call.transport_retries += 1
                wait = retry_after_s(exc)  # "Retry-After: 0" means now, not "use backoff"
                await self._sleep(backoff_s(attempt) if wait is None else wait)
                continue
            if call is not None:  # every answer is billed, valid or not; read now, as
                call.responses.append(read_usage(getattr(response, "usage", None)))  # instructor
            return response  # adds later attempts into the first response's usage object
        raise AssertionError("unreachable")

    async def _attempt(self, kwargs: dict[str, Any]) -> Any:
        """One attempt within --timeout as a whole: litellm's timeout bounds each read only, so a
        server dripping one byte at a time would otherwise hold the call for ever."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._send(kwargs)
        except TimeoutError:
            raise TimeoutError(f"no complete answer within {self.timeout_s:g} s") from None

    async def complete(self, request: ModelRequest) -> ModelResult:
        return await self.complete_messages(
            request.messages,
            request.response_model,
            request.validation_context(),
            request.sampling,
        )

    async def complete_messages(
        self,
        messages: list[dict[str, str]],
        response_model: type[BaseModel],
        context: dict[str, Any],
        sampling: Mapping[str, Any] | None = None,
    ) -> ModelResult:
        """One validated answer: `complete` without the paper (what a worker process receives)."""
        self.preflight()
        client = self._instructor()
        started = time.perf_counter()
        with instructor_adapter.request_scope(context) as call:
            try:
                output, raw = await instructor_adapter.create(
                    client,
                    model=self.model,
                    messages=messages,
                    response_model=response_model,
                    max_retries=self.max_retries,
                    **{**self.sampling, **(sampling or {})},
                )
            except Exception as exc:
                error = failure(exc, self.max_retries, self._secrets())
                error.usage = spent_usage(self.model, call.responses)
                error.usage.retries = call.retries
                error.usage.latency_s = time.perf_counter() - started
                text = _raw_text(instructor_adapter.last_completion(exc))
                if text is not None and not contains_secret(text, self._secrets()):
                    error.raw_text = text  # so `tagger view` can show what the model said
                raise error from exc
        usage = answer_usage(self.model, raw, call.responses)
        usage.retries = call.retries
        usage.latency_s = time.perf_counter() - started
        if contains_secret(output.model_dump_json(), self._secrets()):
            # a provider that echoes the key: neither OUT nor the cache may receive it
            raise InvalidAnswerError("answer contains a credential", usage)
        return ModelResult(output=output, usage=usage, raw_text=_raw_text(raw))


def _raw_text(raw: Any) -> str | None:
    """The answer's text (or tool-call arguments) from a chat completion, as the model sent it."""
    try:
        message = raw.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    calls = getattr(message, "tool_calls", None) or []
    parts = [getattr(message, "content", None)]
    parts += [getattr(getattr(c, "function", None), "arguments", None) for c in calls]
    text = "\n".join(p for p in parts if isinstance(p, str) and p)
    return text or None
