"""Cache keys do not move: a refactor that changes any key would silently turn every existing
cache into misses (paid for again). The digests below were computed on the code before the
restructure of the model layer (issue 13); if one changes, the key's recipe changed, and
KEY_VERSION must be bumped on purpose instead."""

from __future__ import annotations

import asyncio
import importlib.metadata
from pathlib import Path
from typing import Any

import pytest

from tagger.config.build import build_setup
from tagger.config.schema import IntroText
from tagger.models.factory import make_gateway
from tagger.records import Paper
from tagger.run.cache import KEY_VERSION, KeyMaker, KeyParts, ResultCache, make_key
from tagger.run.job import Job
from tagger.run.settings import RunSettings

PAPER = Paper(
    id="p1",
    source="test",
    title="Scaling  Laws for Neural   Language Models",
    abstract="We study empirical scaling laws for language model performance on the "
    "cross-entropy loss. The loss scales as a power-law with model size.",
)
# A head file's key input is the hash of its bytes: these exact bytes, always.
HEAD = (
    '{"format":"tagger-head/1","taxonomy":"t","taxonomy_hash":"0","embedder":"x",'
    '"data_hash":"d","labels_source":"gold g","papers":1,"tags":[]}'
)

EXPECTED = {
    "remote": "33df0cc3c2394df3b0d3365e4b07b4d9702cce63f2d3c64330d7b27855b8c1ea",
    "remote-api-base": "9a3686a12e3de897d9cfd77fdc877b9a34501d50f239b5adbfb22e475553d518",
    "remote-pack": "24291af31e34869d9d958df2b3987f1c2e57bea97ce3b33a57bd17086484e06e",
    "remote-repeat": "7b6c877c2773dd256290903b34f50f9c17c6877ac03f76a0028a3fdd4077e723",
    "remote-tools": "01d08fd6dbe3b1ae4ad4341086f1fcb44ced6f994e2068c1dda2d0d54a42f725",
    "remote-max-tags": "b95b327bef7cdf010e0f11fccca9a7651de83cf78164b154df836cb99569f374",
    "embedded-default": "45d554c0a688d03eca523cc293c1ad232e682c13b29c4a17f26d84bdfb9a6dec",
    "embedded-head": "e412b782eda7cd731f6e4439ad5b087ba8c4bd4188463b7c56ffbc513ba9f8ba",
    "embedded-keyword": "38a25b940a90bdb28f0424a28375630d28e705c9dc0c25b6b08009a8cde7a0b6",
}


@pytest.fixture(autouse=True)
def fixed_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """An embedded model's key names its model packages' versions; fixed here so the digests
    do not depend on what this machine has installed (or on backends other tests built)."""
    from tagger import embedded

    monkeypatch.setattr(importlib.metadata, "version", lambda package: "0.0-test")
    monkeypatch.setattr(embedded, "_instances", {})  # backends built by earlier tests: real ones


def _key(tmp_path: Path, model: str, **options: Any) -> str:
    pack = options.pop("pack", 1)
    namespace = options.pop("namespace", "")
    max_tags = options.pop("max_tags", 3)
    head = options.pop("head", None)
    setup = build_setup(model=model, max_tags=max_tags, **options)
    gateway = setup.gateway
    if head:  # built directly: the head is for no real taxonomy (build_setup would refuse it)
        path = tmp_path / "head.json"
        path.write_text(HEAD, encoding="utf-8")
        sampling = setup.prompt.sampling.model_dump()
        gateway = make_gateway(model, mode=setup.prompt.mode, sampling=sampling, head=str(path))
    settings = RunSettings(
        output=tmp_path / "out.jsonl",
        prompt=setup.prompt,
        taxonomy=setup.taxonomy,
        max_tags=setup.max_tags,
        pack=pack,
        namespace=namespace,
    )
    return Job(settings, gateway, None).cache_key(PAPER)


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "remote": ("openai/gpt-4o-mini", {}),
    "remote-api-base": ("openai/qwen", {"api_base": "http://127.0.0.1:8000/v1"}),
    "remote-pack": ("openai/gpt-4o-mini", {"pack": 4}),
    "remote-repeat": ("openai/gpt-4o-mini", {"namespace": "repeat-1"}),
    "remote-tools": ("openai/gpt-4o-mini", {"mode": "tools"}),
    "remote-max-tags": ("openai/gpt-4o-mini", {"max_tags": 2}),
    "embedded-default": ("local/minilm", {}),
    "embedded-head": ("local/minilm", {"head": True}),
    "embedded-keyword": ("local/keyword", {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_run_cache_keys_are_unchanged(case: str, tmp_path: Path) -> None:
    model, options = CASES[case]
    assert _key(tmp_path, model, **dict(options)) == EXPECTED[case]


def test_key_recipe_is_unchanged() -> None:
    parts = KeyParts(
        title="t",
        abstract="a",
        prompt="tag_summarize@v1",
        prompt_hash="ph",
        schema_hash="sh",
        taxonomy_hash="th",
        model="openai/m",
        api_base=None,
        sampling={"temperature": 0.0, "mode": "json"},
    )
    assert KEY_VERSION == "k1"
    assert make_key(parts) == "207ec01250ee09deca37750399632cc9d8538489e5faee59228a1a921854eefd"
    assert KeyMaker(parts).key("t", "a") == make_key(parts)


class _IntroGateway:
    model = "openai/gpt-4o-mini"
    api_base: str | None = None

    def identity(self) -> dict[str, Any]:
        return {"model": self.model, "api_base": None, "mode": "json"}

    async def complete(self, request: Any) -> Any:
        from tagger.models.base import ModelResult

        text = "Language models lead today, with scaling studies and new training methods."
        return ModelResult(output=IntroText(text=text))


def test_digest_intro_cache_key_is_unchanged(tmp_path: Path) -> None:
    from tagger.config.prompts import load_prompt
    from tagger.config.taxonomy import load_taxonomy
    from tagger.digest.model_intro import PROMPT, _write

    facts = "Language models: 3 papers. Scaling Laws for Neural Language Models."
    asyncio.run(_write(_IntroGateway(), load_prompt(PROMPT), load_taxonomy(None), facts))
    with ResultCache() as cache:
        keys = list(cache._cache.iterkeys())
    assert keys == ["945463712ce18c7709d274f9a54ff202939289d0d2ce1b1037ef3291bac700ce"]
