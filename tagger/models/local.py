"""The gateway to embedded backends (tagger.embedded): requests arriving together are
micro-batched into one predict; answers are validated like a remote model's."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tagger.config.schema import validate_answer
from tagger.errors import ModelError
from tagger.models import instructor_adapter
from tagger.models.base import ModelRequest, ModelResult
from tagger.models.retry import failure
from tagger.records import Usage

if TYPE_CHECKING:
    from tagger.embedded import LocalBackend

LOCAL_WRITE_ATTEMPTS = 3  # as instructor's max_retries=2: the first try and two re-asks


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
                return await self._write(request)
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

    async def _write(self, request: ModelRequest) -> ModelResult:
        """Answers other than tags + summary (the digest intro), from a backend that writes:
        through instructor like a remote model's, so its re-asks (up to two, with the
        validation error) are instructor's one loop; the backend is its completion function."""
        write = getattr(self.backend, "write_json", None)
        if write is None:
            raise ModelError(
                f"the embedded model {self.model} tags and extracts but does not write text",
                Usage(),
            )
        schema = request.response_model.model_json_schema()
        asked = list(request.messages)
        prefill = asked[-1:] if asked[-1]["role"] == "assistant" else []
        usage = Usage(calls=1)
        attempts = 0

        async def complete(*, messages: list[dict[str, str]], **_: Any) -> Any:
            nonlocal attempts
            attempts += 1
            turns = list(messages)
            if len(turns) > len(asked):  # a re-ask: the last answer and its problem in a line
                # (instructor's pydantic dump, URL included, is copied by a small model), then
                # the prefill again as the last turn; a small model's context holds one pair
                answer, fix = turns[-2], {"role": "user", "content": _fix(request, turns[-2])}
                turns = [*asked[: len(asked) - len(prefill)], answer, fix, *prefill]
            text, prompt_tokens, completion_tokens = await asyncio.to_thread(write, turns, schema)
            usage.add(Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens))
            return _completion(text)

        client = instructor_adapter.make_client(complete, "json_schema")
        started = time.perf_counter()
        with instructor_adapter.request_scope(request.validation_context()):
            try:
                output, _ = await instructor_adapter.create(
                    client,
                    model=self.model,
                    messages=asked,
                    response_model=request.response_model,
                    max_retries=LOCAL_WRITE_ATTEMPTS - 1,
                )
            except Exception as exc:
                error = failure(exc, LOCAL_WRITE_ATTEMPTS - 1, ())
                usage.retries = max(attempts - 1, 0)
                error.usage = usage
                raise error from exc
        usage.retries = attempts - 1
        usage.latency_s = time.perf_counter() - started
        return ModelResult(output, usage)

    def _predict(self, requests: list[ModelRequest]) -> list[BaseModel | Exception]:
        first = requests[0]
        answers = self.backend.predict([r.paper for r in requests], first.taxonomy, first.max_tags)
        results: list[BaseModel | Exception] = []
        for request, answer in zip(requests, answers, strict=True):
            try:
                results.append(
                    validate_answer(
                        request.response_model,
                        {"tags": answer.tags, "summary": answer.summary},
                        {"title": request.paper.title},
                    )
                )
            except ValueError as exc:
                results.append(ModelError(f"local model output failed validation: {exc}"))
        return results


def _fix(request: ModelRequest, answer: dict[str, str]) -> str:
    """The re-ask of an embedded writer: what was wrong with its answer, in short lines."""
    try:
        validate_answer(request.response_model, answer["content"], request.validation_context())
    except ValueError as exc:
        problem = "; ".join(_error_lines(exc))[:300]
    else:  # instructor re-asks only after a failed validation; be safe all the same
        problem = "the answer did not validate"
    return f"Fix this problem and answer again: {problem}"


def _completion(text: str) -> Any:
    """The answer as the chat completion instructor reads: choices[0].message.content."""
    from types import SimpleNamespace

    message = SimpleNamespace(role="assistant", content=text, tool_calls=None)
    choice = SimpleNamespace(index=0, message=message, finish_reason="stop")
    return SimpleNamespace(choices=[choice], usage=None)


def _error_lines(exc: ValueError) -> list[str]:
    """A validation error as short lines ('text: mentions X ...'), for a re-ask."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return [
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()
        ]
    return [str(exc)]
