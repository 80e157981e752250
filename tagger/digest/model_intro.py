"""`--intro --model M`: the opening paragraph written by a model through the gateway and cache."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from tagger.cache import CachedAnswer, KeyParts, ResultCache, make_key
from tagger.digest.intro import IntroWriter, extractive_intro, intro_facts
from tagger.digest.models import Section
from tagger.errors import ModelError
from tagger.gateway import Gateway, ModelRequest, make_gateway
from tagger.local import is_local
from tagger.normalize import normalize_text
from tagger.prompts import load_prompt, render
from tagger.records import Paper
from tagger.schema import IntroText, schema_hash
from tagger.taxonomy import Taxonomy

PROMPT = "digest_intro@v1"


def model_intro_writer(
    model: str | None, taxonomy: Taxonomy, *, api_base: str | None, api_key: str | None
) -> IntroWriter:
    """Embedded models tag and extract but do not write prose: they get the extractive intro."""
    if model is None or is_local(model):
        return extractive_intro
    spec = load_prompt(PROMPT)
    gateway = make_gateway(
        model,
        api_base=api_base,
        api_key=api_key,
        mode=spec.mode,
        sampling=spec.sampling.model_dump(),
    )

    def write(sections: Sequence[Section]) -> str:
        return asyncio.run(_write(gateway, taxonomy, intro_facts(sections)))

    return write


async def _write(gateway: Gateway, taxonomy: Taxonomy, facts: str) -> str:
    spec = load_prompt(PROMPT)
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
            sampling=spec.sampling.model_dump(),
        )
    )
    with ResultCache() as cache:
        hit = cache.get(key)
        if hit is not None:
            return hit.summary
        request = ModelRequest(paper, render(spec, paper, taxonomy, 1), IntroText, taxonomy, 1, {})
        try:
            result = await gateway.complete(request)
        except ModelError as exc:
            raise ModelError(f"intro: {exc.message}") from None
        text: str = result.output.text
        cache.put(
            key,
            CachedAnswer(
                tags=[], summary=text, model=gateway.model, prompt=spec.ref, created=time.time()
            ),
        )
        return text
