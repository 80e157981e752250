"""The eval scorers as pure functions on tiny hand-made cases."""

from __future__ import annotations

import pytest

from tagger.config.faithfulness import unsupported
from tagger.evaluate.metrics import (
    all_right,
    bootstrap_micro_f1,
    compliance,
    jaccard,
    mean_pairwise_jaccard,
    prf,
    rouge,
    tag_metrics,
)

KNOWN = ("a", "b", "c")


def test_micro_macro_exact_and_jaccard_on_a_hand_case() -> None:
    gold = [{"a", "b"}, {"c"}, set()]
    pred = [{"a"}, {"c", "d"}, set()]
    m = tag_metrics(gold, pred, KNOWN)
    # tp: a, c; fp: d; fn: b
    assert m.micro_precision == pytest.approx(2 / 3)
    assert m.micro_recall == pytest.approx(2 / 3)
    assert m.micro_f1 == pytest.approx(2 / 3)
    assert m.exact_match == pytest.approx(1 / 3)  # only the empty/empty paper
    assert m.mean_jaccard == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    scores = {s.tag: s for s in m.per_tag}
    assert [scores[t].f1 for t in "abcd"] == [1.0, 0.0, 1.0, 0.0]
    assert m.macro_f1 == pytest.approx(0.5)  # averaged over the four tags seen


def test_per_tag_support_and_counts() -> None:
    m = tag_metrics([{"a"}, {"a"}, {"b"}], [{"a"}, {"b"}, {"b"}], KNOWN)
    a = next(s for s in m.per_tag if s.tag == "a")
    assert (a.support, a.predicted, a.tp, a.fp, a.fn) == (2, 1, 1, 0, 1)
    assert (a.precision, a.recall) == (1.0, 0.5)
    assert a.f1 == pytest.approx(2 / 3)


def test_tags_outside_the_taxonomy_are_wrong_and_marked() -> None:
    m = tag_metrics([{"a"}], [{"a", "made-up"}], KNOWN)
    made_up = next(s for s in m.per_tag if s.tag == "made-up")
    assert made_up.in_taxonomy is False and made_up.fp == 1 and made_up.f1 == 0.0
    assert m.micro_precision == 0.5 and m.micro_recall == 1.0


def test_empty_predictions_score_zero_not_crash() -> None:
    m = tag_metrics([{"a"}, {"b", "c"}], [set(), set()], KNOWN)
    assert (m.micro_precision, m.micro_recall, m.micro_f1) == (0.0, 0.0, 0.0)
    assert m.exact_match == 0.0 and m.mean_jaccard == 0.0 and m.macro_f1 == 0.0


def test_empty_gold_sets() -> None:
    nothing = tag_metrics([set(), set()], [set(), set()], KNOWN)
    assert nothing.exact_match == 1.0 and nothing.mean_jaccard == 1.0
    assert nothing.micro_f1 == 0.0 and nothing.per_tag == []
    guessed = tag_metrics([set()], [{"a"}], KNOWN)
    assert guessed.exact_match == 0.0 and guessed.mean_jaccard == 0.0
    assert guessed.micro_precision == 0.0


def test_no_papers_at_all() -> None:
    m = tag_metrics([], [], KNOWN)
    assert m.micro_f1 == 0.0 and m.exact_match == 0.0 and m.per_tag == []


def test_mismatched_lengths_are_a_bug() -> None:
    with pytest.raises(ValueError, match="2 gold sets but 1 predictions"):
        tag_metrics([{"a"}, {"b"}], [{"a"}], KNOWN)


def test_prf_and_jaccard_edges() -> None:
    assert prf(0, 0, 0) == (0.0, 0.0, 0.0)
    assert prf(1, 1, 0) == (0.5, 1.0, pytest.approx(2 / 3))
    assert jaccard(set(), set()) == 1.0
    assert jaccard({"a"}, set()) == 0.0
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)


def test_consistency_across_repeats() -> None:
    assert mean_pairwise_jaccard([{"a"}, {"a"}, {"a", "b"}]) == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert mean_pairwise_jaccard([{"a"}]) == 1.0
    assert all_right({"a", "b"}, [{"a", "b"}, {"b", "a"}])
    assert not all_right({"a", "b"}, [{"a", "b"}, {"a"}])
    assert not all_right({"a"}, [])


@pytest.mark.parametrize(
    ("summary", "one", "short"),
    [
        ("Proposes a sampler that cuts diffusion steps.", True, True),
        ("Compares LoRA vs. full tuning, e.g. on GSM8K, in 2.5 hours.", True, True),
        ("Proposes a sampler. It is fast.", False, True),
        ("Proposes a sampler\nthat is fast.", False, True),
        ("x" * 161, True, False),
        ("", False, False),
        ("   ", False, False),
    ],
)
def test_compliance(summary: str, one: bool, short: bool) -> None:
    check = compliance(summary)
    assert (check.one_sentence, check.short_enough) == (one, short)
    assert check.ok == (one and short)


def test_rouge_identical_disjoint_and_partial() -> None:
    same = rouge("Proposes a fast sampler.", "Proposes a fast sampler.")
    assert same == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert rouge("robots grasp", "diffusion sampler")["rouge1"] == 0.0
    partial = rouge("Proposes a fast sampler for images.", "Proposes a sampler.")
    assert 0.0 < partial["rouge2"] < partial["rouge1"] < 1.0


ABSTRACT = (
    "Diffusion Models Sample Faster\nWe present Llama 2, a 7B model trained on 2,000 GPUs in three "
    "stages. LLMs benefit; the Transformer-XL baseline reaches 95.3% accuracy on ImageNet."
)


@pytest.mark.parametrize(
    ("summary", "flagged"),
    [
        # stated facts, reworded: nothing flagged
        ("Introduces Llama-2, a 7B model trained on 2000 GPUs in 3 stages.", []),
        ("Shows a Transformer-XL-based LLM reaches 95.3% on imagenet.", []),
        ("Proposes faster sampling for diffusion models.", []),
        # invented numbers and names are flagged
        ("Beats GPT-4 with 97% accuracy on ImageNet.", ["GPT-4", "97%"]),
        ("Trains a 13B model at Google.", ["13B", "Google"]),
        ("Proposes Mamba, a state space model.", ["Mamba"]),
    ],
)
def test_faithfulness_flags_only_new_numbers_and_names(summary: str, flagged: list[str]) -> None:
    assert unsupported(summary, ABSTRACT) == flagged


def test_short_acronyms_must_match_a_whole_word() -> None:
    assert unsupported("Uses AI for grading.", "Teachers said grading is slow.") == ["AI"]
    assert unsupported("Uses AI for grading.", "We grade an image and improve it.") == ["AI"]


def test_abbreviations_and_derived_words_of_what_the_abstract_says_are_fine() -> None:
    abstract = (
        "We apply reinforcement learning from human feedback to a mixture of experts and "
        "bound its Lipschitz constant with Markov chain Monte Carlo and Bayes rules."
    )
    summary = "Applies RLHF and RL to a MoE, bounding Lipschitzness via MCMC and Bayesian rules."
    assert unsupported(summary, abstract) == []
    assert unsupported("Applies PPO to a MoE.", abstract) == ["PPO"]


def test_bootstrap_interval_of_micro_f1_on_hand_cases() -> None:
    same = [{"a"}] * 5
    # Every paper alike (tp 1, fp 1): every resample has micro-F1 2/3, so the interval is a point.
    low, high = bootstrap_micro_f1(same, [{"a", "b"}] * 5)
    assert (low, high) == pytest.approx((2 / 3, 2 / 3))
    # One right paper, one wrong: resamples hold 0, 1 or 2 right copies -> F1 0, 0.5 or 1.
    gold, pred = [{"a"}, {"b"}], [{"a"}, {"c"}]
    assert bootstrap_micro_f1(gold, pred) == (0.0, 1.0)
    # The same mix over 100 papers is known much better; the interval holds the estimate.
    low, high = bootstrap_micro_f1(gold * 50, pred * 50)
    assert 0.35 < low < 0.5 < high < 0.65
    assert bootstrap_micro_f1(gold * 50, pred * 50) == (low, high)  # fixed seed: reproducible
    assert bootstrap_micro_f1([], []) == (0.0, 0.0)
