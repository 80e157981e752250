"""Provider batch APIs (OpenAI format): write the batch JSONL, submit, poll, collect.

Part of the model gateway layer: it speaks the OpenAI files/batches endpoints (the format vLLM,
OpenAI and litellm's proxy share) and hands back raw message contents; validation, cache and output
stay in the runner, exactly as for live calls. The batch id is saved beside OUT (OUT.batch.json) so
an interrupted run resumes by polling the same batch instead of paying twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from tagger.atomic import write_atomic
from tagger.errors import ModelError
from tagger.models.retry import redact  # provider error bodies may echo credentials

TERMINAL = {"completed", "failed", "expired", "cancelled"}


# OpenAI's limits on one batch input file: 50,000 requests and 200 MB (the upload adds a little).
MAX_REQUESTS = 50_000
MAX_BYTES = 190 * 1024**2


class BatchPart(BaseModel):
    """One submitted batch (one input file) and the papers it answers."""

    batch_id: str
    input_file_id: str
    paper_ids: list[str]
    submitted_at: float
    collected: bool = False


class BatchState(BaseModel):
    """Every batch of one run, saved as each is submitted and collected (OUT.batch.json)."""

    model: str
    api_base: str | None
    prompt: str | None = None  # name@version and content hash; None in files from before
    parts: list[BatchPart] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _one_batch_format(cls, data: Any) -> Any:
        """State files written before runs were split held one batch at the top level."""
        if isinstance(data, dict) and "batch_id" in data and "parts" not in data:
            keys = ("batch_id", "input_file_id", "paper_ids", "submitted_at")
            part = {k: data[k] for k in keys if k in data}
            return {"model": data.get("model"), "api_base": data.get("api_base"), "parts": [part]}
        return data

    @property
    def paper_ids(self) -> list[str]:
        return [paper_id for part in self.parts for paper_id in part.paper_ids]


def split_requests(
    lines: list[str], max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES
) -> list[range]:
    """Consecutive index ranges of `lines`, each within the per-file request and size limits."""
    chunks: list[range] = []
    start, size = 0, 0
    for index, line in enumerate(lines):
        length = len(line.encode("utf-8")) + 1
        if index > start and (index - start >= max_requests or size + length > max_bytes):
            chunks.append(range(start, index))
            start, size = index, 0
        size += length
    if start < len(lines):
        chunks.append(range(start, len(lines)))
    return chunks


def state_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + ".batch.json")


def load_state(out: Path) -> BatchState | None:
    path = state_path(out)
    if not path.exists():
        return None
    return BatchState.model_validate_json(path.read_text(encoding="utf-8"))


def save_state(out: Path, state: BatchState) -> None:
    write_atomic(state_path(out), state.model_dump_json(indent=2))


def json_mode_messages(
    messages: list[dict[str, str]], schema: dict[str, Any]
) -> list[dict[str, str]]:
    """What instructor's JSON mode sends: the schema appended to the system message."""
    first, rest = messages[0], messages[1:]
    note = "\n\nAnswer with a JSON object that matches this JSON schema:\n" + json.dumps(
        schema, separators=(",", ":")
    )
    return [{**first, "content": first["content"] + note}, *rest]


def request_line(
    custom_id: str, model: str, messages: list[dict[str, str]], sampling: dict[str, Any]
) -> str:
    body = {
        "model": model.split("/", 1)[1] if model.startswith("openai/") else model,
        "messages": messages,
        "response_format": {"type": "json_object"},
        **sampling,
    }
    line = {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}
    return json.dumps(line, ensure_ascii=False)


class BatchClient:
    """The OpenAI SDK's files + batches calls, with the gateway's base URL and key."""

    def __init__(self, api_base: str | None, api_key: str | None) -> None:
        import openai

        self._client = openai.AsyncOpenAI(
            base_url=api_base, api_key=api_key or os.environ.get("OPENAI_API_KEY") or "no-key"
        )

    async def submit(self, lines: list[str]) -> tuple[str, str]:
        data = ("\n".join(lines) + "\n").encode("utf-8")
        with _provider_errors("uploading the batch file"):
            uploaded = await self._client.files.create(
                file=("tagger-batch.jsonl", data), purpose="batch"
            )
        with _provider_errors("creating the batch"):
            batch = await self._client.batches.create(
                input_file_id=uploaded.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={"created_by": "tagger"},
            )
        return batch.id, uploaded.id

    async def wait(
        self, batch_id: str, poll_s: float, on_status: Callable[[str, Any], None]
    ) -> Any:
        while True:
            with _provider_errors(f"polling batch {batch_id}"):
                batch = await self._client.batches.retrieve(batch_id)
            on_status(batch.status, batch.request_counts)
            if batch.status in TERMINAL:
                return batch
            await asyncio.sleep(poll_s)

    async def results(self, batch: Any) -> tuple[dict[str, dict[str, Any]], int]:
        """custom_id -> {"content": str, "usage": {...}} or {"error": str}, and how many lines
        of the provider's files could not be read (not JSON, no custom_id): their papers have
        no result, so they fail and --retry-failed redoes them."""
        found: dict[str, dict[str, Any]] = {}
        unreadable = 0
        for file_id, is_error in ((batch.output_file_id, False), (batch.error_file_id, True)):
            if not file_id:
                continue
            with _provider_errors(f"downloading {file_id}"):
                text = (await self._client.files.content(file_id)).text
            for raw in text.splitlines():
                if not raw.strip():
                    continue
                try:
                    item = json.loads(raw)
                    found[str(item["custom_id"])] = _parse_result(item, is_error)
                except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
                    unreadable += 1
        return found, unreadable


@contextlib.contextmanager
def _provider_errors(doing: str) -> Iterator[None]:
    """The provider's refusal as one redacted line; what was submitted stays in OUT.batch.json."""
    import openai

    try:
        yield
    except openai.APIError as exc:
        status = getattr(exc, "status_code", None)
        body = getattr(exc, "body", None)
        message = body.get("message") if isinstance(body, dict) else None
        detail = " ".join(str(message or getattr(exc, "message", exc)).split())[:200]
        raise ModelError(
            f"batch API error {doing}: {f'HTTP {status}: ' if status else ''}{redact(detail)}.",
            hint="Batches submitted before it are kept; fix the cause, then rerun with "
            "--batch --resume.",
        ) from None


def _parse_result(item: dict[str, Any], is_error: bool) -> dict[str, Any]:
    response = item.get("response") or {}
    if is_error or item.get("error") or response.get("status_code", 200) >= 400:
        detail = item.get("error") or response.get("body") or "unknown error"

        return {"error": f"batch request failed: {redact(json.dumps(detail))[:200]}"}
    body = response.get("body") or {}
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return {"error": "batch response has no message content"}
    usage = body.get("usage")
    return {"content": str(content or ""), "usage": usage if isinstance(usage, dict) else {}}


def batch_failed(batch: Any) -> ModelError:

    errors = redact(str(getattr(batch, "errors", None)))
    return ModelError(f"batch {batch.id} ended as '{batch.status}' ({errors}).")


def now() -> float:
    return time.time()
