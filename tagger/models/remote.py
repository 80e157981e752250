"""The one door to models: instructor over litellm for remote models, embedded backends offline.

Retries live in exactly two places: instructor re-asks on validation errors (`max_retries`), and
`_transport_call` retries transient transport failures (429/5xx/timeouts/resets) honouring
Retry-After. litellm's and the OpenAI SDK's own retries are switched off so nothing stacks.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from tagger.config.taxonomy import Taxonomy
from tagger.errors import ConfigError, InvalidAnswerError, ModelError, ModelTransportError
from tagger.models.retry import (
    backoff_s,
    contains_secret,
    failure,
    is_retryable,
    retry_after_s,
    url_secrets,
)
from tagger.models.retry import redact as redact  # where batch.py and older callers look for it
from tagger.models.spend import answer_usage, cache_markers, spent_usage
from tagger.records import Paper, Usage

if TYPE_CHECKING:
    from tagger.embedded import LocalBackend
    from tagger.models.endpoints import EndpointPool
    from tagger.run.batch.client import BatchClient

LOCAL_WRITE_ATTEMPTS = 3  # as instructor's max_retries=2: the first try and two re-asks
MAX_BUSY_WAIT_S = 0.1  # longest single wait for a free endpoint slot in a pool
# Per request: [transport retries, calls instructor made]; calls - 1 are its re-asks.
_retries_this_request: contextvars.ContextVar[list[int]] = contextvars.ContextVar("retries")
# The validation context of the request in flight (see `_prepared`).
_request_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "request_context", default=None
)
ModelCallError = ModelError  # the older name: every ModelError now carries its usage


@dataclass(frozen=True)
class ModelRequest:
    paper: Paper
    messages: list[dict[str, str]]
    response_model: type[BaseModel]
    taxonomy: Taxonomy
    max_tags: int
    context: dict[str, Any] | None = None  # validation context; default: the paper's title
    sampling: dict[str, Any] | None = None  # overrides for this request (a pack's max_tokens)

    def validation_context(self) -> dict[str, Any]:
        return self.context if self.context is not None else {"title": self.paper.title}


@dataclass
class ModelResult:
    output: Any  # an instance of the request's response_model
    usage: Usage = field(default_factory=Usage)
    raw_text: str | None = None  # the model's answer as sent (live calls), for the store


class Gateway(Protocol):
    """What the runner needs from a model: an identity for the cache key, and `complete`."""

    model: str
    api_base: str | None

    def identity(self) -> dict[str, Any]: ...

    async def complete(self, request: ModelRequest) -> ModelResult: ...


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
            import instructor

            from tagger.models import _litellm

            _litellm.configure()
            # instructor logs each failed attempt (with the provider's message) at ERROR; the
            # failure is reported once, redacted, in the output line instead.
            logging.getLogger("instructor").setLevel(logging.CRITICAL)
            mode = {
                "json": instructor.Mode.JSON,
                "json_schema": instructor.Mode.JSON_SCHEMA,
                "md_json": instructor.Mode.MD_JSON,
                "tools": instructor.Mode.TOOLS,
            }[self.mode]
            self._client = instructor.from_litellm(self._transport_call, mode=mode)
        return self._client

    def batch_client(self) -> BatchClient:
        """The provider batch API at this gateway's endpoint, with its key."""
        from tagger.run.batch.client import BatchClient

        return BatchClient(self.api_base, self._api_key)

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
        counter = _retries_this_request.get(None)
        if counter is not None:
            counter[1] += 1
        for attempt in range(self.transport_retries + 1):
            try:
                return await self._attempt(kwargs)
            except Exception as exc:
                if attempt >= self.transport_retries or not is_retryable(exc):
                    raise
                if counter is not None:
                    counter[0] += 1
                wait = retry_after_s(exc)  # "Retry-After: 0" means now, not "use backoff"
                await self._sleep(backoff_s(attempt) if wait is None else wait)
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
        counter = [0, 0]
        _retries_this_request.set(counter)
        _request_context.set(context)
        started = time.perf_counter()
        try:
            output, raw = await client.chat.completions.create_with_completion(
                model=self.model,
                messages=messages,
                response_model=_prepared(response_model),
                max_retries=self.max_retries,
                **{**self.sampling, **(sampling or {})},
            )
        except Exception as exc:
            error = failure(exc, self.max_retries, self._secrets())
            error.usage = spent_usage(self.model, getattr(exc, "total_usage", None))
            error.usage.retries = _retries(counter)
            error.usage.latency_s = time.perf_counter() - started
            text = _raw_text(getattr(exc, "last_completion", None))
            if text is not None and not contains_secret(text, self._secrets()):
                error.raw_text = text  # so `tagger view` can show what the model said
            raise error from exc
        usage = answer_usage(self.model, output, raw, counter[1])
        usage.retries = _retries(counter)
        usage.latency_s = time.perf_counter() - started
        if contains_secret(output.model_dump_json(), self._secrets()):
            # a provider that echoes the key: neither OUT nor the cache may receive it
            raise InvalidAnswerError("answer contains a credential", usage)
        return ModelResult(output=output, usage=usage, raw_text=_raw_text(raw))


def _error_lines(exc: ValueError) -> list[str]:
    """A validation error as short lines ('text: mentions X ...'), for a re-ask."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return [
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()
        ]
    return [str(exc)]


def _retries(counter: list[int]) -> int:
    """Transport retries plus instructor's re-asks (every call after its first)."""
    return counter[0] + max(counter[1] - 1, 0)


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


@functools.lru_cache(maxsize=64)
def _prepared(model: type[BaseModel]) -> type[BaseModel]:
    """`model` wrapped for instructor once (it would re-wrap it on every call), validating with
    the context of the request in flight. The context is not passed as instructor's `context=`
    because that also renders every message as a Jinja template: ~3 ms a call, and it rewrites
    or rejects abstracts that contain "{{" or "{%"."""
    from instructor import openai_schema

    schema: type[BaseModel] = openai_schema(model)

    def validate_json(cls: Any, data: Any, /, *, context: Any = None, **kwargs: Any) -> Any:
        context = _request_context.get() if context is None else context
        return super(wrapped, cls).model_validate_json(data, context=context, **kwargs)

    def validate(cls: Any, obj: Any, /, *, context: Any = None, **kwargs: Any) -> Any:
        context = _request_context.get() if context is None else context
        return super(wrapped, cls).model_validate(obj, context=context, **kwargs)

    default_schema = schema.model_json_schema()

    def json_schema(cls: Any, /, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The default schema is built once (~0.4 ms a call); a copy, as callers may edit it."""
        if args or kwargs:
            built: dict[str, Any] = super(wrapped, cls).model_json_schema(*args, **kwargs)
            return built
        return copy.deepcopy(default_schema)

    namespace = {
        "__module__": schema.__module__,
        "__qualname__": schema.__qualname__,
        "__doc__": schema.__doc__,
        "model_validate_json": classmethod(validate_json),
        "model_validate": classmethod(validate),
        "model_json_schema": classmethod(json_schema),
    }
    wrapped: type[BaseModel] = type(schema.__name__, (schema,), namespace)
    return wrapped


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

    def batch_client(self) -> BatchClient:
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


class LocalGateway:
    """Embedded offline backends. Requests arriving together are micro-batched into one predict."""

    api_base: str | None = None

    def __init__(self, model: str, backend: LocalBackend, *, batch_size: int = 16) -> None:
        self.model = model
        self.backend = backend
        self.batch_size = batch_size
        self._pending: list[tuple[ModelRequest, asyncio.Future[ModelResult]]] = []
        self._locks: dict[int, asyncio.Lock] = {}  # per event loop: a gateway may outlive one

    def identity(self) -> dict[str, Any]:
        return {"model": self.model, "backend": getattr(self.backend, "fingerprint", self.model)}

    async def complete(self, request: ModelRequest) -> ModelResult:
        from tagger.config.schema import TagSummary

        if not issubclass(request.response_model, TagSummary):
            lock = self._locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
            async with lock:
                return await asyncio.to_thread(self._write, request)
        future: asyncio.Future[ModelResult] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_soon(self._schedule_flush)
        elif len(self._pending) >= self.batch_size:
            self._schedule_flush()
        return await future

    def _schedule_flush(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            asyncio.ensure_future(self._flush(batch))

    async def _flush(self, batch: list[tuple[ModelRequest, asyncio.Future[ModelResult]]]) -> None:
        lock = self._locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
        async with lock:  # one predict at a time: the backend uses every core itself
            requests = [r for r, _ in batch]
            started = time.perf_counter()
            try:
                answers = await asyncio.to_thread(self._predict, requests)
            except Exception as exc:
                for _, future in batch:
                    future.set_exception(exc)
                return
            latency = (time.perf_counter() - started) / max(len(batch), 1)
            for (_, future), answer in zip(batch, answers, strict=True):
                if isinstance(answer, Exception):
                    future.set_exception(answer)
                else:
                    future.set_result(ModelResult(answer, Usage(calls=1, latency_s=latency)))

    def _write(self, request: ModelRequest) -> ModelResult:
        """Answers other than tags + summary (the digest intro), from a backend that writes:
        validated like instructor does, re-asked with the validation error up to twice."""
        write = getattr(self.backend, "write_json", None)
        if write is None:
            raise ModelCallError(
                f"the embedded model {self.model} tags and extracts but does not write text",
                Usage(),
            )
        schema = request.response_model.model_json_schema()
        turns, prefill = list(request.messages), []
        if turns[-1]["role"] == "assistant":  # a prefill stays the last turn on a re-ask
            prefill = [turns.pop()]
        messages, usage, problem = list(request.messages), Usage(), ""
        started = time.perf_counter()
        for attempt in range(LOCAL_WRITE_ATTEMPTS):
            text, prompt_tokens, completion_tokens = write(messages, schema)
            usage.add(Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens))
            usage.calls, usage.retries = 1, attempt
            try:
                output = request.response_model.model_validate_json(
                    text, context=request.validation_context()
                )
            except ValueError as exc:
                problem = "; ".join(_error_lines(exc))[:300]
                messages = [
                    *turns,
                    {"role": "assistant", "content": text},
                    {"role": "user", "content": f"Fix this problem and answer again: {problem}"},
                    *prefill,
                ]
                continue
            usage.latency_s = time.perf_counter() - started
            return ModelResult(output, usage)
        raise ModelCallError(
            f"invalid output after {LOCAL_WRITE_ATTEMPTS} attempts: {problem}", usage
        )

    def _predict(self, requests: list[ModelRequest]) -> list[BaseModel | Exception]:
        first = requests[0]
        answers = self.backend.predict([r.paper for r in requests], first.taxonomy, first.max_tags)
        results: list[BaseModel | Exception] = []
        for request, answer in zip(requests, answers, strict=True):
            try:
                results.append(
                    request.response_model.model_validate(
                        {"tags": answer.tags, "summary": answer.summary},
                        context={"title": request.paper.title},
                    )
                )
            except ValueError as exc:
                results.append(ModelError(f"local model output failed validation: {exc}"))
        return results


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
    from tagger import embedded as local

    if endpoints:
        from tagger.models.endpoints import load_endpoints

        pool = load_endpoints(endpoints)
        return RouterGateway(
            pool, mode=mode, sampling=sampling, max_retries=max_retries, timeout_s=timeout_s
        )

    if local.is_local(model):
        if api_base:
            raise ConfigError(f"--api-base does not apply to the embedded model '{model}'.")
        options: dict[str, Any] = {"threads": threads} if threads is not None else {}
        if head:
            options["head"] = head
        return LocalGateway(model, local.get_backend(model, **options))
    return LiteLLMGateway(
        model,
        api_base=api_base,
        api_key=api_key,
        mode=mode,
        sampling=sampling,
        max_retries=max_retries,
        timeout_s=timeout_s,
    )
