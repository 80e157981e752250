"""The matching form of text: spellings of one title or abstract normalize to one string."""

from __future__ import annotations

import pickle

import pytest

from tagger.normalize import collapse_whitespace, normalize_text
from tagger.records import Paper


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        (
            [
                r"Sharper Bounds for $\ell_p$ Sensitivity Sampling",
                "Sharper Bounds for ell_p Sensitivity Sampling",
            ],
            "sharper bounds for ell p sensitivity sampling",
        ),
        (
            [
                r"A \textbf{bold} claim",
                r"A {\em bold} claim",
                r"A \emph{bold} claim",
                "A bold claim",
            ],
            "a bold claim",
        ),
        (
            [r"Runs in $O(n^2)$ time", "Runs in O(n^{2}) time", "runs in o n 2 time"],
            "runs in o n 2 time",
        ),
        ([r"bound $\mathcal{O}(n)$", "bound mathcal{O}(n)", r"bound \mathbf{O}(n)"], "bound o n"),
        ([r"k\leq 10", "kleq 10"], "kleq 10"),  # what pages show after stripping backslashes
        ([r"Schr\"odinger", r"Schr{\"o}dinger", r"Schr\"{o}dinger", "Schrödinger"], "schrodinger"),
        ([r"\v{C}ech", "Čech", "Cech"], "cech"),
        (["ﬁne-tuning", "Ｆｉｎｅ—Tuning", "FINE TUNING", "fine_tuning"], "fine tuning"),
        (
            ["  Multiple\n\nlines\tand   SPACES!! ", "multiple lines and spaces"],
            "multiple lines and spaces",
        ),
        ([r"Q\&A, 50\% off", "Q&A, 50% off"], "q a 50 off"),
    ],
)
def test_spellings_of_the_same_text_normalize_alike(variants: list[str], expected: str) -> None:
    assert {normalize_text(v) for v in variants} == {expected}


def test_non_latin_scripts_are_kept() -> None:
    assert normalize_text("Über α-stable 数据 — naïve") == "uber α stable 数据 naive"


def test_different_texts_stay_different() -> None:
    assert normalize_text("Learning to rank") != normalize_text("Learning to rank items")
    assert normalize_text(r"$\alpha$-divergence") != normalize_text(r"$\beta$-divergence")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        r"Sharper $\ell_p$",
        "Schrödinger’s ﬁnite Ｔｅｘｔ",
        r"\textbf{x} {\em y}",
        "数据 α",
    ],
)
def test_normalization_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert once == once.strip() and "  " not in once


def test_collapse_whitespace_keeps_case_and_punctuation() -> None:
    assert collapse_whitespace("  Attention Is\n  All You\tNeed! ") == "Attention Is All You Need!"


def test_a_papers_matching_form_is_made_once_and_follows_its_text() -> None:
    """Dedup, the cache key and the store key read `Paper.matching`: it must equal
    normalize_text of the paper's own text, also after a copy that changes the text, and a
    pickled paper (dedup's spill, worker processes) carries no stale copy of it."""
    paper = Paper(id="p", title="Über \\textbf{Nets}", abstract="A  $\\ell_p$ b", source="s:1")
    assert paper.matching == (normalize_text(paper.title), normalize_text(paper.abstract))
    assert paper.matching is paper.matching  # made once
    assert paper.model_copy(update={"url": "https://x"}).matching is paper.matching
    assert paper.model_copy(update={"title": "Other Nets"}).matching[0] == "other nets"
    assert paper.model_copy(update={"abstract": "New."}).matching[1] == "new"
    restored = pickle.loads(pickle.dumps(paper))
    assert "matching" not in restored.__dict__
    assert restored == paper and restored.matching == paper.matching
    assert "matching" not in paper.model_dump() and "matching" not in paper.model_dump_json()


def test_collapse_whitespace_fast_path_agrees_with_split_and_join() -> None:
    """Text that is already collapsed is returned as is without a split; every other text is
    collapsed exactly as " ".join(text.split()) would (Unicode and ASCII control spaces too)."""
    import random

    rng = random.Random(1)
    alphabet = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2003ab"
    texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(20000)]
    texts += [f"a{chr(c)}b" for c in range(256)] + [f"{chr(c)}a" for c in range(256)]
    for text in texts:
        assert collapse_whitespace(text) == " ".join(text.split()), repr(text)
