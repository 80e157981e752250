"""Pure scorers: tag-set metrics, agreement across repeats, summary compliance and ROUGE.

Conventions (stated once, used everywhere): a ratio with a zero denominator is 0.0; two empty tag
sets agree perfectly (Jaccard 1.0, exact match); macro F1 averages over every tag that occurs in
the gold sets or in the predictions, so a tag outside the taxonomy counts as a wrong prediction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from collections.abc import Set as AbstractSet
from functools import cache
from itertools import combinations
from typing import Any

from pydantic import BaseModel

from tagger.config.summary_rules import summary_problems
from tagger.embedded.sentences import split_sentences

MAX_SUMMARY_CHARS = 160
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_LEVEL = 0.95

TagSet = AbstractSet[str]


class TagScore(BaseModel):
    tag: str
    support: int  # gold papers with the tag
    predicted: int  # papers the system gave the tag
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    in_taxonomy: bool = True


class TagMetrics(BaseModel):
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_f1: float
    exact_match: float
    mean_jaccard: float
    per_tag: list[TagScore]


class Compliance(BaseModel):
    one_sentence: bool
    short_enough: bool
    problems: list[str] = []  # why it reads as broken (tagger.config.summary_rules)

    @property
    def ok(self) -> bool:
        return self.one_sentence and self.short_enough and not self.problems


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def mean(values: Sequence[float]) -> float:
    return ratio(sum(values), len(values))


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1 from counts."""
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return precision, recall, ratio(2 * precision * recall, precision + recall)


def jaccard(gold: TagSet, pred: TagSet) -> float:
    if not gold and not pred:
        return 1.0
    return len(gold & pred) / len(gold | pred)


def tag_metrics(
    gold: Sequence[TagSet], pred: Sequence[TagSet], known: Collection[str]
) -> TagMetrics:
    """Multi-label scores over papers; gold[i] and pred[i] are one paper's tag sets."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sets but {len(pred)} predictions")
    tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
    for g, p in zip(gold, pred, strict=True):
        tp.update(g & p)
        fp.update(p - g)
        fn.update(g - p)
    per_tag = [_tag_score(t, tp[t], fp[t], fn[t], t in known) for t in _tags_seen(gold, pred)]
    micro = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return TagMetrics(
        micro_precision=micro[0],
        micro_recall=micro[1],
        micro_f1=micro[2],
        macro_f1=mean([s.f1 for s in per_tag]),
        exact_match=mean([float(g == p) for g, p in zip(gold, pred, strict=True)]),
        mean_jaccard=mean([jaccard(g, p) for g, p in zip(gold, pred, strict=True)]),
        per_tag=per_tag,
    )


def _tags_seen(gold: Sequence[TagSet], pred: Sequence[TagSet]) -> list[str]:
    return sorted(set().union(*gold, *pred))


def _tag_score(tag: str, tp: int, fp: int, fn: int, in_taxonomy: bool) -> TagScore:
    precision, recall, f1 = prf(tp, fp, fn)
    return TagScore(
        tag=tag,
        support=tp + fn,
        predicted=tp + fp,
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=f1,
        in_taxonomy=in_taxonomy,
    )


def bootstrap_micro_f1(
    gold: Sequence[TagSet],
    pred: Sequence[TagSet],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = BOOTSTRAP_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of micro-F1 over papers (resampled with replacement).

    The seed is fixed so the same predictions always give the same interval.
    """
    import numpy as np  # only when a report is scored

    if not gold:
        return 0.0, 0.0
    counts = np.array(
        [(len(g & p), len(p - g), len(g - p)) for g, p in zip(gold, pred, strict=True)],
        dtype=np.int64,
    )
    picks = np.random.default_rng(seed).integers(0, len(counts), (resamples, len(counts)))
    tp, fp, fn = counts[picks].sum(axis=1).T
    denominator = 2 * tp + fp + fn  # micro-F1 = 2tp / (2tp + fp + fn); 0 when nothing is there
    f1 = np.divide(2 * tp, denominator, out=np.zeros(resamples), where=denominator > 0)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(f1, [tail, 100 - tail])
    return float(low), float(high)


def mean_pairwise_jaccard(runs: Sequence[TagSet]) -> float:
    """How alike one paper's tag sets are across repeated runs (1.0 for fewer than two runs)."""
    pairs = list(combinations(runs, 2))
    return mean([jaccard(a, b) for a, b in pairs]) if pairs else 1.0


def all_right(gold: TagSet, runs: Sequence[TagSet]) -> bool:
    """pass^N for one paper: every one of the N runs gave exactly the gold set."""
    return bool(runs) and all(set(run) == set(gold) for run in runs)


def compliance(
    summary: str, max_chars: int = MAX_SUMMARY_CHARS, title: str | None = None
) -> Compliance:
    """The house rule for summaries: one sentence on one line, at most `max_chars` characters,
    and none of the problems the response model's validator re-asks for."""
    text = summary.strip()
    one = bool(text) and "\n" not in text and len(split_sentences(text)) == 1
    return Compliance(
        one_sentence=one,
        short_enough=bool(text) and len(text) <= max_chars,
        problems=summary_problems(text, title) if text else [],
    )


def rouge(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures (stemmed), as rouge-score computes them."""
    scores = _scorer().score(reference, prediction)
    return {name: float(scores[name].fmeasure) for name in ROUGE_TYPES}


@cache
def _scorer() -> Any:
    from rouge_score import rouge_scorer  # imports nltk: only when summaries are scored

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
