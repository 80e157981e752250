"""Where each paper's outcome goes: one OUT line, the run history, the result cache, the run's
counts and the progress display. The live run loop and the batch collector both write through a
`ResultSink`, so a paper is recorded the same way whichever path answered it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from tagger.dedup.report import UniquePaper
from tagger.errors import CacheError
from tagger.records import Paper, RunManifest, TaggedPaper, Usage
from tagger.run.cache import CachedAnswer, ResultCache, valid_hit
from tagger.run.output import JsonlWriter
from tagger.run.settings import Progress

if TYPE_CHECKING:
    from tagger.store.writer import RunRecorder


class ResultSink:
    def __init__(
        self,
        writer: JsonlWriter,
        manifest: RunManifest,
        *,
        model: str,
        prompt: str,
        response_model: type[BaseModel],
        cache_key: Callable[[Paper], str],
        cache: ResultCache | None,
        usage: Usage,
        progress: Progress,
        recorder: RunRecorder | None = None,
        warn: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.writer = writer
        self.manifest = manifest
        self.model = model  # the gateway's model, as every record names it
        self.prompt = prompt  # the prompt's ref
        self.response_model = response_model
        self.cache_key = cache_key
        self.cache = cache  # None: --no-cache, or caching stopped after a write failed
        self.usage = usage  # the run's usage: what was spent now, failed calls included
        self.progress = progress
        self.recorder = recorder
        self.warn = warn
        self._warned_invalid_hit = False

    def spend(self, usage: Usage) -> None:
        """Count what a call cost (answered or not) in the run's usage."""
        self.usage.add(usage)

    def from_cache(self, item: UniquePaper) -> bool:
        """Write `item` from the cache if a valid answer is there."""
        answer = self.cache.get(self.cache_key(item.paper)) if self.cache else None
        if answer is None:
            return False
        if not valid_hit(answer, self.response_model, item.paper.title):
            self._invalid_hit()
            return False
        original = Usage(
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost_usd=answer.cost_usd,
            latency_s=answer.latency_s,
        )  # what the answer cost when it was made; calls=0 marks it as not spent now
        self._write_ok(item, answer.tags, answer.summary, cached=True, usage=original)
        self.manifest.counts.cached += 1
        self.progress.advance(cached=True)
        return True

    def answered(
        self,
        item: UniquePaper,
        tags: list[str],
        summary: str,
        usage: Usage,
        raw: str | None = None,
    ) -> None:
        """A validated answer from the model: cached, written, counted."""
        self._remember(item.paper, tags, summary, usage)
        self._write_ok(item, tags, summary, cached=False, usage=usage, raw=raw)
        self.progress.advance()

    def failed(
        self,
        item: UniquePaper,
        reason: str,
        raw: str | None = None,
        usage: Usage | None = None,
    ) -> None:
        """A paper the model did not answer: a failed record (rerun with --retry-failed);
        `usage` is what its failed attempts spent (None: not known, e.g. a batch result)."""
        spent = usage if usage is not None and usage.calls else None
        record = self._record(
            item, tags=[], summary=None, status="failed", error=reason, usage=spent
        )
        line = self.writer.write(record)
        if self.recorder is not None:
            self.recorder.add(item.paper, record, raw, line)
        self.manifest.counts.failed += 1
        self.progress.advance(failed=True)

    def warning(self, message: str) -> None:
        """Say `message` on stderr now and keep it in the run's manifest."""
        self.warn(f"tagger: warning: {message}")
        self.manifest.warnings.append(message)

    def _invalid_hit(self) -> None:
        """A damaged or stale cache entry is a miss, counted and warned about once."""
        self.manifest.counts.cache_invalid += 1
        if not self._warned_invalid_hit:
            self._warned_invalid_hit = True
            self.warning(
                "a cached answer failed validation (damaged cache?); asking the model again."
            )

    def _remember(self, paper: Paper, tags: list[str], summary: str, usage: Usage) -> None:
        if self.cache is None:
            return
        answer = CachedAnswer(
            tags=tags,
            summary=summary,
            model=self.model,
            prompt=self.prompt,
            created=time.time(),
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            latency_s=usage.latency_s,
        )
        try:
            self.cache.put(self.cache_key(paper), answer)
        except CacheError as exc:  # the answer is paid for: still write it, just stop caching
            self.warning(f"{exc} Answers from here on are not cached.")
            self.cache = None

    def _record(self, item: UniquePaper, **fields: object) -> TaggedPaper:
        p = item.paper
        return TaggedPaper.model_validate(
            {
                "id": p.id,
                "title": p.title,
                "model": self.model,
                "prompt": self.prompt,
                "duplicates": item.duplicates,
                "source": p.source,
                "url": p.url,
                "date": p.date,
                "date_text": p.date_text,
                "authors": list(p.authors),
                "truncated": p.truncated,
                "upvotes": p.upvotes,
                **fields,
            }
        )

    def _write_ok(
        self,
        item: UniquePaper,
        tags: list[str],
        summary: str,
        *,
        cached: bool,
        usage: Usage | None,
        raw: str | None = None,
    ) -> None:
        record = self._record(item, tags=tags, summary=summary, cached=cached, usage=usage)
        line = self.writer.write(record)
        if self.recorder is not None:
            self.recorder.add(item.paper, record, raw, line)
        self.manifest.counts.tagged += 1
        self.manifest.counts.truncated += int(item.paper.truncated)
