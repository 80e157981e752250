"""`--intro --model M`: the opening paragraph written by a model through the gateway and cache."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from tagger.config.prompts import PromptSpec, load_prompt, render
from tagger.config.schema import IntroText, schema_hash
from tagger.config.taxonomy import Taxonomy
from tagger.digest.intro import (
    IntroUnavailable,
    IntroWriter,
    counts_sentence,
    extractive_intro,
    intro_facts,
)
from tagger.digest.models import Section
from tagger.embedded import is_local
from tagger.errors import ConfigError, ModelError
from tagger.models.base import Gateway, ModelRequest
from tagger.models.factory import make_gateway
from tagger.normalize import normalize_text
from tagger.records import Paper
from tagger.run.cache import CachedIntro, KeyParts, ResultCache, make_key

PROMPT = "digest_intro@v1"
LOCAL_PROMPT = "digest_intro_local@v1"  # one sentence, for the embedded SmolLM2
LOCAL_SECTIONS, LOCAL_TITLES = 4, 2  # what SmolLM2's prompt shows: more confuses a 135M model
EXTRACTIVE = "extractive"  # --model extractive: the counted sentence, no model at all
DEFAULT_WRITER = "local/smollm2"  # the embedded model that writes text (`tagger[llm]`)
NO_WRITER = (
    "no embedded model that writes text is installed (`pip install -e '.[llm]'` in the tagger "
    "checkout adds SmolLM2-135M); pass --model for a remote one"
)


def model_intro_writer(
    model: str | None, taxonomy: Taxonomy, *, api_base: str | None, api_key: str | None
) -> IntroWriter:
    """The writer for `--intro`: `model` through the gateway and cache; by default the embedded
    SmolLM2 when `tagger[llm]` is installed. Without it, the extractive intro, with the reason."""
    if model == EXTRACTIVE:
        return extractive_intro
    if model is None:
        if not _writer_installed():
            return _unavailable(NO_WRITER)
        model = DEFAULT_WRITER
    if is_local(model) and not model.startswith("local/smollm2"):
        raise ConfigError(
            f"{model} tags and extracts but does not write text.",
            hint="Use --model local/smollm2 (tagger[llm]), a remote model, or --model extractive.",
        )
    local = is_local(model)
    spec = load_prompt(LOCAL_PROMPT if local else PROMPT)
    gateway = make_gateway(
        model,
        api_base=api_base,
        api_key=api_key,
        mode=spec.mode,
        sampling=spec.sampling.model_dump(),
    )

    def write(sections: Sequence[Section]) -> str:
        if not local:
            return asyncio.run(_write(gateway, spec, taxonomy, intro_facts(sections)))
        # SmolLM2 writes the themes sentence from the top sections; the counts are computed.
        facts = intro_facts(sections[:LOCAL_SECTIONS], LOCAL_TITLES, counts=False)
        themes = asyncio.run(_write(gateway, spec, taxonomy, facts))
        return f"{themes.rstrip('.')}. {_capitalized(counts_sentence(sections))}"

    return write


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _writer_installed() -> bool:
    from tagger.embedded.llm import gguf_path

    try:
        gguf_path()
    except ConfigError:
        return False
    return True


def _unavailable(reason: str) -> IntroWriter:
    def write(sections: Sequence[Section]) -> str:
        raise IntroUnavailable(reason)

    return write


async def _write(gateway: Gateway, spec: PromptSpec, taxonomy: Taxonomy, facts: str) -> str:
    paper = Paper(id="digest-intro", title="today's papers", abstract=facts, source="digest")
    key = make_key(
        KeyParts(
            title=paper.title,
            abstract=normalize_text(facts),
            prompt=spec.ref,
            prompt_hash=spec.content_hash,
            schema_hash=schema_hash(IntroText),
            taxonomy_hash=taxonomy.content_hash,
            model=gateway.model,
            api_base=gateway.api_base,
            sampling=_sampling(gateway, spec.sampling.model_dump()),
        )
    )
    with ResultCache() as cache:
        hit = cache.get_intro(key)
        if hit is not None:
            return hit.text
        messages = render(spec, paper, taxonomy, 1)
        request = ModelRequest(paper, messages, IntroText, taxonomy, 1, {"facts": facts})
        try:
            result = await gateway.complete(request)
        except ModelError as exc:
            raise ModelError(f"intro: {exc.message}") from None
        text: str = result.output.text
        cache.put(
            key, CachedIntro(text=text, model=gateway.model, prompt=spec.ref, created=time.time())
        )
        return text


def _sampling(gateway: Gateway, sampling: dict[str, Any]) -> dict[str, Any]:
    """The prompt's sampling plus what else identifies the model (an embedded model's version)."""
    extra = {k: v for k, v in gateway.identity().items() if k not in ("model", "api_base")}
    return {**extra, **sampling}
