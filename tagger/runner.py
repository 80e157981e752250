"""The run loop: ingest -> dedup -> cache lookup -> gateway -> validate -> write; resumable."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from tagger import __version__
from tagger.cache import CachedAnswer, KeyMaker, KeyParts, ResultCache
from tagger.errors import CacheError, ConfigError, ModelError, OutputError
from tagger.gateway import Gateway, ModelCallError, ModelRequest
from tagger.normalize import normalize_text
from tagger.output import JsonlWriter, read_done, rewrite_without, truncate_to, write_manifest
from tagger.prompts import PromptSpec, render, render_pack
from tagger.records import Paper, RunManifest, TaggedPaper, Usage
from tagger.schema import TagSummary, packed_model, response_model, schema_hash
from tagger.taxonomy import Taxonomy


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, *, cached: bool = False, failed: bool = False) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, *, cached: bool = False, failed: bool = False) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class UniquePaper:
    paper: Paper
    duplicates: list[str] = field(default_factory=list)


@dataclass
class RunSettings:
    output: Path
    prompt: PromptSpec
    taxonomy: Taxonomy
    max_tags: int = 3
    concurrency: int = 8
    limit: int | None = None
    use_cache: bool = True
    resume: bool = False
    retry_failed: bool = False
    overwrite: bool = False
    namespace: str = ""
    inputs: Sequence[str] = ()
    batch: BatchSettings | None = None
    pack: int = 1  # abstracts per request (--pack K)


@dataclass
class BatchSettings:
    """`--batch`: submit misses to the provider's batch API instead of live calls."""

    poll_s: float = 30.0
    wait: bool = True
    max_requests: int = 50_000  # per batch input file (OpenAI's limit); larger runs are split


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
    ) -> None:
        self.s = settings
        self.gateway = gateway
        self.cache = cache if settings.use_cache else None
        self.progress = progress or NoProgress()
        self.warn = warn
        self.model = response_model(settings.taxonomy, settings.max_tags)
        self.schema_hash = schema_hash(self.model)
        self.usage = Usage()
        self.manifest = self._new_manifest()

    def _new_manifest(self) -> RunManifest:
        return RunManifest(
            tagger_version=__version__,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            inputs=list(self.s.inputs),
            output=str(self.s.output),
            model=self.gateway.model,
            api_base=self.gateway.api_base,
            prompt=self.s.prompt.ref,
            taxonomy=self.s.taxonomy.path or self.s.taxonomy.name,
            taxonomy_hash=self.s.taxonomy.content_hash,
            max_tags=self.s.max_tags,
        )

    def cache_key(self, paper: Paper) -> str:
        return self._keys.key(normalize_text(paper.title), normalize_text(paper.abstract))

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
        self, papers: Sequence[UniquePaper], input_count: int, unique_count: int | None = None
    ) -> RunManifest:
        """Tag `papers` (already deduplicated; `unique_count` is before any --limit)."""
        started = time.perf_counter()
        counts = self.manifest.counts
        counts.input, counts.unique = input_count, unique_count or len(papers)
        todo = self._prepare_output(papers)
        writer = JsonlWriter(self.s.output, append=self.s.resume)
        self.progress.start(len(todo))
        try:
            misses = self._serve_from_cache(todo, writer)
            if self.s.batch is not None:
                from tagger.batch_run import run_batch

                await run_batch(self, misses, writer, self.s.batch)
            else:
                await self._call_model(misses, writer)
        except BaseException:
            self.manifest.interrupted = True
            raise
        finally:
            writer.close()
            self.progress.close()
            self.manifest.usage = self.usage
            self.manifest.wall_time_s = round(time.perf_counter() - started, 3)
            self.manifest.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
            write_manifest(self.manifest, self.s.output)
        return self.manifest

    def _prepare_output(self, papers: Sequence[UniquePaper]) -> list[UniquePaper]:
        out = self.s.output
        if out.is_dir():
            raise OutputError("is a directory.", path=str(out), hint="Pass a file, e.g. out.jsonl.")
        if not self.s.resume:
            if out.exists() and out.stat().st_size > 0 and not self.s.overwrite:
                raise ConfigError(
                    "output file already exists.",
                    path=str(out),
                    hint="Use --resume to continue it, or --overwrite to start over.",
                )
            return list(papers)
        done, good_bytes = read_done(out)
        truncate_to(out, good_bytes)
        if self.s.retry_failed:
            failed = {pid for pid, rec in done.items() if rec.status == "failed"}
            if failed:
                rewrite_without(out, failed, good_bytes)
                done = {pid: rec for pid, rec in done.items() if pid not in failed}
        self.manifest.counts.skipped_resume = sum(1 for u in papers if u.paper.id in done)
        return [u for u in papers if u.paper.id not in done]

    def _serve_from_cache(self, todo: list[UniquePaper], writer: JsonlWriter) -> list[UniquePaper]:
        misses: list[UniquePaper] = []
        for item in todo:
            answer = self.cache.get(self.cache_key(item.paper)) if self.cache else None
            if answer is None:
                misses.append(item)
                continue
            original = Usage(
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
                cost_usd=answer.cost_usd,
                latency_s=answer.latency_s,
            )  # what the answer cost when it was made; calls=0 marks it as not spent now
            self._write_ok(writer, item, answer.tags, answer.summary, cached=True, usage=original)
            self.manifest.counts.cached += 1
            self.progress.advance(cached=True)
        return misses

    async def _call_model(self, misses: list[UniquePaper], writer: JsonlWriter) -> None:
        queue: asyncio.Queue[UniquePaper] = asyncio.Queue()
        for item in misses:
            queue.put_nowait(item)
        workers = [
            asyncio.create_task(self._worker(queue, writer))
            for _ in range(max(1, min(self.s.concurrency, len(misses))))
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            close = getattr(self.gateway, "aclose", None)
            if close is not None:  # worker processes (tagger.workers) end with the loop
                await close()

    async def _worker(self, queue: asyncio.Queue[UniquePaper], writer: JsonlWriter) -> None:
        while not queue.empty():
            items = [queue.get_nowait() for _ in range(min(self.s.pack, queue.qsize()))]
            if len(items) > 1 and await self._packed(items, writer):
                continue
            for item in items:
                await self._single(item, writer)

    async def _packed(self, items: list[UniquePaper], writer: JsonlWriter) -> bool:
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
        )
        try:
            result = await self.gateway.complete(request)
        except ModelError as exc:
            self._count_spent(exc)
            self.warn(
                f"tagger: warning: a pack of {len(items)} failed ({exc.message}); "
                "retrying one by one"
            )
            return False
        self.usage.add(result.usage)
        share = Usage(
            prompt_tokens=result.usage.prompt_tokens // len(items),
            completion_tokens=result.usage.completion_tokens // len(items),
            cost_usd=result.usage.cost_usd / len(items),
            latency_s=result.usage.latency_s,
            calls=1,
        )
        answers = {answer.id: answer for answer in result.output.items}
        for key, item in zip(titles, items, strict=True):
            answer = answers[key]
            self._remember(item.paper, answer, share)
            self._write_ok(writer, item, answer.tags, answer.summary, cached=False, usage=share)
            self.progress.advance()
        return True

    async def _single(self, item: UniquePaper, writer: JsonlWriter) -> None:
        request = self.request_for(item.paper)
        try:
            result = await self.gateway.complete(request)
        except ModelError as exc:
            self._count_spent(exc)
            self._write_failed(writer, item, exc.message)
            return
        self.usage.add(result.usage)
        self._remember(item.paper, result.output, result.usage)
        self._write_ok(
            writer,
            item,
            result.output.tags,
            result.output.summary,
            cached=False,
            usage=result.usage,
        )
        self.progress.advance()

    def request_for(self, paper: Paper) -> ModelRequest:
        return ModelRequest(
            paper=paper,
            messages=render(self.s.prompt, paper, self.s.taxonomy, self.s.max_tags),
            response_model=self.model,
            taxonomy=self.s.taxonomy,
            max_tags=self.s.max_tags,
        )

    def _count_spent(self, exc: ModelError) -> None:
        """A failed call's retries still count in the run's usage."""
        if isinstance(exc, ModelCallError):
            self.usage.add(exc.usage)

    def _remember(self, paper: Paper, output: TagSummary, usage: Usage) -> None:
        if self.cache is None:
            return
        answer = CachedAnswer(
            tags=output.tags,
            summary=output.summary,
            model=self.gateway.model,
            prompt=self.s.prompt.ref,
            created=time.time(),
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            latency_s=usage.latency_s,
        )
        try:
            self.cache.put(self.cache_key(paper), answer)
        except CacheError as exc:  # the answer is paid for: still write it, just stop caching
            message = f"{exc} Answers from here on are not cached."
            self.warn(f"tagger: warning: {message}")
            self.manifest.warnings.append(message)
            self.cache = None

    def _record(self, item: UniquePaper, **fields: object) -> TaggedPaper:
        p = item.paper
        return TaggedPaper.model_validate(
            {
                "id": p.id,
                "title": p.title,
                "model": self.gateway.model,
                "prompt": self.s.prompt.ref,
                "duplicates": item.duplicates,
                "source": p.source,
                "url": p.url,
                "date": p.date,
                "authors": list(p.authors),
                "truncated": p.truncated,
                **fields,
            }
        )

    def _write_ok(
        self,
        writer: JsonlWriter,
        item: UniquePaper,
        tags: list[str],
        summary: str,
        *,
        cached: bool,
        usage: Usage | None,
    ) -> None:
        writer.write(self._record(item, tags=tags, summary=summary, cached=cached, usage=usage))
        self.manifest.counts.tagged += 1
        self.manifest.counts.truncated += int(item.paper.truncated)

    def _write_failed(self, writer: JsonlWriter, item: UniquePaper, reason: str) -> None:
        writer.write(self._record(item, tags=[], summary=None, status="failed", error=reason))
        self.manifest.counts.failed += 1
        self.progress.advance(failed=True)


def limit_papers(papers: Iterable[UniquePaper], limit: int | None) -> list[UniquePaper]:
    items = list(papers)
    return items if limit is None else items[:limit]
