"""`tagger digest --intro --model M`: the intro goes through the gateway (fake server) and cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fake_openai import FakeOpenAI
from tagger.cli.main import main

RUN = Path(__file__).parent / "data" / "digest" / "sample_run.jsonl"
INTRO = "Language models dominate today, with work on reasoning and efficient inference."


def digest(out: Path, *extra: str) -> dict[str, object]:
    main(["digest", str(RUN), "--format", "json", "-o", str(out), "--intro", *extra])
    data: dict[str, object] = json.loads(out.read_text())
    return data


def test_model_intro_is_written_once_then_cached(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        server.enqueue({"content": json.dumps({"text": INTRO})})
        model = ["--model", "openai/fake", "--api-base", server.base_url]
        first = digest(tmp_path / "a.json", *model)
        second = digest(tmp_path / "b.json", *model)
    assert len(server.requests) == 1
    prompt = server.requests[0]["body"]["messages"][-1]["content"]
    assert "<abstract>" in prompt  # the day's titles are fenced as data
    for data in (first, second):
        assert data["intro"] == {"text": INTRO, "source": "model"} or (
            isinstance(data["intro"], dict) and data["intro"]["text"] == INTRO
        )


def test_failing_model_falls_back_to_extractive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI() as server:
        server.default = lambda body: {"status": 400}
        data = digest(tmp_path / "a.json", "--model", "openai/fake", "--api-base", server.base_url)
    intro = data["intro"]
    assert isinstance(intro, dict) and str(intro["text"]).startswith("Today:")
    assert "intro model failed" in capsys.readouterr().err


def test_default_intro_is_extractive_offline(tmp_path: Path) -> None:
    intro = digest(tmp_path / "a.json")["intro"]
    assert isinstance(intro, dict) and str(intro["text"]).startswith("Today:")
