"""`tagger run --batch`: the run loop's model stage through a provider batch API, resumable."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from tagger.config.schema import validate_answer
from tagger.errors import ConfigError, first_problem
from tagger.models.base import BatchTarget
from tagger.records import Usage
from tagger.run.batch.client import (
    BatchClient,
    BatchPart,
    BatchState,
    batch_failed,
    json_mode_messages,
    load_state,
    now,
    request_line,
    save_state,
    split_requests,
    state_path,
)

if TYPE_CHECKING:
    from tagger.config.schema import TagSummary
    from tagger.dedup.report import UniquePaper
    from tagger.models.base import Gateway, ModelRequest
    from tagger.records import Paper
    from tagger.run.settings import BatchSettings, RunSettings
    from tagger.run.sink import ResultSink


class Job(Protocol):
    """What the batch path needs of the run (tagger.run.job.Job has it)."""

    @property
    def gateway(self) -> Gateway: ...
    @property
    def s(self) -> RunSettings: ...
    @property
    def model(self) -> type[TagSummary]: ...  # the run's response model
    def request_for(self, paper: Paper) -> ModelRequest: ...


def _client(job: Job) -> BatchClient:
    """The batch API at the gateway's endpoint (remote gateways name theirs: `batch_target`)."""
    target = getattr(job.gateway, "batch_target", None)
    if target is None:
        raise ConfigError(
            f"--batch needs a remote OpenAI-compatible model, not '{job.gateway.model}'."
        )
    where: BatchTarget = target()
    return BatchClient(where.api_base, where.api_key)


async def run_batch(
    job: Job, misses: list[UniquePaper], sink: ResultSink, settings: BatchSettings
) -> None:
    """Submit `misses` as one or more batches (or, after an interruption, find them again by
    id), then collect each as it completes. The state file is saved after every submission and
    every collection, so an interruption at any point neither pays twice nor loses a batch."""
    if not misses:
        return
    client = _client(job)
    by_id = {item.paper.id: item for item in misses}
    state = load_state(job.s.output)
    if state is not None and set(state.paper_ids) & set(by_id):
        _check_same_run(job, state)
    else:
        state = BatchState(
            model=job.gateway.model, api_base=job.gateway.api_base, prompt=_prompt_id(job)
        )
    submitted = set(state.paper_ids)
    unsent = [item for item in misses if item.paper.id not in submitted]
    if unsent:
        await _submit(job, client, unsent, state, settings.max_requests)
    waiting = [part for part in state.parts if not part.collected]
    ids = ", ".join(part.batch_id for part in waiting)
    _say(
        f"{len(waiting)} batch{'' if len(waiting) == 1 else 'es'} ({ids}): "
        f"{len(state.paper_ids)} requests "
        f"(state in {state_path(job.s.output)})"
    )
    if not settings.wait:
        _say("not waiting (--no-wait): rerun with --batch --resume to collect the results")
        return
    for part in waiting:
        batch = await client.wait(part.batch_id, settings.poll_s, _status_line)
        if batch.status != "completed":
            raise batch_failed(batch)
        results, unreadable = await client.results(batch)
        if unreadable:
            sink.warning(
                f"{unreadable} line(s) of batch {part.batch_id}'s results could not be read; "
                "papers left without a result are failed (rerun with --retry-failed)."
            )
        for paper_id in part.paper_ids:
            if paper_id in by_id:
                _collect(job, sink, by_id[paper_id], results.get(paper_id))
        part.collected = True
        save_state(job.s.output, state)
    state_path(job.s.output).unlink(missing_ok=True)


def _prompt_id(job: Job) -> str:
    return f"{job.s.prompt.ref}#{job.s.prompt.content_hash}"


def _check_same_run(job: Job, state: BatchState) -> None:
    """Answers submitted for one model and prompt are never written or cached as another's."""
    now = {"model": job.gateway.model, "api base": job.gateway.api_base, "prompt": _prompt_id(job)}
    was = {"model": state.model, "api base": state.api_base, "prompt": state.prompt}
    if state.prompt is None:  # a state file from before prompts were recorded
        del was["prompt"]
    for name, value in was.items():
        if value != now[name]:
            raise ConfigError(
                f"its batches were submitted with another {name} ({value!r}, "
                f"this run {now[name]!r}).",
                path=str(state_path(job.s.output)),
                hint="Rerun with the settings that submitted them to collect them, "
                "or delete that file to submit anew.",
            )


async def _submit(
    job: Job, client: BatchClient, items: list[UniquePaper], state: BatchState, max_requests: int
) -> None:
    schema = job.model.model_json_schema()
    sampling = job.s.prompt.sampling.model_dump()
    lines = [
        request_line(
            item.paper.id,
            job.gateway.model,
            json_mode_messages(job.request_for(item.paper).messages, schema),
            sampling,
        )
        for item in items
    ]
    for chunk in split_requests(lines, max_requests):
        batch_id, file_id = await client.submit([lines[i] for i in chunk])
        paper_ids = [items[i].paper.id for i in chunk]
        state.parts.append(BatchPart(batch_id=batch_id, input_file_id=file_id,
                                     paper_ids=paper_ids, submitted_at=now()))  # fmt: skip
        save_state(job.s.output, state)


def _collect(job: Job, sink: ResultSink, item: UniquePaper, result: dict[str, Any] | None) -> None:
    if result is None or "error" in result:
        reason = result["error"] if result else "no result for this paper in the batch"
        sink.failed(item, reason)
        return
    try:
        output = validate_answer(job.model, result["content"], {"title": item.paper.title})
    except ValidationError as exc:
        _, first = first_problem(exc, "answer")
        reason = f"invalid output in batch ({first['msg']}); rerun with --retry-failed to re-ask"
        sink.failed(item, reason, raw=result["content"])
        return
    raw_usage = result.get("usage") or {}
    usage = Usage(
        prompt_tokens=_tokens(raw_usage.get("prompt_tokens")),
        completion_tokens=_tokens(raw_usage.get("completion_tokens")),
        calls=1,
    )
    sink.spend(usage)
    sink.answered(item, output.tags, output.summary, usage, raw=result["content"])


def _tokens(value: Any) -> int:
    """A token count as the provider wrote it; 0 for anything that is not one."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if ok else 0


def _status_line(status: str, counts: Any) -> None:
    done = getattr(counts, "completed", "?")
    total = getattr(counts, "total", "?")
    _say(f"batch status: {status} ({done}/{total} done)")


def _say(message: str) -> None:
    print(f"tagger: {message}", file=sys.stderr, flush=True)
