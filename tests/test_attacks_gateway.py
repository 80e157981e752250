"""Attacks on the model-call layer (issues 11, 12.7-12.11, 13): a setup that cannot work stops
at once, failures are typed by cause, spend is never dropped, keys never land in OUT, and no
server can stall a run past --timeout."""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conftest import invoke
from fake_openai import FakeOpenAI, Reply
from tagger.config.prompts import load_prompt, render
from tagger.config.schema import response_model
from tagger.config.taxonomy import load_taxonomy
from tagger.models.base import ModelRequest
from tagger.models.remote import LiteLLMGateway
from tagger.models.retry import redact, retry_after_s
from tagger.records import Paper

KEY = "sk-test-SECRETKEY-0123456789abcdef0123"


async def no_sleep(_: float) -> None:
    return None


def answer(tags: list[str], summary: str = "Trains a robot with a new method.") -> Reply:
    return {"content": json.dumps({"tags": tags, "summary": summary})}


@pytest.fixture
def request_for_test() -> ModelRequest:
    taxonomy = load_taxonomy()
    paper = Paper(id="p1", title="A paper", abstract="We train a robot.", source="t:1")
    messages = render(load_prompt(), paper, taxonomy, 2)
    return ModelRequest(paper, messages, response_model(taxonomy, 2), taxonomy, 2)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "papers.jsonl"
    rows = [{"title": f"Paper {n} on topic {n * 37}", "abstract": f"Study {n}."} for n in range(6)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


# -- 11: credentials are checked before the first call -------------------------------------


def test_missing_key_stops_before_any_call(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "out.jsonl"
    started = time.perf_counter()
    result = invoke(capsys, "run", str(source), "-o", str(out), "--model", "openai/gpt-4o-mini")
    assert result.code == 2
    assert len(result.err_lines) == 1 and "OPENAI_API_KEY" in result.err_lines[0]
    assert result.err_lines[0].startswith("tagger: error: ")
    assert read_rows(out) == []  # no paper marked failed for a setup problem
    assert time.perf_counter() - started < 10  # no retries through backoff
    manifest = json.loads((tmp_path / "out.run.json").read_text())  # a setup error, no Ctrl-C
    assert manifest["interrupted"] is False and manifest["exit_code"] == 2
    assert "OPENAI_API_KEY" in manifest["stopped"]


def test_missing_key_reported_as_500_is_an_auth_error() -> None:
    """litellm reports a missing key as HTTP 500; it is neither retried nor filed as a 500."""
    import litellm

    from tagger.errors import ModelAuthError
    from tagger.models.retry import failure, is_retryable

    message = "OpenAIException - Missing credentials. Please pass an `api_key`, or set the key."
    exc = litellm.InternalServerError(message, llm_provider="openai", model="gpt-4o-mini")
    assert not is_retryable(exc)
    assert isinstance(failure(exc, 2, []), ModelAuthError)


async def test_a_refused_connection_is_a_transport_error_not_http_500() -> None:
    """litellm files a refused connection as InternalServerError 500: say what happened."""
    import socket

    import litellm

    from tagger.errors import ModelTransportError
    from tagger.models.retry import failure, is_retryable

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Exception) as caught:
        await litellm.acompletion(
            model="openai/m", api_base=f"http://127.0.0.1:{port}/v1", api_key=KEY,
            messages=[{"role": "user", "content": "hi"}], num_retries=0, max_retries=0,
        )  # fmt: skip
    assert is_retryable(caught.value)  # the next attempt may connect
    error = failure(caught.value, 2, [KEY])
    assert isinstance(error, ModelTransportError)
    assert "500" not in error.message and "cannot reach the API" in error.message
    assert f"127.0.0.1:{port}" in error.message and "SSLContext" not in error.message


async def test_long_provider_message_is_cut_at_a_word(request_for_test: ModelRequest) -> None:
    words = " ".join(f"word{n:03d}" for n in range(80))
    with FakeOpenAI() as server:
        server.enqueue({"status": 401, "body": {"error": {"message": words}}})
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, sleep=no_sleep)
        with pytest.raises(Exception) as caught:
            await gateway.complete(request_for_test)
    reason = str(caught.value)
    assert reason.endswith("…") and len(reason) <= 200
    assert reason[:-1].split()[-1] in words.split()  # the last word shown is a whole word


# -- 11 + 13: errors by cause; what the next call cannot fix stops the run -----------------


@pytest.mark.parametrize(
    ("status", "cause"),
    [(401, "ModelAuthError"), (403, "ModelAuthError"), (404, "ModelRequestError")],
)
async def test_errors_are_typed_by_cause(
    status: int, cause: str, request_for_test: ModelRequest
) -> None:
    from tagger import errors

    with FakeOpenAI() as server:
        server.enqueue({"status": status, "body": {"error": {"message": "no such thing"}}})
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, sleep=no_sleep)
        with pytest.raises(errors.ModelError) as caught:
            await gateway.complete(request_for_test)
    assert type(caught.value).__name__ == cause and caught.value.stops_run
    assert len(server.requests) == 1  # never retried


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        ({"status": 429, "headers": {"Retry-After": "0"}}, "ModelRateLimitError"),
        ({"status": 503, "headers": {"Retry-After": "0"}}, "ModelTransportError"),
        (answer(["astrology"]), "InvalidAnswerError"),
    ],
)
async def test_retried_causes_are_typed_and_do_not_stop(
    reply: Reply, cause: str, request_for_test: ModelRequest
) -> None:
    from tagger import errors

    with FakeOpenAI(default=lambda _: reply) as server:
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, sleep=no_sleep)
        with pytest.raises(errors.ModelError) as caught:
            await gateway.complete(request_for_test)
    assert type(caught.value).__name__ == cause and not caught.value.stops_run


def test_401_stops_the_run_and_keeps_what_was_answered(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI() as server:
        server.enqueue(answer(["robotics"]), {"status": 401, "body": {"error": {"message": "bad"}}})
        result = invoke(
            capsys, "run", str(source), "-o", str(out), "--model", "openai/m",
            "--api-base", server.base_url, "--concurrency", "1", "--api-key", KEY,
        )  # fmt: skip
        calls = len(server.requests)
        assert calls == 2 and result.code == 2
        rows = read_rows(out)
        assert [r["status"] for r in rows] == ["ok", "failed"]  # the rest is left for --resume
        assert "401" in rows[1]["error"]
        manifest = json.loads((tmp_path / "out.run.json").read_text())
        assert manifest["counts"]["not_attempted"] == 4 and "401" in manifest["stopped"]
        assert "run stopped" in result.err_lines[-1] and "4 papers not attempted" in result.err
        # the key is fixed (the server now answers): --retry-failed redoes the failure and the
        # rest; same endpoint, since --resume refuses another api base (issue 11)
        again = invoke(
            capsys, "run", str(source), "-o", str(out), "--model", "openai/m",
            "--api-base", server.base_url, "--retry-failed", "--api-key", KEY,
        )  # fmt: skip
    assert again.code == 0 and [r["status"] for r in read_rows(out)] == ["ok"] * 6


# -- 11: --max-failures and the default failure budget -------------------------------------


def test_max_failures_stops_a_broken_run(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI(default=lambda _: answer(["astrology"])) as server:
        result = invoke(
            capsys, "run", str(source), "-o", str(out), "--model", "openai/m",
            "--api-base", server.base_url, "--concurrency", "1", "--max-failures", "2",
        )  # fmt: skip
        calls = len(server.requests)
    assert result.code == 1 and calls == 2 * 3  # two papers, three attempts each
    assert [r["status"] for r in read_rows(out)] == ["failed", "failed"]
    assert "--max-failures 2" in result.err_lines[-1]


def test_default_budget_first_20_all_failed() -> None:
    from tagger.errors import ModelError
    from tagger.run.failures import FailureBudget

    budget = FailureBudget()
    reasons = [budget.record(ModelError("down")) for _ in range(20)]
    assert reasons[:19] == [None] * 19 and reasons[19] is not None and "first 20" in reasons[19]


def test_default_budget_more_than_half_of_100() -> None:
    from tagger.errors import ModelError
    from tagger.run.failures import FailureBudget

    budget = FailureBudget()
    assert budget.record(None) is None  # one success: "the first 20 all failed" cannot fire
    outcomes = [budget.record(ModelError("x") if n % 2 else None) for n in range(99)]
    assert all(o is None for o in outcomes)  # 49 of the 100 failed: fine
    reasons = [budget.record(ModelError("x")) for _ in range(3)]
    assert reasons[-1] is not None and "of the last 100" in reasons[-1]


# -- 11: spend is never dropped ------------------------------------------------------------


async def test_an_invalid_answer_is_said_in_taggers_words(request_for_test: ModelRequest) -> None:
    """Not pydantic's "1 validation error for TagSummary ... Input should be 'a', 'b', ..."."""
    from tagger.errors import InvalidAnswerError

    with FakeOpenAI(default=lambda _: answer(["astrology"])) as server:
        gateway = LiteLLMGateway("openai/fake", api_base=server.base_url, api_key=KEY)
        with pytest.raises(InvalidAnswerError) as caught:
            await gateway.complete(request_for_test)
    message = caught.value.message
    assert message.startswith("invalid output after 3 attempts: tags.0: 'astrology' is not a tag")
    assert "validation error for" not in message and "large-language-models" not in message


async def test_failed_paper_still_costs(request_for_test: ModelRequest) -> None:
    """Three invalid answers from a priced model are tokens and dollars, not 0 and $0."""
    import litellm

    from tagger.errors import ModelError

    with FakeOpenAI(default=lambda _: answer(["astrology"])) as server:
        gateway = LiteLLMGateway("openai/gpt-4o-mini", api_base=server.base_url)
        with pytest.raises(ModelError) as caught:
            await gateway.complete(request_for_test)
    usage = caught.value.usage
    assert len(server.requests) == 3 and usage.calls == 1 and usage.retries == 2
    words = len(answer(["astrology"])["content"].split())  # the fake server counts words
    assert usage.prompt_tokens > 0 and usage.completion_tokens == 3 * words
    price = litellm.model_cost["gpt-4o-mini"]
    expected = (
        usage.prompt_tokens * price["input_cost_per_token"]
        + usage.completion_tokens * price["output_cost_per_token"]
    )
    assert usage.cost_usd == pytest.approx(expected) and expected > 0


def test_failed_papers_spend_is_in_the_manifest(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI(default=lambda _: answer(["astrology"])) as server:
        invoke(
            capsys, "run", str(source), "-o", str(out), "--model", "openai/gpt-4o-mini",
            "--api-base", server.base_url,
        )  # fmt: skip
    usage = json.loads((tmp_path / "out.run.json").read_text())["usage"]
    assert usage["prompt_tokens"] > 0 and usage["cost_usd"] > 0 and usage["calls"] == 6


async def test_cached_prompt_tokens_are_counted_and_priced(
    request_for_test: ModelRequest,
) -> None:
    import litellm

    tokens = {"prompt_tokens": 1000, "completion_tokens": 20, "total_tokens": 1020}
    cached = {**tokens, "prompt_tokens_details": {"cached_tokens": 800}}
    with FakeOpenAI() as server:
        server.enqueue({**answer(["robotics"]), "usage": cached})
        gateway = LiteLLMGateway("openai/gpt-4o-mini", api_base=server.base_url)
        result = await gateway.complete(request_for_test)
    usage = result.usage
    assert usage.prompt_tokens == 1000 and usage.cached_prompt_tokens == 800
    price = litellm.model_cost["gpt-4o-mini"]
    full = 1000 * price["input_cost_per_token"] + 20 * price["output_cost_per_token"]
    assert usage.cost_usd is not None and 0 < usage.cost_usd < full  # cached at their rate


def test_anthropic_prefix_is_marked_cacheable() -> None:
    from tagger.models.spend import cache_markers

    marked = cache_markers("anthropic/claude-3-5-haiku-latest")
    assert marked == {"cache_control_injection_points": [{"location": "message", "role": "system"}]}
    assert cache_markers("openai/gpt-4o-mini") == {}  # OpenAI caches prefixes by itself


def test_unknown_price_is_unknown_not_zero(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI() as server:
        result = invoke(
            capsys, "run", str(source), "-o", str(out), "--model", "openai/no-such-priced-model",
            "--api-base", server.base_url,
        )  # fmt: skip
    manifest = json.loads((tmp_path / "out.run.json").read_text())
    assert manifest["usage"]["prompt_tokens"] > 0 and manifest["usage"]["cost_usd"] is None
    assert "cost unknown" in result.err and "$0.0000" not in result.err
    assert all(r["usage"]["cost_usd"] is None for r in read_rows(out))


# -- 12.7-12.9: keys never land in OUT -----------------------------------------------------


async def test_redaction_happens_before_the_cut(request_for_test: ModelRequest) -> None:
    """Wherever the 200-character cut falls, no part of the key survives."""
    with FakeOpenAI() as server:
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, api_key=KEY)
        for pad in range(100, 150):  # the cut falls inside the key somewhere here
            message = "x" * pad + " " + KEY + " was refused"
            server.enqueue({"status": 401, "body": {"error": {"message": message}}})
            with pytest.raises(Exception) as caught:
                await gateway.complete(request_for_test)
            assert KEY[:8] not in str(caught.value), pad


def test_redact_removes_a_run_of_the_keys_first_characters() -> None:
    masked = f"key {KEY[:12]}***{KEY[-4:]} was refused; cut {KEY[:9]}"
    cleaned = redact(masked, [KEY])
    assert KEY[:8] not in cleaned and cleaned.startswith("key [redacted]***")


def test_api_base_credentials_are_not_stored(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI() as server:
        base = f"http://user:hunter2pass@127.0.0.1:{server.port}/v1?api-key=qs-{KEY[3:]}&v=1"
        result = invoke(
            capsys, "run", str(source), "-o", str(out), "--model", "openai/m",
            "--api-base", base, "--max-failures", "1",
        )  # fmt: skip
    stored = (tmp_path / "out.run.json").read_text() + out.read_text() + result.out + result.err
    assert KEY[3:11] not in stored and "hunter2pass" not in stored
    manifest = json.loads((tmp_path / "out.run.json").read_text())
    assert manifest["api_base"].startswith("http://[redacted]@127.0.0.1:")
    assert "api-key=[redacted]&v=1" in manifest["api_base"]


def test_answer_echoing_the_key_is_not_written_or_cached(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tagger_home: Path
) -> None:
    out = tmp_path / "out.jsonl"
    with FakeOpenAI() as server:
        server.enqueue(answer(["robotics"], f"Uses the key {KEY} to train a robot."))
        invoke(
            capsys, "run", str(source), "-o", str(out), "--model", "openai/m",
            "--api-base", server.base_url, "--api-key", KEY, "--concurrency", "1",
        )  # fmt: skip
    rows = read_rows(out)
    assert rows[0]["status"] == "failed" and rows[0]["error"] == "answer contains a credential"
    assert all(r["status"] == "ok" for r in rows[1:])
    for path in [out, *tagger_home.rglob("*")]:
        assert not path.is_file() or KEY.encode() not in path.read_bytes()


# -- 12.10: --timeout bounds a whole attempt -----------------------------------------------


async def test_a_dripping_server_cannot_outlast_the_timeout(
    request_for_test: ModelRequest,
) -> None:
    from tagger.errors import ModelTimeoutError

    with FakeOpenAI(default=lambda _: {**answer(["robotics"]), "drip": 0.05}) as server:
        gateway = LiteLLMGateway(
            "openai/m", api_base=server.base_url, timeout_s=0.4, transport_retries=1,
            sleep=no_sleep,
        )  # fmt: skip
        started = time.perf_counter()
        with pytest.raises(ModelTimeoutError, match="0.4 s"):
            await asyncio.wait_for(gateway.complete(request_for_test), 10)
    assert time.perf_counter() - started < 3 and len(server.requests) == 2


# -- 12.11: Retry-After that is no number of seconds ---------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "soon-ish", "Mon, 99 Foo 2026", ""])
def test_unusable_retry_after_falls_back_to_backoff(value: str) -> None:
    exc = SimpleNamespace(response=SimpleNamespace(headers={"retry-after": value}))
    assert retry_after_s(exc) is None


@pytest.mark.parametrize("value", ["nan", "soon-ish"])
async def test_unusable_retry_after_still_retries(
    value: str, request_for_test: ModelRequest
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with FakeOpenAI() as server:
        server.enqueue({"status": 429, "headers": {"Retry-After": value}}, answer(["robotics"]))
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, sleep=sleep)
        result = await gateway.complete(request_for_test)
    assert result.output.tags == ["robotics"] and result.usage.retries == 1
    assert len(waits) == 1 and math.isfinite(waits[0]) and 0 <= waits[0] <= 1


# -- 13: a busy endpoint pool is waited on, within bounds -----------------------------------


class BusyRouter:
    def __init__(self) -> None:
        self.tries = 0

    async def acompletion(self, **_: Any) -> Any:
        self.tries += 1
        raise RuntimeError("No deployments available: max_parallel_requests slots in use")


async def test_a_pool_that_stays_busy_fails_instead_of_spinning() -> None:
    from tagger.errors import ModelTransportError
    from tagger.models.router import Endpoint, EndpointPool, RouterGateway

    pool = EndpointPool(model="openai/m", endpoints=[Endpoint(api_base="http://127.0.0.1:9/v1")])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    gateway = RouterGateway(pool, timeout_s=1.0, sleep=sleep)
    router = gateway._router = BusyRouter()
    with pytest.raises(ModelTransportError, match="busy"):
        await asyncio.wait_for(gateway._send({"messages": []}), 5)
    assert 1.0 <= sum(waits) < 1.2 and router.tries < 30
