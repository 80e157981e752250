"""The real instructor + litellm path against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from fake_openai import FakeOpenAI
from tagger.config.prompts import load_prompt, render
from tagger.config.schema import response_model
from tagger.config.taxonomy import Taxonomy
from tagger.errors import ModelError
from tagger.models.base import ModelRequest
from tagger.models.remote import LiteLLMGateway
from tagger.records import Paper


def request_for(taxonomy: Taxonomy) -> ModelRequest:
    paper = Paper(
        id="p1", title="Denoising Everything", abstract="We train a diffusion model.", source="t:1"
    )
    spec = load_prompt("tag_summarize@v1")
    return ModelRequest(
        paper, render(spec, paper, taxonomy, 2), response_model(taxonomy, 2), taxonomy, 2
    )


def answer(
    tags: list[str], summary: str = "Trains a diffusion model for images."
) -> dict[str, str]:
    return {"content": json.dumps({"tags": tags, "summary": summary})}


async def no_sleep(_: float) -> None:
    return None


@pytest.mark.parametrize("mode", ["json", "json_schema", "md_json", "tools"])
async def test_each_mode_round_trips(mode: str, tiny_taxonomy: Taxonomy) -> None:
    with FakeOpenAI() as server:
        server.enqueue(answer(["diffusion"]))
        gateway = LiteLLMGateway("openai/fake-model", api_base=server.base_url, mode=mode)
        result = await gateway.complete(request_for(tiny_taxonomy))
    assert result.output.tags == ["diffusion"]
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    sent = server.requests[0]["body"]
    assert sent["model"] == "fake-model"
    assert ("tools" in sent) == (mode == "tools")


async def test_invalid_output_is_reasked_then_accepted(tiny_taxonomy: Taxonomy) -> None:
    with FakeOpenAI() as server:
        server.enqueue(answer(["astronomy"]), answer(["diffusion", "llm"]))
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url)
        result = await gateway.complete(request_for(tiny_taxonomy))
    assert result.output.tags == ["diffusion", "llm"]
    assert len(server.requests) == 2
    reask = server.requests[1]["body"]["messages"]
    assert any("astronomy" in str(m.get("content")) for m in reask[2:])


async def test_invalid_after_last_try_is_a_model_error(tiny_taxonomy: Taxonomy) -> None:
    with FakeOpenAI() as server:
        server.enqueue(*[answer(["astronomy"])] * 3)
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, max_retries=2)
        with pytest.raises(ModelError, match="invalid output after 3 attempts"):
            await gateway.complete(request_for(tiny_taxonomy))
    assert len(server.requests) == 3


async def test_429_retry_after_is_honoured_and_counted(tiny_taxonomy: Taxonomy) -> None:
    waits: list[float] = []

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)

    with FakeOpenAI() as server:
        server.enqueue(
            {"status": 429, "headers": {"Retry-After": "7"}},
            {"status": 503},
            answer(["llm"]),
        )
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, sleep=record_sleep)
        result = await gateway.complete(request_for(tiny_taxonomy))
    assert result.output.tags == ["llm"]
    assert result.usage.retries == 2
    assert waits[0] == 7.0 and len(waits) == 2
    assert len(server.requests) == 3  # no retries stacked in litellm or the OpenAI SDK


async def test_transport_retries_are_bounded(tiny_taxonomy: Taxonomy) -> None:
    with FakeOpenAI() as server:
        server.enqueue(*[{"status": 500}] * 10)
        gateway = LiteLLMGateway(
            "openai/m", api_base=server.base_url, transport_retries=2, sleep=no_sleep
        )
        with pytest.raises(ModelError, match="500"):
            await gateway.complete(request_for(tiny_taxonomy))
    assert len(server.requests) == 3


async def test_client_errors_are_not_retried(tiny_taxonomy: Taxonomy) -> None:
    with FakeOpenAI() as server:
        server.enqueue({"status": 401, "body": {"error": {"message": "bad key"}}})
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, sleep=no_sleep)
        with pytest.raises(ModelError, match="401"):
            await gateway.complete(request_for(tiny_taxonomy))
    assert len(server.requests) == 1


async def test_api_key_is_sent_but_not_in_identity(tiny_taxonomy: Taxonomy) -> None:
    secret = "sk-test-SECRET-123"
    with FakeOpenAI() as server:
        server.enqueue(answer(["llm"]))
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, api_key=secret)
        await gateway.complete(request_for(tiny_taxonomy))
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {secret}"
    assert secret not in json.dumps(gateway.identity())
