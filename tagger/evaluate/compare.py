"""Two systems on the same gold set, side by side: metric deltas and per-paper wins and losses."""

from __future__ import annotations

from tagger.evaluate.models import Comparison, PaperDiff, PaperResult, SystemResult

_EPSILON = 1e-9  # Jaccard values closer than this are a tie


def compare(a: SystemResult, b: SystemResult) -> Comparison:
    """A against B paper by paper (by Jaccard with the gold tags); deltas are B minus A."""
    b_papers = {p.id: p for p in b.papers}
    pairs = [(pa, b_papers[pa.id]) for pa in a.papers if pa.id in b_papers]
    winners = [_winner(pa, pb) for pa, pb in pairs]
    return Comparison(
        a=a.label,
        b=b.label,
        wins=winners.count("a"),
        losses=winners.count("b"),
        ties=winners.count("tie"),
        deltas={k: round(b.metrics[k] - v, 6) for k, v in a.metrics.items() if k in b.metrics},
        diffs=[
            _diff(pa, pb, w)
            for (pa, pb), w in zip(pairs, winners, strict=True)
            if set(pa.pred_tags) != set(pb.pred_tags)
        ],
    )


def _winner(a: PaperResult, b: PaperResult) -> str:
    if abs(a.jaccard - b.jaccard) < _EPSILON:
        return "tie"
    return "a" if a.jaccard > b.jaccard else "b"


def _diff(a: PaperResult, b: PaperResult, winner: str) -> PaperDiff:
    return PaperDiff.model_validate(
        {
            "id": a.id,
            "title": a.title,
            "gold_tags": a.gold_tags,
            "a_tags": a.pred_tags,
            "b_tags": b.pred_tags,
            "a_jaccard": a.jaccard,
            "b_jaccard": b.jaccard,
            "winner": winner,
        }
    )
