"""The run loop: unique papers -> cache lookup -> gateway -> validate -> write; resumable.

Settings are in tagger.run.settings, where each outcome is written in tagger.run.sink, the
`--batch` path in tagger.run.batch.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tagger import __version__
from tagger.atomic import check_output_path, is_stdout
from tagger.config.prompts import render, render_pack
from tagger.config.schema import packed_model, response_model, schema_hash
from tagger.dedup.report import UniquePaper
from tagger.errors import ConfigError, ModelError, TaggerError
from tagger.models.base import Gateway, ModelRequest
from tagger.models.retry import redact_url
from tagger.records import Paper, RunManifest, TaggedPaper, Usage
from tagger.run.cache import KeyMaker, KeyParts, ResultCache
from tagger.run.failures import FailureBudget
from tagger.run.manifest import check_identity, exit_code, load_previous, record_invocation
from tagger.run.output import (
    JsonlWriter,
    OutputLock,
    read_done,
    rewrite_without,
    truncate_to,
    write_manifest,
)
from tagger.run.settings import NoProgress, Progress, RunSettings
from tagger.run.sink import ResultSink

if TYPE_CHECKING:
    from tagger.store.writer import RunRecorder


class Job:
    """One run over a list of unique papers, writing OUT and OUT.run.json."""

    def __init__(
        self,
        settings: RunSettings,
        gateway: Gateway,
        cache: ResultCache | None,
        *,
        progress: Progress | None = None,
        warn: Callable[[str], None] = lambda _: None,
        recorder: RunRecorder | None = None,
    ) -> None:
        self.s = settings
        self.recorder = recorder  # the run history (tagger.store); None: --no-store
        self.gateway = gateway
        self.cache = cache if settings.use_cache else None
        self.progress = progress or NoProgress()
        self.warn = warn
        self.model = response_model(settings.taxonomy, settings.max_tags)
        self.schema_hash = schema_hash(self.model)
        self.usage = Usage()
        self.manifest = self._new_manifest()
        self.budget = FailureBudget(settings.max_failures)
        self.previous: RunManifest | None = None  # what OUT.run.json said before (--resume)

    def _new_manifest(self) -> RunManifest:
        return RunManifest(
            tagger_version=__version__,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            inputs=list(self.s.inputs),
            output=str(self.s.output),
            model=self.gateway.model,
            api_base=redact_url(self.gateway.api_base),
            prompt=self.s.prompt.ref,
            taxonomy=self.s.taxonomy.path or self.s.taxonomy.name,
            taxonomy_hash=self.s.taxonomy.content_hash,
            max_tags=self.s.max_tags,
        )

    def cache_key(self, paper: Paper) -> str:
        return self._keys.key(*paper.matching)

    @functools.cached_property
    def _keys(self) -> KeyMaker:
        """Everything in the key but the paper, serialized once per run."""
        identity = self.gateway.identity()
        sampling = {k: v for k, v in identity.items() if k not in ("model", "api_base")}
        sampling.update(self.s.prompt.sampling.model_dump())
        if self.s.pack > 1:  # a packed answer may differ from a single one
            sampling["pack"] = self.s.pack
        return KeyMaker(
            KeyParts(
                title="",
                abstract="",
                prompt=self.s.prompt.ref,
                prompt_hash=self.s.prompt.content_hash,
                schema_hash=self.schema_hash,
                taxonomy_hash=self.s.taxonomy.content_hash,
                model=self.gateway.model,
                api_base=self.gateway.api_base,
                sampling=sampling,
                namespace=self.s.namespace,
            )
        )

    async def run(
        self,
        papers: Iterable[UniquePaper],
        input_count: int,
        unique_count: int | None = None,
        *,
        total: int | None = None,
    ) -> RunManifest:
        """`_run` holding OUT's lock: a second run on the same OUT is refused at once."""
        if is_stdout(self.s.output):
            return await self._run(papers, input_count, unique_count, total=total)
        with OutputLock(self.s.output):
            return await self._run(papers, input_count, unique_count, total=total)

    async def _run(
        self,
        papers: Iterable[UniquePaper],
        input_count: int,
        unique_count: int | None = None,
        *,
        total: int | None = None,
    ) -> RunManifest:
        """Tag `papers` (already deduplicated; `unique_count` is before any --limit, `total`
        how many `papers` yields when it is an iterator). Papers stream through: cache hits are
        written as they are read, misses wait in a short queue for the model, so memory does not
        grow with the input."""
        started = time.perf_counter()
        if total is None:
            papers = list(papers)
            total = len(papers)
        counts = self.manifest.counts
        counts.input, counts.unique = input_count, unique_count or total
        todo, done = self._prepare_output(papers)
        writer = JsonlWriter(self.s.output, append=self.s.resume)
        sink = self._sink(writer)
        if self.recorder is not None:
            self.recorder.start(self.manifest, self.s.prompt.content_hash)
        self.progress.start(max(total - done, 0))
        try:
            if self.s.batch is not None:
                from tagger.run.batch.collect import run_batch

                misses = [item for item in todo if not sink.from_cache(item)]
                await run_batch(self, misses, sink, self.s.batch)
            else:
                await self._call_model(todo, sink)
        except (KeyboardInterrupt, asyncio.CancelledError):
            self.manifest.interrupted = True
            raise
        except BaseException as exc:  # a setup error found on the way (or a bug): not Ctrl-C
            self.manifest.stopped = str(exc) or type(exc).__name__
            self.manifest.stopped_by_cause = isinstance(exc, TaggerError)
            raise
        finally:
            writer.close()
            self.progress.close()
            self.manifest.usage = self.usage
            self._note_unattempted(total)
            self.manifest.wall_time_s = round(time.perf_counter() - started, 3)
            self.manifest.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
            self.manifest.exit_code = exit_code(self.manifest)
            record_invocation(self.manifest, self.previous)
            if not is_stdout(self.s.output):  # `-o -`: the closing line is the summary
                write_manifest(self.manifest, self.s.output)
            if self.recorder is not None:
                self.recorder.finish(self.manifest)
        return self.manifest

    def _prepare_output(self, papers: Iterable[UniquePaper]) -> tuple[Iterator[UniquePaper], int]:
        """The papers still to do, and how many OUT already has (--resume)."""
        out = self.s.output
        if is_stdout(out):
            if self.s.resume:
                raise ConfigError("--resume needs an OUT file to continue; -o - is stdout.")
            return iter(papers), 0
        check_output_path(out)  # a directory, device or FIFO: one line, before reading it
        if not self.s.resume:
            if out.exists() and out.stat().st_size > 0 and not self.s.overwrite:
                raise ConfigError(
                    "output file already exists.",
                    path=str(out),
                    hint="Use --resume to continue it, or --overwrite to start over.",
                )
            return iter(papers), 0
        done, good_bytes = read_done(out)
        self.previous = load_previous(out)
        check_identity(self.manifest, self.previous, done)
        truncate_to(out, good_bytes)
        if self.s.retry_failed:
            failed = {pid for pid, rec in done.items() if rec.status == "failed"}
            if failed:
                rewrite_without(out, failed, good_bytes)
                done = {pid: rec for pid, rec in done.items() if pid not in failed}
        return self._skip_done(papers, done), len(done)

    def _skip_done(
        self, papers: Iterable[UniquePaper], done: dict[str, TaggedPaper]
    ) -> Iterator[UniquePaper]:
        counts = self.manifest.counts
        for item in papers:
            kept = done.get(item.paper.id)
            if kept is None:
                yield item
                continue
            counts.skipped_resume += 1
            counts.failed_earlier += kept.status == "failed"  # still failed: not "every paper ok"

    def _sink(self, writer: JsonlWriter) -> ResultSink:
        return ResultSink(
            writer,
            self.manifest,
            model=self.gateway.model,
            prompt=self.s.prompt.ref,
            response_model=self.model,
            cache_key=self.cache_key,
            cache=self.cache,
            usage=self.usage,
            progress=self.progress,
            recorder=self.recorder,
            warn=self.warn,
        )

    async def _call_model(self, todo: Iterator[UniquePaper], sink: ResultSink) -> None:
        """Read `todo`, answering from the cache; misses go to `concurrency` workers through a
        bounded queue, so at most a few hundred papers are held at once."""
        slots = max(1, self.s.concurrency)
        queue: asyncio.Queue[UniquePaper | None] = asyncio.Queue(maxsize=4 * slots * self.s.pack)
        workers: list[asyncio.Task[None]] = []
        try:
            for count, item in enumerate(todo, start=1):
                if self.manifest.stopped is not None:
                    break  # the rest is left for --resume
                if sink.from_cache(item):
                    if count % 256 == 0:
                        await asyncio.sleep(0)  # long runs of hits: let answers in flight land
                    continue
                if len(workers) < slots:
                    workers.append(asyncio.create_task(self._worker(queue, sink)))
                if not await _feed(queue, item, workers):
                    break  # a worker died (e.g. the disk is full): gather below raises it
            for _ in workers:
                if not await _feed(queue, None, workers):
                    break
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            close = getattr(self.gateway, "aclose", None)
            if close is not None:  # worker processes (tagger.models.workers) end with the loop
                await close()

    async def _worker(self, queue: asyncio.Queue[UniquePaper | None], sink: ResultSink) -> None:
        """Take papers (up to --pack at once) until this worker's end marker (None) comes."""
        while True:
            first = await queue.get()
            if first is None or self.manifest.stopped is not None:
                return
            items, last = [first], False
            while len(items) < self.s.pack and not queue.empty():
                item = queue.get_nowait()
                if item is None:
                    last = True
                    break
                items.append(item)
            if not (len(items) > 1 and await self._packed(items, sink)):
                for item in items:
                    await self._single(item, sink)
            if last:
                return

    async def _packed(self, items: list[UniquePaper], sink: ResultSink) -> bool:
        """One request for several papers; False (nothing written) if it fails, so the caller
        falls back to one request per paper."""
        titles = {f"p{i}": item.paper.title for i, item in enumerate(items, start=1)}
        request = ModelRequest(
            paper=items[0].paper,
            messages=render_pack(
                self.s.prompt, [i.paper for i in items], self.s.taxonomy, self.s.max_tags
            ),
            response_model=packed_model(self.s.taxonomy, self.s.max_tags, tuple(titles)),
            taxonomy=self.s.taxonomy,
            max_tags=self.s.max_tags,
            context={"titles": titles},
            # K answers need K times the room of one
            sampling={"max_tokens": self.s.prompt.sampling.max_tokens * len(items)},
        )
        try:
            result = await self.gateway.complete(request)
        except ModelError as exc:
            sink.spend(exc.usage)  # a failed call's tokens, cost and retries still count
            if exc.stops_run:  # one by one would fail the same way: stop, write nothing
                self._judge(exc)
                return True
            self.warn(
                f"tagger: warning: a pack of {len(items)} failed ({exc.message}); "
                "retrying one by one"
            )
            return False
        sink.spend(result.usage)
        share = Usage(
            prompt_tokens=result.usage.prompt_tokens // len(items),
            completion_tokens=result.usage.completion_tokens // len(items),
            cost_usd=None if result.usage.cost_usd is None else result.usage.cost_usd / len(items),
            latency_s=result.usage.latency_s,
            calls=1,
        )
        answers = {answer.id: answer for answer in result.output.items}
        for key, item in zip(titles, items, strict=True):
            answer = answers[key]
            # raw: the pack's whole answer, the same for each of its papers
            sink.answered(item, answer.tags, answer.summary, share, raw=result.raw_text)
        return True

    async def _single(self, item: UniquePaper, sink: ResultSink) -> None:
        request = self.request_for(item.paper)
        try:
            result = await self.gateway.complete(request)
        except ModelError as exc:
            sink.spend(exc.usage)  # a failed call's tokens, cost and retries still count
            sink.failed(item, exc.message, raw=exc.raw_text, usage=exc.usage)
            self._judge(exc)
            return
        self._judge(None)
        sink.spend(result.usage)
        output = result.output
        sink.answered(item, output.tags, output.summary, result.usage, raw=result.raw_text)

    def request_for(self, paper: Paper) -> ModelRequest:
        return ModelRequest(
            paper=paper,
            messages=render(self.s.prompt, paper, self.s.taxonomy, self.s.max_tags),
            response_model=self.model,
            taxonomy=self.s.taxonomy,
            max_tags=self.s.max_tags,
        )

    def _judge(self, error: ModelError | None) -> None:
        """Stop the run (once) when the failure budget says so; papers in flight still land."""
        reason = self.budget.record(error)
        if reason is not None and self.manifest.stopped is None:
            self.manifest.stopped = reason
            self.manifest.stopped_by_cause = error is not None and error.stops_run

    def _note_unattempted(self, total: int) -> None:
        """How many papers a stopped run left for --resume (not written, so not 'failed')."""
        c = self.manifest.counts
        if self.manifest.stopped is not None:
            c.not_attempted = max(total - c.skipped_resume - c.tagged - c.failed, 0)


async def _feed(
    queue: asyncio.Queue[UniquePaper | None],
    item: UniquePaper | None,
    workers: list[asyncio.Task[None]],
) -> bool:
    """Put `item` in the queue; False if a worker ended first (nobody would take it)."""
    try:
        queue.put_nowait(item)
        return True
    except asyncio.QueueFull:
        pass
    put = asyncio.ensure_future(queue.put(item))
    await asyncio.wait({put, *workers}, return_when=asyncio.FIRST_COMPLETED)
    if put.done():
        return True
    put.cancel()
    return False


def limit_papers(papers: Iterable[UniquePaper], limit: int | None) -> Iterator[UniquePaper]:
    return iter(papers) if limit is None else itertools.islice(papers, limit)
