"""Scoring predictions against gold, comparing two systems, and the baseline gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.config.taxonomy import Taxonomy
from tagger.errors import ConfigError
from tagger.evaluate import gate
from tagger.evaluate.compare import compare
from tagger.evaluate.gold import GoldItem, GoldSet
from tagger.evaluate.models import EvalReport, GoldInfo, SystemResult, TaxonomyInfo
from tagger.evaluate.report import to_json, to_markdown
from tagger.evaluate.score import MISSING, score_system
from tagger.records import TaggedPaper, Usage


def item(pid: str, tags: list[str], abstract: str, summary: str) -> GoldItem:
    return GoldItem(
        id=pid, title=f"T{pid[1:]}", abstract=abstract, tags=tags, summary=summary, source="g"
    )


GOLD = GoldSet(
    "gold.jsonl",
    [
        item("p1", ["diffusion"], "Diffusion for 20 steps.", "Cuts diffusion to 20 steps."),
        item("p2", ["llm", "robotics"], "Robots use LLMs.", "Robots plan with language models."),
        item("p3", ["llm"], "Language models scale.", "Language models scale."),
    ],
)


def record(
    pid: str, tags: list[str], summary: str | None = "Does something.", **extra: object
) -> TaggedPaper:
    fields = {"model": "m", "prompt": "p@v1", "source": "s", **extra}
    return TaggedPaper.model_validate(
        {"id": pid, "title": pid, "summary": summary, "tags": tags, **fields}
    )


def tags_run(**tags: list[str]) -> dict[str, TaggedPaper]:
    return {pid: record(pid, t) for pid, t in tags.items()}


def system(
    tiny_taxonomy: Taxonomy, *runs: dict[str, TaggedPaper], label: str = "A"
) -> SystemResult:
    return score_system(
        GOLD,
        tiny_taxonomy,
        list(runs),
        label=label,
        model="m",
        prompt="p@v1",
        max_tags=3,
        predictions="log.jsonl",
    )


def test_failed_and_missing_papers_count_as_empty_and_are_listed(tiny_taxonomy: Taxonomy) -> None:
    run = {
        "p1": record("p1", ["diffusion"], "Cuts diffusion to 20 steps."),
        "p2": record("p2", [], None, status="failed", error="invalid output after 3 attempts"),
    }
    result = system(tiny_taxonomy, run)
    assert [(p.id, p.error) for p in result.failed] == [
        ("p2", "invalid output after 3 attempts"),
        ("p3", MISSING),
    ]
    assert result.metrics["failed"] == 2
    assert result.metrics["micro_recall"] == pytest.approx(1 / 4)  # 1 of 4 gold tags found
    assert result.metrics["micro_precision"] == 1.0
    p2 = result.papers[1]
    assert p2.pred_tags == [] and p2.summary == ""
    assert p2.rouge == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    assert result.papers[0].rouge == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}


def test_summary_checks_per_paper(tiny_taxonomy: Taxonomy) -> None:
    run = {
        "p1": record("p1", ["diffusion"], "Cuts diffusion to 50 steps at OpenAI."),
        "p2": record("p2", ["llm"], "Robots plan. They use language models."),
        "p3": record("p3", ["llm"], "Language models scale."),
    }
    result = system(tiny_taxonomy, run)
    assert result.papers[0].unsupported == ["50", "OpenAI"]
    assert result.metrics["unfaithful_rate"] == pytest.approx(1 / 3)
    assert result.papers[1].one_sentence is False
    assert result.metrics["compliance"] == pytest.approx(2 / 3)


def test_cost_uses_the_original_usage_of_cached_answers(tiny_taxonomy: Taxonomy) -> None:
    fresh = Usage(prompt_tokens=100, completion_tokens=20, cost_usd=0.01, latency_s=1.0, calls=1)
    old = Usage(prompt_tokens=300, completion_tokens=40, cost_usd=0.03, latency_s=3.0)
    run = {
        "p1": record("p1", ["diffusion"], usage=fresh.model_dump()),
        "p2": record("p2", ["llm"], usage=old.model_dump(), cached=True),
    }
    m = system(tiny_taxonomy, run).metrics
    assert m["prompt_tokens_per_paper"] == 200 and m["completion_tokens_per_paper"] == 30
    assert m["cost_usd_per_paper"] == pytest.approx(0.02)
    assert m["latency_s_per_paper"] == pytest.approx(2.0)
    assert m["cost_usd_total"] == pytest.approx(0.04)
    assert m["cost_usd_spent"] == pytest.approx(0.01)  # the cached answer cost nothing now
    assert m["cached"] == 1


def test_spend_counts_every_repeat_and_failed_papers(tiny_taxonomy: Taxonomy) -> None:
    paid = Usage(prompt_tokens=100, completion_tokens=20, cost_usd=0.01, calls=1).model_dump()
    failed = {"status": "failed", "error": "invalid output after 3 attempts", "usage": paid}
    first = {
        "p1": record("p1", ["diffusion"], usage=paid),
        "p2": record("p2", [], None, **failed),
    }
    second = {
        "p1": record("p1", ["diffusion"], usage=paid),
        "p2": record("p2", ["llm"], usage=paid),
    }
    m = system(tiny_taxonomy, first, second).metrics
    assert m["cost_usd_spent"] == pytest.approx(0.04)  # 2 papers x 2 runs, the failed one too


def test_a_cost_litellm_cannot_price_is_unknown_not_zero(tiny_taxonomy: Taxonomy) -> None:
    unpriced = Usage.model_construct(**{**Usage().model_dump(), "cost_usd": None, "calls": 1})
    run = {"p1": record("p1", ["diffusion"], usage=unpriced), "p2": record("p2", ["llm"])}
    result = system(tiny_taxonomy, run)
    assert "cost_usd_total" not in result.metrics and result.cost_unknown == 1
    text = to_markdown(make_report(result))
    assert "| cost_usd_total | unknown |" in text and "$0.0000" not in text
    with pytest.raises(ConfigError, match="the cost of this run is unknown"):
        gate.check(make_report(result), make_report(result), "b.json", ["cost_usd_total"])


def test_repeats_give_pass_hat_n_and_agreement(tiny_taxonomy: Taxonomy) -> None:
    first = tags_run(p1=["diffusion"], p2=["llm", "robotics"], p3=["llm"])
    second = tags_run(p1=["diffusion"], p2=["llm"], p3=["llm"])
    result = system(tiny_taxonomy, first, second)
    assert result.metrics["exact_match"] == 1.0  # run 1 alone is perfect
    assert result.consistency is not None
    assert result.consistency.unstable == ["p2"]
    assert result.metrics["pass_hat_n"] == pytest.approx(2 / 3)
    assert result.metrics["pairwise_jaccard"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert result.metrics["agreement"] == pytest.approx(2 / 3)
    assert result.consistency.agreement == pytest.approx(2 / 3)
    assert result.papers[1].repeat_tags == [["llm"]]


def test_compare_counts_wins_losses_ties_and_lists_differences(tiny_taxonomy: Taxonomy) -> None:
    a = system(tiny_taxonomy, tags_run(p1=["diffusion"], p2=["llm"], p3=["llm"]))
    b_run = tags_run(p1=["robotics"], p2=["llm", "robotics"], p3=["llm"])
    b = system(tiny_taxonomy, b_run, label="B")
    c = compare(a, b)
    assert (c.wins, c.losses, c.ties) == (1, 1, 1)
    assert [(d.id, d.winner) for d in c.diffs] == [("p1", "a"), ("p2", "b")]
    assert c.deltas["micro_f1"] == pytest.approx(b.metrics["micro_f1"] - a.metrics["micro_f1"])
    report = make_report(a, b)
    report.comparison = c
    text = to_markdown(report)
    assert "## Papers where the tags differ" in text
    assert "| p1 | T1 | diffusion | ✓diffusion | ✗robotics −diffusion | A |" in text
    assert "A better on 1, B better on 1, tied on 1" in text


def make_report(*systems: SystemResult, gold_hash: str = "h1") -> EvalReport:
    return EvalReport(
        tagger_version="0",
        created_at="now",
        gold=GoldInfo(path="gold.jsonl", papers=3, hash=gold_hash),
        taxonomy=TaxonomyInfo(name="tiny", path="t.yaml", hash="t1"),
        systems=list(systems),
    )


def with_metrics(tiny_taxonomy: Taxonomy, **metrics: float) -> EvalReport:
    base = system(tiny_taxonomy, {})
    return make_report(base.model_copy(update={"metrics": {**base.metrics, **metrics}}))


def test_gate_fails_only_beyond_max_drop(tiny_taxonomy: Taxonomy) -> None:
    baseline = with_metrics(tiny_taxonomy, micro_f1=0.60, rouge1=0.40)
    slightly_worse = with_metrics(tiny_taxonomy, micro_f1=0.59, rouge1=0.30)
    result = gate.check(slightly_worse, baseline, "b.json", ["micro_f1"], 0.02)
    assert result.passed and result.checks[0].drop == pytest.approx(0.01)
    result = gate.check(slightly_worse, baseline, "b.json", ["micro_f1", "rouge1"], 0.02)
    assert not result.passed
    assert [c.metric for c in result.checks if c.failed] == ["rouge1"]
    at_limit = with_metrics(tiny_taxonomy, micro_f1=0.58)
    assert gate.check(at_limit, baseline, "b.json", ["micro_f1"], 0.02).passed


def test_gate_on_a_lower_is_better_metric(tiny_taxonomy: Taxonomy) -> None:
    baseline = with_metrics(tiny_taxonomy, unfaithful_rate=0.10)
    worse = with_metrics(tiny_taxonomy, unfaithful_rate=0.20)
    better = with_metrics(tiny_taxonomy, unfaithful_rate=0.0)
    assert not gate.check(worse, baseline, "b.json", ["unfaithful_rate"], 0.05).passed
    check = gate.check(better, baseline, "b.json", ["unfaithful_rate"], 0.05).checks[0]
    assert not check.failed and check.drop == pytest.approx(-0.10)


def test_gate_warns_when_the_gold_set_differs(tiny_taxonomy: Taxonomy) -> None:
    current = with_metrics(tiny_taxonomy)
    other_gold = current.model_copy(update={"gold": GoldInfo(path="g", papers=9, hash="zz")})
    result = gate.check(current, other_gold, "b.json")
    assert result.passed
    assert any("different gold set (9 papers, now 3)" in w for w in result.warnings)


def test_gate_rejects_metrics_the_baseline_lacks(tiny_taxonomy: Taxonomy) -> None:
    current = with_metrics(tiny_taxonomy, pass_hat_n=1.0)
    with pytest.raises(ConfigError, match="baseline has no metric 'pass_hat_n'"):
        gate.check(current, with_metrics(tiny_taxonomy), "b.json", ["pass_hat_n"])


def test_baseline_round_trips_and_bad_files_are_config_errors(
    tmp_path: Path, tiny_taxonomy: Taxonomy
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(to_json(with_metrics(tiny_taxonomy, micro_f1=0.5)), encoding="utf-8")
    assert gate.load_baseline(path).systems[0].metrics["micro_f1"] == 0.5
    path.write_text('{"systems": []}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a tagger eval report"):
        gate.load_baseline(path)
    with pytest.raises(ConfigError, match="cannot read the baseline"):
        gate.load_baseline(tmp_path / "absent.json")
