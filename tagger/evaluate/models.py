"""The eval report as data: what `-o REPORT.json` holds and what `--baseline` reads back."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tagger.evaluate.metrics import TagScore
from tagger.records import Usage

# Every metric a report can hold, in display order (REPEAT_METRICS need --repeats N>1).
METRIC_NAMES = (
    "micro_f1 micro_precision micro_recall macro_f1 exact_match mean_jaccard"
    " rouge1 rouge2 rougeL compliance one_sentence short_enough unfaithful_rate"
    " pass_hat_n pairwise_jaccard agreement"
    " prompt_tokens_per_paper completion_tokens_per_paper cost_usd_per_paper latency_s_per_paper"
    " cost_usd_total cost_usd_spent papers failed cached"
).split()
REPEAT_METRICS = frozenset({"pass_hat_n", "pairwise_jaccard", "agreement"})

# Metrics where a smaller number is better; every other metric is better when larger.
LOWER_IS_BETTER = frozenset(
    {
        "failed",
        "unfaithful_rate",
        "prompt_tokens_per_paper",
        "completion_tokens_per_paper",
        "cost_usd_per_paper",
        "latency_s_per_paper",
        "cost_usd_total",
        "cost_usd_spent",
    }
)


class PaperResult(BaseModel):
    """One gold paper as one system saw it."""

    id: str
    title: str
    gold_tags: list[str]
    pred_tags: list[str]
    jaccard: float
    exact: bool
    reference: str
    summary: str
    rouge: dict[str, float] | None = Field(description="None when the gold has no summary")
    one_sentence: bool
    short_enough: bool
    summary_problems: list[str] = Field(
        default_factory=list,
        description="why the summary reads as broken (tagger.config.summary_rules)",
    )
    unsupported: list[str] = Field(description="numbers/names the title+abstract do not contain")
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None
    cached: bool = False
    usage: Usage | None = None
    repeat_tags: list[list[str]] = Field(default_factory=list, description="runs 2..N (--repeats)")

    @property
    def compliant(self) -> bool:
        return self.one_sentence and self.short_enough and not self.summary_problems

    @property
    def correct(self) -> list[str]:
        return [t for t in self.pred_tags if t in self.gold_tags]

    @property
    def missed(self) -> list[str]:
        return [t for t in self.gold_tags if t not in self.pred_tags]

    @property
    def extra(self) -> list[str]:
        return [t for t in self.pred_tags if t not in self.gold_tags]


class Consistency(BaseModel):
    repeats: int
    pass_hat_n: float = Field(description="share of papers whose N runs were all exactly right")
    mean_pairwise_jaccard: float
    agreement: float = Field(description="share of papers whose N runs gave the same tag set")
    unstable: list[str] = Field(description="ids of papers whose runs disagreed")


class Interval(BaseModel):
    """A bootstrap confidence interval over papers."""

    low: float
    high: float
    level: float = Field(description="e.g. 0.95 for a 95% interval")
    resamples: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


class SystemResult(BaseModel):
    """One model + prompt on the gold set."""

    label: str
    model: str
    prompt: str
    max_tags: int
    predictions: str = Field(description="the predictions log (JSONL) this was scored from")
    metrics: dict[str, float]
    per_tag: list[TagScore]
    papers: list[PaperResult]
    consistency: Consistency | None = None
    micro_f1_ci: Interval | None = Field(
        default=None, description="bootstrap interval of micro_f1 over papers (None: old report)"
    )
    cost_unknown: int = Field(
        default=0,
        description="answers whose cost litellm could not price; cost metrics are then left out",
    )

    @property
    def failed(self) -> list[PaperResult]:
        return [p for p in self.papers if p.status == "failed"]


class PaperDiff(BaseModel):
    id: str
    title: str
    gold_tags: list[str]
    a_tags: list[str]
    b_tags: list[str]
    a_jaccard: float
    b_jaccard: float
    winner: Literal["a", "b", "tie"]


class Comparison(BaseModel):
    a: str
    b: str
    wins: int = Field(description="papers where A's tags are closer to gold (Jaccard)")
    losses: int
    ties: int
    deltas: dict[str, float] = Field(description="B minus A, per metric")
    diffs: list[PaperDiff] = Field(description="papers where A and B gave different tags")


class GateCheck(BaseModel):
    metric: str
    baseline: float
    current: float
    drop: float = Field(
        description="baseline minus current (current minus baseline for lower-is-better "
        "metrics): positive is worse, negative better"
    )
    failed: bool


class Gate(BaseModel):
    baseline: str
    max_drop: float
    checks: list[GateCheck]
    warnings: list[str] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(c.failed for c in self.checks)


class GoldInfo(BaseModel):
    path: str
    papers: int
    hash: str
    split: str = "all"  # dev, test or all (reports older than the split: all)


class TaxonomyInfo(BaseModel):
    name: str
    path: str
    hash: str


class EvalReport(BaseModel):
    format: Literal["tagger-eval/1"] = "tagger-eval/1"
    tagger_version: str
    created_at: str
    gold: GoldInfo
    taxonomy: TaxonomyInfo
    systems: list[SystemResult] = Field(min_length=1, description="A, then B with --compare")
    comparison: Comparison | None = None
    gate: Gate | None = None
    notes: list[str] = Field(default_factory=list, description="warnings met while evaluating")
