"""`tagger digest --intro --model M`: the intro goes through the gateway (fake server) and cache."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import invoke
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


def test_extractive_intro_on_request(tmp_path: Path) -> None:
    intro = digest(tmp_path / "a.json", "--model", "extractive")["intro"]
    assert isinstance(intro, dict) and str(intro["text"]).startswith("Today:")
    assert intro["source"] == "extractive" and intro.get("fallback_reason") is None


def test_default_intro_is_written_offline_by_the_embedded_model(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="the embedded text model comes with tagger[llm]")
    first = digest(tmp_path / "a.json")["intro"]
    second = digest(tmp_path / "b.json")["intro"]
    assert isinstance(first, dict) and first["source"] == "model", first
    text = str(first["text"])
    assert text.startswith("Today's papers") and "\n" not in text
    # the model's themes sentence, then the counted one ("N papers on <label>, ...")
    themes, counted = text.split(". ", 1)
    assert len(themes) > len("Today's papers") + 10
    assert re.match(r"\d+ papers? on ", counted), counted
    assert second == first  # from the cache: the same words, no second generation


def test_embedded_models_that_do_not_write_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = invoke(capsys, "digest", str(RUN), "--intro", "--model", "local/keyword")
    assert result.code == 2
    assert "does not write text" in result.err and "--model extractive" in result.err


def test_without_a_text_model_the_intro_says_why_it_is_extractive() -> None:
    from tagger.config.taxonomy import load_taxonomy
    from tagger.digest.group import Placement, build_sections
    from tagger.digest.intro import compose_intro
    from tagger.digest.load import load_runs
    from tagger.digest.model_intro import NO_WRITER, _unavailable

    sections = build_sections(load_runs([RUN]).papers, load_taxonomy(None), Placement())
    intro = compose_intro(sections, _unavailable(NO_WRITER))
    assert intro.source == "extractive" and intro.text.startswith("Today:")
    assert intro.fallback_reason == NO_WRITER and "-e '.[llm]'" in NO_WRITER


def test_the_intro_is_its_own_cache_record_and_an_older_one_still_reads(tmp_path: Path) -> None:
    from tagger.run.cache import CachedAnswer, CachedIntro, ResultCache

    with ResultCache(tmp_path / "cache") as cache:
        cache.put("new", CachedIntro(text=INTRO, model="m", prompt="p@v1", created=1.0))
        old = CachedAnswer(tags=[], summary=INTRO, model="m", prompt="p@v1", created=1.0)
        cache.put("old", old)  # how tagger stored an intro before it had its own record
        intro, older = cache.get_intro("new"), cache.get_intro("old")
        assert intro is not None and older is not None and intro.text == older.text == INTRO
        assert cache.get("new") is None  # never read as a paper's answer
        paper = CachedAnswer(tags=["llm"], summary="Studies x.", model="m", prompt="p", created=1.0)
        cache.put("paper", paper)
        assert cache.get_intro("paper") is None  # nor a paper's answer as an intro
        assert cache.prune(older_than_s=10**12) == 0  # prune reads both kinds' dates
