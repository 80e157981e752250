"""Faults from the model provider, through the real CLI against a fake server on 127.0.0.1.

Rate limits, 5xx, connection resets, timeouts and bad answers are retried a bounded number of
times, counted in OUT.run.json (usage.retries = transport retries + re-asks), and a paper that
still fails is written as `status: failed` with a reason; the run always completes, and
`--retry-failed` later redoes exactly the failures.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conftest import invoke
from fake_openai import FakeOpenAI, Reply, first_tag_answer
from tagger.config.prompts import load_prompt, render
from tagger.config.schema import MAX_SUMMARY_CHARS, response_model
from tagger.config.taxonomy import Taxonomy, load_taxonomy
from tagger.models.base import ModelRequest
from tagger.models.remote import LiteLLMGateway
from tagger.models.retry import retry_after_s
from tagger.records import Paper

NOW = {"Retry-After": "0"}  # a server that asks to retry at once keeps these tests fast


class ByTitle:
    """Fake-server answers scripted per paper title (robust to any concurrency), then good ones."""

    def __init__(self, script: dict[str, list[Reply]]) -> None:
        self.script = {title: deque(replies) for title, replies in script.items()}
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply:
        title = title_of(body)
        with self._lock:
            queue = self.script.get(title)
            if queue:
                return queue.popleft()
        return first_tag_answer(body)


def title_of(body: dict[str, Any]) -> str:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")  # not a re-ask
    match = re.search(r"Title: (.*)", user)
    assert match is not None
    return match.group(1)


def calls_per_title(server: FakeOpenAI) -> Counter[str]:
    return Counter(title_of(r["body"]) for r in server.requests)


def answer(tags: list[str], summary: str = "Proposes a method and reports gains.") -> Reply:
    return {"content": json.dumps({"tags": tags, "summary": summary})}


@dataclass
class Run:
    code: int
    err: str
    rows: dict[str, dict[str, Any]]
    manifest: dict[str, Any]


Tagger = Callable[..., Run]


@pytest.fixture
def papers(tmp_path: Path) -> Callable[..., Path]:
    def write(*titles: str) -> Path:
        path = tmp_path / "papers.jsonl"
        lines = [
            json.dumps(
                {"title": t, "abstract": f"We study {t.lower()} with a new method, case {i}."}
            )
            for i, t in enumerate(titles)
        ]
        path.write_text("\n".join(lines) + "\n")
        return path

    return write


@pytest.fixture
def tagger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Tagger:
    out = tmp_path / "out.jsonl"

    def run(source: Path, server: FakeOpenAI, *extra: str) -> Run:
        args = ["run", str(source), "-o", str(out), "--model", "openai/fake"]
        args += ["--api-base", server.base_url, *extra]
        result = invoke(capsys, *args)
        code, err = result.code, result.err
        rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        manifest_file = tmp_path / "out.run.json"
        manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
        return Run(code, err, {r["title"]: r for r in rows}, manifest)

    return run


def assert_clean_stderr(run: Run) -> None:
    """Only the one summary line: no traceback, no provider or library log lines."""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and " unique" in lines[0], run.err


def test_transport_faults_are_retried_bounded_and_counted(
    tagger: Tagger, papers: Callable[..., Path]
) -> None:
    script: dict[str, list[Reply]] = {
        "Rate limited": [{"status": 429, "headers": {"Retry-After": "0"}}],
        "Server errors": [{"status": 500, "headers": NOW}, {"status": 503, "headers": NOW}],
        "Connection reset": [{"reset": True}],
        "Never recovers": [{"status": 503, "headers": NOW}] * 10,
    }
    source = papers(*script, "Healthy one", "Healthy two")
    with FakeOpenAI(default=ByTitle(script)) as server:
        run = tagger(source, server)
    assert run.code == 1  # some papers failed: exit 1
    assert_clean_stderr(run)
    calls = calls_per_title(server)
    # Transport retries are capped at 3 per request: 4 calls, then the paper fails.
    assert calls == {
        "Rate limited": 2,
        "Server errors": 3,
        "Connection reset": 2,
        "Never recovers": 4,
        "Healthy one": 1,
        "Healthy two": 1,
    }
    dead = run.rows["Never recovers"]
    assert dead["status"] == "failed" and dead["tags"] == [] and dead["summary"] is None
    assert "503" in dead["error"]
    assert all(r["status"] == "ok" for t, r in run.rows.items() if t != "Never recovers")
    assert run.manifest["counts"]["failed"] == 1 and run.manifest["counts"]["tagged"] == 5
    assert run.manifest["usage"]["retries"] == 1 + 2 + 1 + 3
    assert run.manifest["usage"]["calls"] == 6  # the failed paper's call counts too


def test_timeout_is_retried(tagger: Tagger, papers: Callable[..., Path]) -> None:
    script: dict[str, list[Reply]] = {"Slow answer": [{"delay": 2.5, "content": "{}"}]}
    source = papers("Slow answer")
    with FakeOpenAI(default=ByTitle(script)) as server:
        run = tagger(source, server, "--timeout", "1")
    assert run.code == 0
    assert_clean_stderr(run)
    assert calls_per_title(server) == {"Slow answer": 2}
    assert run.rows["Slow answer"]["status"] == "ok"
    assert run.manifest["usage"]["retries"] == 1


def test_bad_answers_are_reasked_then_failed(tagger: Tagger, papers: Callable[..., Path]) -> None:
    script: dict[str, list[Reply]] = {
        "Malformed JSON": [{"content": '{"tags": ["robotics"], "summary": "cut'}],
        "Not JSON at all": [{"content": "Sure! Here are the tags you asked for."}],
        "Tag outside taxonomy": [answer(["astrology"])],
        "Overlong summary": [answer(["robotics"], "A robot " * 100)],
        "Multi-line summary": [answer(["robotics"], "Line one\nline two")],
        "Empty content": [{"content": ""}],
        "Hopeless": [answer(["astrology", "alchemy"])] * 3,
        "Cut by max_tokens": [{"content": '{"tags": ["robo', "finish_reason": "length"}],
    }
    source = papers(*script)
    with FakeOpenAI(default=ByTitle(script)) as server:
        run = tagger(source, server)
    assert run.code == 1  # some papers failed: exit 1
    assert_clean_stderr(run)
    calls = calls_per_title(server)
    assert calls["Hopeless"] == 3  # the first answer and max_retries=2 re-asks, no more
    failed = {t for t, r in run.rows.items() if r["status"] == "failed"}
    assert failed == {"Hopeless", "Cut by max_tokens"}
    assert "invalid output after 3 attempts" in run.rows["Hopeless"]["error"]
    assert "max_tokens" in run.rows["Cut by max_tokens"]["error"]
    taxonomy = set(load_taxonomy().ids)
    for row in run.rows.values():
        assert set(row["tags"]) <= taxonomy
        if row["status"] == "ok":
            assert len(row["summary"]) <= MAX_SUMMARY_CHARS and "\n" not in row["summary"]
    reasks = sum(n - 1 for n in calls.values())
    assert reasks == 6 + 2 and run.manifest["usage"]["retries"] == reasks


def test_retry_failed_redoes_only_the_failures(tagger: Tagger, papers: Callable[..., Path]) -> None:
    script: dict[str, list[Reply]] = {
        "Down for now": [{"status": 500, "headers": NOW}] * 4,
        "Confused model": [answer(["astrology"])] * 3,
    }
    titles = ["Fine one", "Down for now", "Fine two", "Confused model", "Fine three"]
    source = papers(*titles)
    with FakeOpenAI(default=ByTitle(script)) as server:
        first = tagger(source, server)
        before = len(server.requests)
        again = tagger(source, server, "--resume")
        assert len(server.requests) == before  # --resume alone keeps the failures as they are
        retried = tagger(source, server, "--retry-failed")
        redone = Counter(title_of(r["body"]) for r in server.requests[before:])
    assert first.manifest["counts"]["failed"] == 2
    assert {t for t, r in again.rows.items() if r["status"] == "failed"} == set(script)
    assert redone == {"Down for now": 1, "Confused model": 1}
    assert retried.code == 0
    lines = (Path(source).parent / "out.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["title"] for line in lines) == sorted(titles)  # once each
    assert all(r["status"] == "ok" for r in retried.rows.values())
    counts = retried.manifest["counts"]
    assert counts["skipped_resume"] == 3 and counts["tagged"] == 2 and counts["failed"] == 0


@pytest.fixture
def request_for_test() -> ModelRequest:
    taxonomy = load_taxonomy()
    paper = Paper(id="p1", title="A paper", abstract="We train a robot.", source="t:1")
    messages = render(load_prompt(), paper, taxonomy, 2)
    return ModelRequest(paper, messages, response_model(taxonomy, 2), taxonomy, 2)


async def test_retry_after_zero_means_now(request_for_test: ModelRequest) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with FakeOpenAI() as server:
        server.enqueue({"status": 429, "headers": {"Retry-After": "0"}})
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, sleep=sleep)
        result = await gateway.complete(request_for_test)
    assert waits == [0.0] and result.usage.retries == 1


def headers(**values: str) -> SimpleNamespace:
    return SimpleNamespace(response=SimpleNamespace(headers=values))


def test_retry_after_forms() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_s(headers(**{"retry-after": later})) or 0) <= 30
    assert retry_after_s(headers(**{"retry-after": "2.5"})) == 2.5
    assert retry_after_s(headers(**{"retry-after": "86400"})) == 120.0  # capped
    assert retry_after_s(headers(**{"retry-after": "-5"})) == 0.0
    assert retry_after_s(headers()) is None


def test_tiny_taxonomy_cannot_be_escaped(tiny_taxonomy: Taxonomy) -> None:
    """The response model is a closed vocabulary: an id outside it never validates."""
    model = response_model(tiny_taxonomy, 2)
    with pytest.raises(ValueError):
        model.model_validate({"tags": ["diffusion", "astrology"], "summary": "Fine."})
    with pytest.raises(ValueError):
        model.model_validate({"tags": ["diffusion", "llm", "robotics"], "summary": "Fine."})
    assert model.model_validate({"tags": ["llm"], "summary": "Fine."}).tags == ["llm"]
