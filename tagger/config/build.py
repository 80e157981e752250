"""Turn user choices (model, taxonomy, prompt) into the objects a run or an eval needs."""

from __future__ import annotations

import os
from dataclasses import dataclass

from tagger.config.prompts import DEFAULT_PROMPT, PromptSpec, load_prompt
from tagger.config.taxonomy import Taxonomy, load_taxonomy
from tagger.errors import ConfigError
from tagger.models.base import Gateway
from tagger.models.factory import make_gateway


def default_model() -> str:
    from tagger.embedded import DEFAULT_MODEL

    return os.environ.get("TAGGER_MODEL") or DEFAULT_MODEL


HEAD_MODEL = "local/minilm"  # the one backend a learned head (`tagger train`) applies to


@dataclass
class ModelSetup:
    taxonomy: Taxonomy
    prompt: PromptSpec
    gateway: Gateway
    max_tags: int


def build_setup(
    *,
    model: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    taxonomy_path: str | None = None,
    prompt_ref: str | None = None,
    max_tags: int = 3,
    mode: str | None = None,
    threads: int | None = None,
    endpoints: str | None = None,
    head: str | None = None,
) -> ModelSetup:
    taxonomy = load_taxonomy(taxonomy_path)
    prompt = load_prompt(prompt_ref or DEFAULT_PROMPT)
    name = model or default_model()
    if head and (name != HEAD_MODEL or endpoints):
        raise ConfigError(f"--head works with the embedded {HEAD_MODEL} only, not '{name}'.")
    gateway = make_gateway(
        name,
        api_base=api_base,
        api_key=api_key,
        mode=mode or prompt.mode,
        sampling=prompt.sampling.model_dump(),
        threads=threads,
        endpoints=endpoints,
        head=head,
    )
    if head:
        check = getattr(getattr(gateway, "backend", None), "check_head", None)
        if check is not None:
            check(taxonomy)  # before any paper runs: the wrong taxonomy is one line, early
    return ModelSetup(taxonomy=taxonomy, prompt=prompt, gateway=gateway, max_tags=max_tags)
