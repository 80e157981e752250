"""The one place tagger relies on how instructor works inside, beyond its documented call.

`tests/test_instructor_adapter.py` has one test for each behaviour relied on here, and
pyproject.toml pins instructor to the minor versions those tests pass on:

1. `instructor.from_litellm(create, mode=...)` wraps an async completion function, and
   `chat.completions.create_with_completion` returns (output, the function's raw answer).
2. Every attempt, re-asks included, is one call of that function, made in the caller's context
   (so a contextvar set around the call is seen inside it: `request_scope`).
3. A re-ask follows an answer that failed validation, and after the last one instructor raises
   `InstructorRetryException`, its cause the last validation error and `last_completion` the last
   raw answer.
4. `instructor.openai_schema(model)` returns a subclass of `model`; instructor validates answers
   with its `model_validate_json` (or `model_validate`) classmethods and builds the schema it sends
   with its `model_json_schema`, so the subclass `prepared` makes can supply the validation
   context and a schema built once.

Not relied on: instructor's usage totals (`_total_usage`, or the first response's usage object it
adds later attempts into); each response's usage is read as it arrives (`Call.responses`).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from tagger.records import Usage

MODES = ("json", "json_schema", "md_json", "tools")


@dataclass
class Call:
    """One request in flight through instructor: what validation needs and what it cost."""

    context: dict[str, Any]
    completions: int = 0  # calls instructor made: the first and its re-asks
    transport_retries: int = 0
    responses: list[Usage] = field(default_factory=list)  # every answer got, each billed

    @property
    def retries(self) -> int:
        """Transport retries plus instructor's re-asks (every call after its first)."""
        return self.transport_retries + max(self.completions - 1, 0)


_current: contextvars.ContextVar[Call | None] = contextvars.ContextVar("call", default=None)


@contextlib.contextmanager
def request_scope(context: dict[str, Any]) -> Iterator[Call]:
    """The request in flight, for the completion function and validation (reset on leaving)."""
    call = Call(context)
    token = _current.set(call)
    try:
        yield call
    finally:
        _current.reset(token)


def current_call() -> Call | None:
    """The `request_scope` this code runs in, if any."""
    return _current.get()


def make_client(create: Callable[..., Any], mode: str) -> Any:
    """instructor around `create` (an async litellm-style completion function)."""
    import instructor

    # instructor logs each failed attempt (with the provider's message) at ERROR; the failure
    # is reported once, redacted, in the output line instead.
    logging.getLogger("instructor").setLevel(logging.CRITICAL)

    modes = {
        "json": instructor.Mode.JSON,
        "json_schema": instructor.Mode.JSON_SCHEMA,
        "md_json": instructor.Mode.MD_JSON,
        "tools": instructor.Mode.TOOLS,
    }
    return instructor.from_litellm(create, mode=modes[mode])


async def create(
    client: Any,
    *,
    model: str,
    messages: list[dict[str, str]],
    response_model: type[BaseModel],
    max_retries: int,
    **sampling: Any,
) -> tuple[BaseModel, Any]:
    """One validated answer and the raw completion it came from (within a `request_scope`)."""
    output, raw = await client.chat.completions.create_with_completion(
        model=model,
        messages=messages,
        response_model=prepared(response_model),
        max_retries=max_retries,
        **sampling,
    )
    return output, raw


def last_completion(exc: BaseException) -> Any:
    """The last raw answer of a call that failed after its re-asks (None when there was none)."""
    return getattr(exc, "last_completion", None)


@functools.lru_cache(maxsize=64)
def prepared(model: type[BaseModel]) -> type[BaseModel]:
    """`model` wrapped for instructor once (it would re-wrap it on every call), validating with
    the context of the request in flight. The context is not passed as instructor's `context=`
    because that also renders every message as a Jinja template: ~3 ms a call, and it rewrites
    or rejects abstracts that contain "{{" or "{%"."""
    from instructor import openai_schema

    schema: type[BaseModel] = openai_schema(model)

    def scope_context(context: Any) -> Any:
        call = _current.get()
        return call.context if context is None and call is not None else context

    def validate_json(cls: Any, data: Any, /, *, context: Any = None, **kwargs: Any) -> Any:
        return super(wrapped, cls).model_validate_json(
            data, context=scope_context(context), **kwargs
        )

    def validate(cls: Any, obj: Any, /, *, context: Any = None, **kwargs: Any) -> Any:
        return super(wrapped, cls).model_validate(obj, context=scope_context(context), **kwargs)

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
