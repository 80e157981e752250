"""The matching form of text: spellings of one title or abstract normalize to one string."""

from __future__ import annotations

import pytest

from tagger.normalize import collapse_whitespace, normalize_text


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
