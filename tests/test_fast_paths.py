"""The speed-ups keep what a user sees: abstracts reach the model verbatim, validation still knows
the paper's title, the cost of a priced model is reported, and cache keys are unchanged."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fake_openai import FakeOpenAI
from tagger.config.prompts import load_prompt, render
from tagger.config.schema import response_model
from tagger.config.taxonomy import Taxonomy
from tagger.models.base import ModelRequest
from tagger.models.remote import LiteLLMGateway
from tagger.records import Paper
from tagger.run.cache import KeyMaker, KeyParts, make_key

ROOT = Path(__file__).resolve().parent.parent
MODES = ["json", "json_schema", "md_json", "tools"]


@pytest.fixture
async def drained() -> AsyncIterator[None]:
    """litellm logs each call on a background queue bound to this test's event loop; drain it,
    or the next test's run finds the leftovers and litellm warns about them on stderr."""
    yield
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    await asyncio.sleep(0)  # the call's logging helper task enqueues on its first step
    await GLOBAL_LOGGING_WORKER.flush()


def request_for(paper: Paper, taxonomy: Taxonomy) -> ModelRequest:
    spec = load_prompt("tag_summarize@v1")
    return ModelRequest(
        paper, render(spec, paper, taxonomy, 2), response_model(taxonomy, 2), taxonomy, 2
    )


def answer(summary: str) -> dict[str, str]:
    return {"content": json.dumps({"tags": ["diffusion"], "summary": summary})}


@pytest.mark.usefixtures("drained")
@pytest.mark.parametrize("mode", MODES)
async def test_template_syntax_in_an_abstract_reaches_the_model_verbatim(
    mode: str, tiny_taxonomy: Taxonomy
) -> None:
    abstract = "We sample {{ title }} over {0,1}^{{n}} and {% raw %} blocks {#x#} in $\\{a\\}$."
    paper = Paper(id="p1", title="Strings", abstract=abstract, source="t:1")
    with FakeOpenAI() as server:
        server.enqueue(answer("Samples strings over a binary alphabet."))
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, mode=mode)
        result = await gateway.complete(request_for(paper, tiny_taxonomy))
    assert result.output.summary == "Samples strings over a binary alphabet."
    user = server.requests[0]["body"]["messages"][-1]["content"]
    assert abstract in user


@pytest.mark.usefixtures("drained")
@pytest.mark.parametrize("mode", MODES)
async def test_a_summary_that_copies_the_title_is_reasked(
    mode: str, tiny_taxonomy: Taxonomy
) -> None:
    paper = Paper(id="p1", title="Denoising Everything", abstract="We denoise.", source="t:1")
    with FakeOpenAI() as server:
        server.enqueue(answer("Denoising everything."), answer("Trains one denoiser for all data."))
        gateway = LiteLLMGateway("openai/m", api_base=server.base_url, mode=mode)
        result = await gateway.complete(request_for(paper, tiny_taxonomy))
    assert len(server.requests) == 2
    assert result.output.summary == "Trains one denoiser for all data."
    assert result.usage.retries == 1


@pytest.mark.usefixtures("drained")
async def test_cost_of_a_priced_model_is_reported(tiny_taxonomy: Taxonomy) -> None:
    import litellm

    paper = Paper(id="p1", title="Denoising Everything", abstract="We denoise.", source="t:1")
    with FakeOpenAI() as server:  # it answers as model "gpt-4o-mini", which litellm prices
        server.enqueue(answer("Trains one denoiser for all data."))
        gateway = LiteLLMGateway("openai/gpt-4o-mini", api_base=server.base_url)
        result = await gateway.complete(request_for(paper, tiny_taxonomy))
    price = litellm.model_cost["gpt-4o-mini"]
    expected = (
        result.usage.prompt_tokens * price["input_cost_per_token"]
        + result.usage.completion_tokens * price["output_cost_per_token"]
    )
    assert result.usage.cost_usd > 0
    assert result.usage.cost_usd == pytest.approx(expected)


def test_cache_keys_match_the_original_recipe() -> None:
    """KeyMaker serializes the shared parts once; its keys must equal make_key's, or every
    existing cache entry would silently become a miss."""
    shared = {
        "prompt": "tag_summarize@v1",
        "prompt_hash": "abc",
        "schema_hash": "def",
        "taxonomy_hash": "0123",
        "model": "openai/gpt-4o-mini",
        "api_base": None,
        "sampling": {"temperature": 0.0, "max_tokens": 300, "mode": "json"},
        "namespace": "",
    }
    keys = KeyMaker(KeyParts(title="", abstract="", **shared))
    rng = random.Random(5)
    alphabet = 'ab "\\\n\t{}\x00é中\U0001f600'
    texts = ["", "title", "\x00title\x00", "\x00abstract\x00"]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 30))) for _ in range(200)]
    for title, abstract in zip(texts, reversed(texts), strict=True):
        expected = make_key(KeyParts(title=title, abstract=abstract, **shared))
        assert keys.key(title, abstract) == expected


# The summary rules as they were before their scans got cheap prefilters (every cache hit runs
# them): the oracle the fast versions must agree with on every text.
_OLD_LATEX = re.compile(
    r"[\\${}]|\^[{(-]"
    r"|\b(?:math(?:cal|frak|bb|bf|rm|scr|sf)|var(?:epsilon|phi|theta|rho|sigma|pi)"
    r"|sqrt|frac|textbf|textit|emph|operatorname)"
    r"|(?:neq|leq|geq|rightarrow|leftarrow|nabla|infty)\b|\w(?:big|Big)[(\[]"
    r"|(?<![^\W\d_])[A-Za-z]{1,2}_(?:[A-Za-z0-9]|\{)"
)
_OLD_BROKEN_REWRITE = re.compile(
    r"\bto the (?:best of the )?knowledge\b|^[A-Z][a-z]+s, [A-Z][\w-]*, "
)
_OLD_SENTENCE_BREAK = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bal)(?<!\bFig)[.!?]\s+[A-Z]")
_FRAGMENTS = (
    "Proposes|Shows|a|the|both the|either a|EITHER THE|eıther the|and|or|of.|e.g.|i.e.|vs.|et al."
    "|Fig.|X|Model|mathcal{O}|mathcalO|mathematical|various|varepsilon|varpi|context|textbf|\\ell"
    "|$x$|x^{2}|a^(b|pneq|leq 2|rightarrow|xBig(|xbig[|xBig[|xbig(|C_Phi|ell_p|x_{1}|K_"
    "|to the knowledge|to the best of the knowledge|Proposes, DSFormer,|Proposes, X,|operatorname"
    "|emph|sqrt|frac|nabla|infty|Kx|ſ|we|ours|.|!|?|,|:|\n|  |é|İ|K"
).split("|")


def _random_summaries(count: int) -> list[str]:
    rng = random.Random(11)
    texts = [
        json.loads(line)["summary"]
        for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    for _ in range(count):
        parts = rng.choices(_FRAGMENTS, k=rng.randint(1, 14))
        texts.append("".join(p + rng.choice(("", " ", " ", " ", ", ")) for p in parts))
    return texts


def test_the_summary_rules_fast_paths_agree_with_the_plain_scans() -> None:
    """Each rule with a prefilter finds what its plain regex found, on gold summaries and on
    thousands of texts built from the pieces each rule looks for (and its near misses)."""
    from tagger.config import schema, summary_rules

    def span(found: re.Match[str] | None) -> tuple[int, int] | None:
        return found.span() if found else None

    for text in _random_summaries(6000):
        assert span(summary_rules._latex(text)) == span(_OLD_LATEX.search(text)), text
        words = text.rstrip(" .!?").split()
        if not words or words[-1].lower().strip(",;:") not in summary_rules.DANGLING_WORDS:
            found = summary_rules._PAIRED.search(text.rstrip(" .!?"))
            paired = found[0] if found and not re.search(r"\b(?:and|or)\b", found[0]) else ""
            assert summary_rules._dangling(text) == paired, text
        found = summary_rules._VERB_AGREEMENT.search(text) or _OLD_BROKEN_REWRITE.search(text)
        rewrite = repr(found[0].strip(", ")) if found else ""
        assert summary_rules._broken_rewrite(text) == rewrite, text
        old_break = _OLD_SENTENCE_BREAK.search(text)
        assert span(schema._SENTENCE_BREAK.search(text)) == span(old_break), text
        squashed = re.sub(r"[^a-z0-9]+", "", text.lower())
        assert schema._squash(text) == squashed.encode("ascii"), text
