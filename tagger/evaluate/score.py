"""Gold + predictions -> one system's result: per-paper rows and the metrics the gate reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tagger.config.faithfulness import unsupported
from tagger.config.taxonomy import Taxonomy
from tagger.evaluate.gold import GoldItem, GoldSet
from tagger.evaluate.metrics import (
    BOOTSTRAP_LEVEL,
    BOOTSTRAP_RESAMPLES,
    ROUGE_TYPES,
    all_right,
    bootstrap_micro_f1,
    compliance,
    jaccard,
    mean,
    mean_pairwise_jaccard,
    ratio,
    rouge,
    tag_metrics,
)
from tagger.evaluate.models import Consistency, Interval, PaperResult, SystemResult
from tagger.records import TaggedPaper, Usage

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
    gold_sets, pred_sets = [set(p.gold_tags) for p in papers], [set(p.pred_tags) for p in papers]
    tags = tag_metrics(gold_sets, pred_sets, taxonomy.ids)
    spent = _spent_usages(gold, runs)
    metrics = {
        **_count_metrics(papers),
        **tags.model_dump(exclude={"per_tag"}),
        **_summary_metrics(papers),
        **_cost_metrics(papers, spent),
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
        micro_f1_ci=_micro_f1_interval(gold_sets, pred_sets),
        cost_unknown=_unpriced(gold, runs),
    )


def _micro_f1_interval(gold: list[set[str]], pred: list[set[str]]) -> Interval:
    low, high = bootstrap_micro_f1(gold, pred)
    return Interval(
        low=round(low, 6), high=round(high, 6), level=BOOTSTRAP_LEVEL, resamples=BOOTSTRAP_RESAMPLES
    )


def score_paper(
    item: GoldItem, record: TaggedPaper | None, repeats: Sequence[TaggedPaper | None] = ()
) -> PaperResult:
    """A failed or missing prediction counts as no tags and no summary."""
    ok = record is not None and record.status == "ok"
    tags = list(record.tags) if record is not None and ok else []
    summary = (record.summary or "") if record is not None and ok else ""
    check = compliance(summary, title=item.title)
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
        summary_problems=check.problems,
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
    """ROUGE only over papers with a reference summary; with none, ROUGE is left out (not
    measured), never reported as 0."""
    scored = [p.rouge for p in papers if p.rouge is not None]
    written = [p for p in papers if p.summary]
    rouge_means = {name: mean([r[name] for r in scored]) for name in ROUGE_TYPES} if scored else {}
    return {
        **rouge_means,
        "compliance": mean([float(p.compliant) for p in papers]),
        "one_sentence": mean([float(p.one_sentence) for p in papers]),
        "short_enough": mean([float(p.short_enough) for p in papers]),
        "unfaithful_rate": ratio(sum(bool(p.unsupported) for p in written), len(written)),
    }


def _run_one_usages(papers: Sequence[PaperResult]) -> list[Usage]:
    return [p.usage for p in papers if p.usage is not None]


def _spent_usages(gold: GoldSet, runs: Sequence[Predictions]) -> list[Usage]:
    """What every run paid now, failed papers and --repeats runs included; cache hits paid 0."""
    records = [run.get(item.id) for run in runs for item in gold.items]
    return [r.usage for r in records if r is not None and r.usage is not None and not r.cached]


def _unpriced(gold: GoldSet, runs: Sequence[Predictions]) -> int:
    records = [run.get(item.id) for run in runs for item in gold.items]
    return sum(r is not None and r.usage is not None and r.usage.cost_usd is None for r in records)


def _cost_metrics(papers: Sequence[PaperResult], spent: Sequence[Usage]) -> dict[str, float]:
    """Per-paper means over run 1's papers with usage (failed ones too); cached answers carry
    what they cost when made. A cost litellm could not price leaves that metric out (a sum that
    skipped it would understate the spend); a rerun served from the cache spent a known $0."""
    usages = _run_one_usages(papers)
    tokens = {
        "prompt_tokens_per_paper": mean([u.prompt_tokens for u in usages]),
        "completion_tokens_per_paper": mean([u.completion_tokens for u in usages]),
    }
    costs: list[float | None] = [u.cost_usd for u in usages]
    spent_costs: list[float | None] = [u.cost_usd for u in spent]
    latency = {"latency_s_per_paper": mean([u.latency_s for u in usages])}
    known = [c for c in costs if c is not None]
    paid = [c for c in spent_costs if c is not None]
    cost: dict[str, float] = {}
    if len(known) == len(costs):
        cost.update(cost_usd_per_paper=mean(known), cost_usd_total=sum(known))
    if len(paid) == len(spent_costs):  # nothing called (all cached) is a known $0
        cost["cost_usd_spent"] = sum(paid)
    return {**tokens, **cost, **latency}


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
