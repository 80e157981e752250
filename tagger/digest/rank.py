"""The order inside a section, and the score `--top` keeps the best of (docs/digest.md#ranking).

score = similarity to the reader's interests (0..1) when an interests file is given, else the
source's popularity (Hugging Face upvotes) when the paper has one, else 0. Ties go to the more
upvoted paper, then to the paper that fits the section better (TF-IDF similarity of its title and
summary to the section's tag labels and descriptions), then the newer date, then input order.
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


def ranked(entries: Sequence[Entry], fit: Scores | None = None) -> list[Entry]:
    """Best first; Python's sort is stable, so sorting by the weakest key first composes them.
    `fit`: each entry's fit to this section (section_fit), the tiebreak before the date."""
    by_date = sorted(entries, key=lambda e: e.date or "", reverse=True)
    by_fit = sorted(by_date, key=lambda e: (fit or {}).get(e.id, 0.0), reverse=True)
    return sorted(by_fit, key=lambda e: (e.score, e.upvotes or 0), reverse=True)


def section_fit(
    texts: Mapping[str, str], sections: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """For each section, each paper's TF-IDF cosine similarity to the section's text (its tags'
    labels and descriptions): how well the paper fits there. `texts`: paper id -> title and
    summary; `sections`: section key -> text. One vocabulary over all of them."""
    if not texts or not sections:
        return {key: {} for key in sections}
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    ids, keys = list(texts), list(sections)
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform([*texts.values(), *sections.values()])
    except ValueError:  # nothing but stop words: no fit to tell apart
        return {key: {} for key in keys}
    similarity = cosine_similarity(matrix[len(ids) :], matrix[: len(ids)])
    return {
        key: {pid: round(float(v), 4) for pid, v in zip(ids, row, strict=True)}
        for key, row in zip(keys, similarity, strict=True)
    }


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
