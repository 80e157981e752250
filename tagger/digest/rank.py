"""The order inside a section, and the score `--top` keeps the best of (docs/digest.md#ranking).

score = similarity to the reader's interests (0..1) when an interests file is given, else the
source's popularity (Hugging Face upvotes) when the paper has one, else 0. Ties go to the more
upvoted paper, then the newer date, then input order. Runs do not record a per-tag fit score, so
there is none to rank by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from tagger.digest.models import Entry
from tagger.errors import InputError
from tagger.records import TaggedPaper

Scores = Mapping[str, float]


def paper_score(paper: TaggedPaper, interests: Scores | None) -> float:
    if interests is not None:
        return interests.get(paper.id, 0.0)
    return float(paper.upvotes or 0)


def ranked(entries: Sequence[Entry]) -> list[Entry]:
    """Best first; Python's sort is stable, so sorting by the weakest key first composes them."""
    by_date = sorted(entries, key=lambda e: e.date or "", reverse=True)
    return sorted(by_date, key=lambda e: (e.score, e.upvotes or 0), reverse=True)


def read_interests(path: str | Path) -> list[str]:
    """The reader's interests: one title, abstract or keyword list per non-blank line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the interests file ({exc}).", path=str(path)) from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError(
            "the interests file is empty.",
            path=str(path),
            hint="Put one title, abstract or keyword list a reader likes on each line.",
        )
    return lines


def interest_scores(papers: Sequence[TaggedPaper], interests: Sequence[str]) -> dict[str, float]:
    """Each paper's best TF-IDF cosine similarity to any interest line (title + summary)."""
    if not papers:
        return {}
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    docs = [f"{p.title} {p.summary or ''}" for p in papers]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    matrix = vectorizer.fit_transform([*docs, *interests])
    similarity = cosine_similarity(matrix[: len(docs)], matrix[len(docs) :])
    return {p.id: round(float(row.max()), 4) for p, row in zip(papers, similarity, strict=True)}
