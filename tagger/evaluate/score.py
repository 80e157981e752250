"""Gold + predictions -> one system's result: per-paper rows and the metrics the gate reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from tagger.evaluate.faithfulness import unsupported
from tagger.evaluate.gold import GoldItem, GoldSet
from tagger.evaluate.metrics import (
    ROUGE_TYPES,
    all_right,
    compliance,
    jaccard,
    mean,
    mean_pairwise_jaccard,
    ratio,
    rouge,
    tag_metrics,
)
from tagger.evaluate.models import Consistency, PaperResult, SystemResult
from tagger.records import TaggedPaper
from tagger.taxonomy import Taxonomy

Predictions = Mapping[str, TaggedPaper]  # gold id -> the record a run wrote for it
MISSING = "no prediction for this paper in the predictions log."


def score_system(
    gold: GoldSet,
    taxonomy: Taxonomy,
    runs: Sequence[Predictions],
    *,
    label: str,
    model: str,
    prompt: str,
    max_tags: int,
    predictions: str,
) -> SystemResult:
    """Score run 1 (tags, summaries, cost); runs 2..N only feed the consistency numbers."""
    papers = [
        score_paper(item, runs[0].get(item.id), [run.get(item.id) for run in runs[1:]])
        for item in gold.items
    ]
    tags = tag_metrics(
        [set(p.gold_tags) for p in papers], [set(p.pred_tags) for p in papers], taxonomy.ids
    )
    metrics = {
        **_count_metrics(papers),
        **tags.model_dump(exclude={"per_tag"}),
        **_summary_metrics(papers),
        **_cost_metrics(papers),
    }
    consistency = _consistency(papers, len(runs)) if len(runs) > 1 else None
    if consistency is not None:
        metrics["pass_hat_n"] = consistency.pass_hat_n
        metrics["pairwise_jaccard"] = consistency.mean_pairwise_jaccard
        metrics["agreement"] = consistency.agreement
    return SystemResult(
        label=label,
        model=model,
        prompt=prompt,
        max_tags=max_tags,
        predictions=predictions,
        metrics={k: round(v, 6) for k, v in metrics.items()},
        per_tag=tags.per_tag,
        papers=papers,
        consistency=consistency,
    )


def score_paper(
    item: GoldItem, record: TaggedPaper | None, repeats: Sequence[TaggedPaper | None] = ()
) -> PaperResult:
    """A failed or missing prediction counts as no tags and no summary."""
    ok = record is not None and record.status == "ok"
    tags = list(record.tags) if record is not None and ok else []
    summary = (record.summary or "") if record is not None and ok else ""
    check = compliance(summary)
    gold_set, pred_set = set(item.tags), set(tags)
    return PaperResult(
        id=item.id,
        title=item.title,
        gold_tags=list(item.tags),
        pred_tags=tags,
        jaccard=jaccard(gold_set, pred_set),
        exact=gold_set == pred_set,
        reference=item.summary,
        summary=summary,
        rouge=_rouge(summary, item.summary),
        one_sentence=check.one_sentence,
        short_enough=check.short_enough,
        unsupported=unsupported(summary, f"{item.title}\n{item.abstract}") if summary else [],
        status="ok" if ok else "failed",
        error=None if ok else (record.error if record is not None else MISSING),
        cached=record.cached if record is not None else False,
        usage=record.usage if record is not None else None,
        repeat_tags=[list(r.tags) if r is not None and r.status == "ok" else [] for r in repeats],
    )


def _rouge(summary: str, reference: str) -> dict[str, float] | None:
    if not reference.strip():
        return None
    if not summary.strip():
        return dict.fromkeys(ROUGE_TYPES, 0.0)
    return rouge(summary, reference)


def _count_metrics(papers: Sequence[PaperResult]) -> dict[str, float]:
    return {
        "papers": float(len(papers)),
        "failed": float(sum(p.status == "failed" for p in papers)),
        "cached": float(sum(p.cached for p in papers)),
    }


def _summary_metrics(papers: Sequence[PaperResult]) -> dict[str, float]:
    scored = [p.rouge for p in papers if p.rouge is not None]
    written = [p for p in papers if p.summary]
    return {
        **{name: mean([r[name] for r in scored]) for name in ROUGE_TYPES},
        "compliance": mean([float(p.one_sentence and p.short_enough) for p in papers]),
        "one_sentence": mean([float(p.one_sentence) for p in papers]),
        "short_enough": mean([float(p.short_enough) for p in papers]),
        "unfaithful_rate": ratio(sum(bool(p.unsupported) for p in written), len(written)),
    }


def _cost_metrics(papers: Sequence[PaperResult]) -> dict[str, float]:
    """Per-paper means over papers with usage; cached answers carry what they cost when made."""
    usages = [p.usage for p in papers if p.usage is not None]
    spent = [p.usage.cost_usd for p in papers if p.usage is not None and not p.cached]
    return {
        "prompt_tokens_per_paper": mean([u.prompt_tokens for u in usages]),
        "completion_tokens_per_paper": mean([u.completion_tokens for u in usages]),
        "cost_usd_per_paper": _known(mean, [u.cost_usd for u in usages]),
        "latency_s_per_paper": mean([u.latency_s for u in usages]),
        "cost_usd_total": _known(sum, [u.cost_usd for u in usages]),
        "cost_usd_spent": _known(sum, spent),
    }


def _known(reduce: Callable[[list[float]], float], costs: list[float | None]) -> float:
    """Unknown prices (None) count as 0 here until eval reports can carry "unknown"
    (their metric fields are floats, and saved baselines must still load)."""
    return reduce([c or 0.0 for c in costs])


def _consistency(papers: Sequence[PaperResult], repeats: int) -> Consistency:
    runs = {p.id: [set(p.pred_tags), *map(set, p.repeat_tags)] for p in papers}
    same = {pid: all(r == sets[0] for r in sets) for pid, sets in runs.items()}
    return Consistency(
        repeats=repeats,
        pass_hat_n=mean([float(all_right(set(p.gold_tags), runs[p.id])) for p in papers]),
        mean_pairwise_jaccard=mean([mean_pairwise_jaccard(runs[p.id]) for p in papers]),
        agreement=mean([float(v) for v in same.values()]),
        unstable=[pid for pid, v in same.items() if not v],
    )
