"""Summaries a reader would call broken: caught by the response model's validator and by eval's
compliance, and no longer written by the extractive writer (cases verbatim from samples/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tagger.config.schema import response_model
from tagger.config.taxonomy import Taxonomy
from tagger.embedded.summarize import clean, rewrite_claim, summarize
from tagger.evaluate.gold import GoldItem
from tagger.evaluate.metrics import compliance
from tagger.evaluate.score import score_paper
from tagger.ingest import iter_papers
from tagger.records import TaggedPaper

ROOT = Path(__file__).resolve().parent.parent
TITLE = "A Paper"

# (what the old writer wrote for a sample abstract, a word of the message that names the class)
BROKEN = [
    (
        "Proves that, under a mild ''informative'' condition, the algorithm achieves an excess "
        "risk of mathcal{O} for downstream tasks, where C_Phi.",
        "LaTeX",
    ),
    (
        "Shows the first bounds for sensitivity sampling for ell_p subspace embeddings for pneq 2 "
        "that improve over the general mathfrak S d bound.",
        "LaTeX",
    ),
    (
        "Shows, quite interestingly, that there is {\\it no extra price} that needs to be paid for "
        "being robust to noise other than a constant factor.",
        "LaTeX",
    ),
    ("A point w is called an alpha-stationary point if |nabla F(w)|leq alpha.", "LaTeX"),
    ("Gives rates of Obig(1{n}+minbig(big[sqrt{rank}{nvarepsilon}big]^{2/3}.", "LaTeX"),
    (
        "Proposes a simple and efficient procedure for enforcing this criterion when generating "
        "from probabilistic models, which we call locally typical sampling.",
        "as the authors",
    ),
    (
        "Introduces unsupervised learning under Latent Label Shift, where we have access to "
        "unlabeled data from multiple domains.",
        "as the authors",
    ),
    (
        "In this paper, we question whether the complexity of these models is needed to achieve "
        "good performance.",
        "as the authors",
    ),
    (
        "Although large pre-trained models of code have delivered significant advancements in "
        "various code processing tasks.",
        "subordinate clause",
    ),
    (
        "Proposes, DSFormer, a simple alternative factorization scheme which expresses a target "
        "weight matrix as the product of a small dense.",
        "mid-phrase",
    ),
    (
        "Proposes and investigate the question of estimating the expectations of m adaptively "
        "chosen functions on an unknown distribution given n random samples.",
        "ungrammatical",
    ),
    (
        "Proposes what is to the knowledge the first model-agnostic measure of the inherent "
        "generalization difficulty of tasks.",
        "ungrammatical",
    ),
    ("Proposes, DSFormer, a simple alternative factorization scheme.", "ungrammatical"),
    (
        "Large Language Models (LLMs) have become an indispensable part of natural language "
        "processing tasks.",
        "background",
    ),
    ("Finds that despite the recent focus on IO.", "subordinate clause"),
    ("Studies approximating stationary points in both the finite-sum.", "mid-phrase"),
]


@pytest.mark.parametrize(("summary", "kind"), BROKEN)
def test_the_validator_re_asks_for_each_broken_class(
    tiny_taxonomy: Taxonomy, summary: str, kind: str
) -> None:
    model = response_model(tiny_taxonomy, 3)
    with pytest.raises(ValidationError, match=kind):
        model.model_validate({"tags": ["llm"], "summary": summary}, context={"title": TITLE})


@pytest.mark.parametrize(("summary", "kind"), BROKEN)
def test_eval_compliance_counts_each_broken_class(summary: str, kind: str) -> None:
    check = compliance(summary)
    assert not check.ok
    assert any(kind in problem for problem in check.problems)


def paper(summary: str) -> TaggedPaper:
    return TaggedPaper(
        id="p1", title=TITLE, summary=summary, tags=["llm"], model="m", prompt="p@v1", source="s"
    )


def test_a_broken_summary_lowers_the_compliance_eval_reports() -> None:
    item = GoldItem(id="p1", title=TITLE, abstract="Some abstract.", tags=["llm"], summary="x")
    good = "Proposes a caching scheme that halves decoding latency."
    results = [score_paper(item, paper(text)) for text in (good, BROKEN[0][0])]
    assert [r.compliant for r in results] == [True, False]
    assert "LaTeX" in results[1].summary_problems[0]


@pytest.mark.parametrize(
    "summary",
    [
        "Proves ℓ_p subspace embedding bounds for p ≠ 2 using 𝒪(d log d) samples.",
        "Shows that, despite its size, the model matches larger ones on both tasks.",
        "Proposes I^3C, prompting LLMs to ignore irrelevant conditions in math word problems.",
        "Although simple, the method beats tuned baselines on five benchmarks.",
        "Shows that the US census data can be linked with 98% accuracy.",
    ],
)
def test_readable_summaries_pass(tiny_taxonomy: Taxonomy, summary: str) -> None:
    assert compliance(summary).ok
    model = response_model(tiny_taxonomy, 3)
    model.model_validate({"tags": ["llm"], "summary": summary}, context={"title": TITLE})


def test_every_gold_reference_summary_passes_the_rules() -> None:
    lines = (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    flagged = [
        (gold["summary"], check.problems)
        for gold in map(json.loads, lines)
        if not (check := compliance(gold["summary"], title=gold["title"])).ok
    ]
    assert flagged == []


# A phrase from each sample abstract whose old summary was broken.
SAMPLE_PHRASES = [
    "mathcal{O}(mathcal{C_Phi/m}",
    "for ell_p subspace embeddings for pneq 2",
    "{\\it no extra price}",
    "Obig(1{n}+minbig(big[sqrt{rank}",
    "which we call locally typical sampling",
    "where we have access to unlabeled data",
    "In this paper, we question whether",
    "Although large pre-trained models of code have delivered",
    "DSFormer, a simple alternative",
    "investigate the question of estimating",
    "what is to our knowledge the first",
    "indispensable part of natural language processing",
    "how we select exemplars can outweigh",
]


@pytest.mark.parametrize("phrase", SAMPLE_PHRASES)
def test_the_writer_no_longer_breaks_the_sample_abstracts(phrase: str) -> None:
    papers = [p for p in iter_papers([str(ROOT / "samples")]) if phrase in p.abstract]
    assert papers, f"no sample abstract contains {phrase!r}"
    summary = summarize(papers[0].title, papers[0].abstract)
    assert compliance(summary, title=papers[0].title).ok, summary


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "We propose and investigate the question of estimating means.",
            "Proposes and investigates the question of estimating means.",
        ),
        (
            "We propose what is to our knowledge the first model-agnostic measure.",
            "Proposes the first model-agnostic measure.",
        ),
        (
            "This work proposes, DSFormer, a simple factorization scheme.",
            "Proposes DSFormer, a simple factorization scheme.",
        ),
        (
            "We propose a procedure, which we call typical sampling.",
            "Proposes a procedure, called typical sampling.",
        ),
        (
            "We propose PQ Index and use this to develop a pruning algorithm.",
            "Proposes PQ Index and uses this to develop a pruning algorithm.",
        ),
        (
            "We propose a framework to interpret and evaluate the existing methods.",
            "Proposes a framework to interpret and evaluate the existing methods.",
        ),
    ],
)
def test_we_clauses_are_rewritten_grammatically(sentence: str, expected: str) -> None:
    assert rewrite_claim(sentence) == expected


def test_latex_becomes_readable_unicode() -> None:
    assert clean("Bounds for $\\ell_p$ embeddings, {\\it no extra price}.") == (
        "Bounds for ℓ_p embeddings, no extra price."
    )
    assert clean("can be {it misaligned} with pass@N") == "can be misaligned with pass@N"
