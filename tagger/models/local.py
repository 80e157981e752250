"""The gateway to embedded backends (tagger.embedded): requests arriving together are
micro-batched into one predict; answers are validated like a remote model's."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tagger.config.schema import validate_answer
from tagger.errors import ModelError
from tagger.models.base import ModelRequest, ModelResult
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
            raise ModelError(
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
                output = validate_answer(request.response_model, text, request.validation_context())
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
        raise ModelError(f"invalid output after {LOCAL_WRITE_ATTEMPTS} attempts: {problem}", usage)

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


def _error_lines(exc: ValueError) -> list[str]:
    """A validation error as short lines ('text: mentions X ...'), for a re-ask."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return [
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()
        ]
    return [str(exc)]
