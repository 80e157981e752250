"""Client processes for remote models (`tagger run --workers N`).

One Python process spends ~11 ms of CPU on each model call (litellm and instructor build,
send, parse and price it), so it cannot keep more than ~90 calls a second in flight on this
kind of machine, however fast the server is. `WorkerGateway` runs the calls in N child
processes instead, each with its own copy of the gateway: the parent keeps ingest, dedup, the
cache and the output, and sends each request (messages, response model, validation context) to
the least-busy worker over the child's stdin; answers come back on its stdout, and the parent
checks each against the same response model once more when it rebuilds it.

Workers start as one plain `python -c` process (no multiprocessing, so nothing of the caller's
`__main__` is re-imported) that imports litellm and instructor once (~3 s of CPU) and then
forks the others, each with its own socket to the parent (POSIX only).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import pickle
import socket
import struct
import sys
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from tagger.config.schema import recipe, validate_answer
from tagger.errors import ConfigError, ModelError, model_error_class
from tagger.models.base import BatchTarget, ModelRequest, ModelResult
from tagger.models.remote import LiteLLMGateway
from tagger.models.router import RouterGateway
from tagger.records import Usage

_HEADER = struct.Struct("!I")
_CHILD = "import sys; from tagger.models.workers import serve_fds; serve_fds(sys.argv[1:])"


class _Pickler(pickle.Pickler):
    """Pickles response models built at run time as the factory call that built them."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            made = recipe(obj)
            if made is not None:
                return _rebuild, made
        return NotImplemented


def _rebuild(factory: Any, args: tuple[Any, ...]) -> Any:
    return factory(*args)


def _frame(obj: Any) -> bytes:
    buffer = io.BytesIO()
    buffer.write(b"\0\0\0\0")
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    data = buffer.getbuffer()
    _HEADER.pack_into(data, 0, len(data) - _HEADER.size)
    return bytes(data)


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    return pickle.loads(await reader.readexactly(size))


@dataclass
class _Worker:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    pending: dict[int, tuple[asyncio.Future[ModelResult], ModelRequest]] = field(
        default_factory=dict
    )
    models: dict[type[BaseModel], int] = field(default_factory=dict)
    listener: asyncio.Task[None] | None = None
    alive: bool = True


class WorkerGateway:
    """`inner`'s calls, made in `workers` child processes. Same identity (so the same cache
    keys and answers) as `inner` itself."""

    def __init__(self, inner: LiteLLMGateway, workers: int) -> None:
        if isinstance(inner, RouterGateway):
            raise ConfigError("--workers cannot be combined with --endpoints yet; use one of them.")
        if workers < 2:
            raise ConfigError("--workers needs 2 or more processes (1 runs the calls in-process).")
        if not hasattr(os, "fork"):
            raise ConfigError("--workers needs a POSIX system (it forks); use --concurrency.")
        self.inner = inner
        self.model = inner.model
        self.api_base = inner.api_base
        self.workers = workers
        self._pool: list[_Worker] = []
        self._processes: list[asyncio.subprocess.Process] = []
        self._starting: asyncio.Lock | None = None
        self._next_id = 0

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    def batch_target(self) -> BatchTarget:
        return self.inner.batch_target()

    async def complete(self, request: ModelRequest) -> ModelResult:
        self.inner.preflight()  # a missing key stops here, before any worker starts
        await self._start()
        alive = [w for w in self._pool if w.alive]
        if not alive:
            raise ModelError("every worker process has exited", Usage())
        worker = min(alive, key=lambda w: len(w.pending))
        self._next_id += 1
        call_id = self._next_id
        frames = []
        model_id = worker.models.get(request.response_model)
        if model_id is None:
            model_id = worker.models[request.response_model] = len(worker.models)
            frames.append(_frame(("model", model_id, request.response_model)))
        context = request.validation_context()
        call = ("call", call_id, model_id, request.messages, context, request.sampling)
        frames.append(_frame(call))
        future: asyncio.Future[ModelResult] = asyncio.get_running_loop().create_future()
        worker.pending[call_id] = (future, request)
        try:
            worker.writer.write(b"".join(frames))
            await worker.writer.drain()
        except (ConnectionError, OSError):
            worker.pending.pop(call_id, None)
            worker.alive = False
            raise ModelError("the worker process exited", Usage()) from None
        return await future

    async def _start(self) -> None:
        if self._pool:
            return
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._pool:
                return
            blob = _frame(pickle.dumps(self.inner))
            pairs = [socket.socketpair() for _ in range(self.workers)]
            ends = [str(child.fileno()) for _, child in pairs]
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", _CHILD, *ends, pass_fds=[c.fileno() for _, c in pairs]
            )
            self._processes.append(process)
            for parent, child in pairs:
                child.close()
                reader, writer = await asyncio.open_connection(sock=parent)
                writer.write(blob)
                worker = _Worker(reader, writer)
                worker.listener = asyncio.create_task(self._listen(worker))
                self._pool.append(worker)

    async def _listen(self, worker: _Worker) -> None:
        try:
            while True:
                call_id, ok, payload, usage, raw = await _read_frame(worker.reader)
                future, request = worker.pending.pop(call_id)
                if future.done():
                    continue
                if not ok:  # the error's class crosses as its name: the cause stays typed
                    kind, message = payload
                    error = model_error_class(kind)(message, usage)
                    error.raw_text = raw
                    future.set_exception(error)
                    continue
                try:
                    output = validate_answer(
                        request.response_model, payload, request.validation_context()
                    )
                except ValueError as exc:
                    invalid = ModelError(f"answer failed validation: {exc}", usage)
                    invalid.raw_text = raw
                    future.set_exception(invalid)
                else:
                    future.set_result(ModelResult(output=output, usage=usage, raw_text=raw))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        worker.alive = False
        reason = "the worker process exited"
        for future, _ in worker.pending.values():
            if not future.done():
                future.set_exception(ModelError(reason, Usage()))
        worker.pending.clear()

    async def aclose(self) -> None:
        """Stop the workers: a closed socket ends each once its calls are answered."""
        pool, self._pool = self._pool, []
        processes, self._processes = self._processes, []
        for worker in pool:
            worker.writer.close()
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
        for worker in pool:
            if worker.listener is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker.listener


def serve_fds(fds: list[str]) -> None:
    """The worker process: import the heavy libraries once, fork one worker per further socket
    (they share the imported modules), serve the first socket itself, then reap the forks."""
    from tagger.models import _litellm

    _litellm.configure()
    import instructor  # noqa: F401

    ends = [int(fd) for fd in fds]
    forks = []
    for fd in ends[1:]:
        pid = os.fork()
        if pid == 0:
            for other in ends:
                if other != fd:
                    os.close(other)
            _serve_socket(fd)
            sys.stderr.flush()
            os._exit(0)
        forks.append(pid)
    for fd in ends[1:]:
        os.close(fd)
    _serve_socket(ends[0])
    for pid in forks:
        os.waitpid(pid, 0)


def _serve_socket(fd: int) -> None:
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the parent; it reports
        asyncio.run(_serve(socket.socket(fileno=fd)))


async def _serve(sock: socket.socket) -> None:
    reader, writer = await asyncio.open_connection(sock=sock)
    gateway: LiteLLMGateway = pickle.loads(await _read_frame(reader))
    models: dict[int, type[BaseModel]] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def answer(
        call_id: int, model: type[BaseModel], messages: Any, context: Any, sampling: Any
    ) -> None:
        try:
            result = await gateway.complete_messages(messages, model, context, sampling)
        except ModelError as exc:
            failed = (type(exc).__name__, str(exc))
            reply: tuple[Any, ...] = (call_id, False, failed, exc.usage, exc.raw_text)
        except Exception as exc:  # a bug here must not hang the parent's request
            bug = ("ModelError", f"{type(exc).__name__}: {exc}")
            reply = (call_id, False, bug, Usage(), None)
        else:  # the raw text too: the run history keeps what the model said
            reply = (call_id, True, result.output.model_dump(), result.usage, result.raw_text)
        writer.write(_frame(reply))
        await writer.drain()

    try:
        while True:
            message = await _read_frame(reader)
            if message[0] == "model":
                models[message[1]] = message[2]
                continue
            _, call_id, model_id, messages, context, sampling = message
            task = asyncio.create_task(
                answer(call_id, models[model_id], messages, context, sampling)
            )
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    writer.close()
