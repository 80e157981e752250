"""The second gold set (eval/broad/): the file is valid against its own taxonomy, `tagger eval`
scores it end to end offline, and a gold set without reference summaries reports ROUGE as not
measured rather than as 0."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import ROOT, CliResult, invoke
from tagger.config.taxonomy import Taxonomy, load_taxonomy
from tagger.errors import ConfigError
from tagger.evaluate import gate
from tagger.evaluate.gold import GoldItem, GoldSet, load_gold
from tagger.evaluate.metrics import ROUGE_TYPES
from tagger.evaluate.models import EvalReport, GoldInfo, TaxonomyInfo
from tagger.evaluate.score import score_system
from tagger.normalize import normalize_text
from tagger.records import TaggedPaper

BROAD = ROOT / "eval" / "broad"
GOLD = BROAD / "gold.jsonl"
TAXONOMY = BROAD / "taxonomy.yaml"
MAIN_GOLD = ROOT / "eval" / "gold.jsonl"
MIN_PAPERS = 60
MIN_POSITIVES = 3
MAX_TAGS = 3


def _check_gold() -> ModuleType:
    """eval/check_gold.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("check_gold", ROOT / "eval" / "check_gold.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = _check_gold()


def records() -> list[dict[str, Any]]:
    lines = GOLD.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy(TAXONOMY)


def test_taxonomy_is_broad_and_new(taxonomy: Taxonomy) -> None:
    assert 15 <= len(taxonomy.tags) <= 19
    assert all("Not for" in tag.description for tag in taxonomy.tags)
    built_in = load_taxonomy()
    assert len(built_in.tags) > len(taxonomy.tags)  # coarser than the default


def test_gold_loads_with_its_taxonomy(taxonomy: Taxonomy) -> None:
    gold = load_gold(GOLD, taxonomy)
    assert len(gold.items) >= MIN_PAPERS
    assert not gold.has_summaries  # tags only: ROUGE is not measured on this set


def test_every_record_is_a_valid_tags_only_label(taxonomy: Taxonomy) -> None:
    rows = records()
    main = {r["id"]: r for r in map(json.loads, MAIN_GOLD.read_text("utf-8").splitlines())}
    problems = []
    for number, rec in enumerate(rows, 1):
        where = f"{GOLD}:{number}"
        tags = rec["tags"]
        if not 1 <= len(tags) <= MAX_TAGS or len(set(tags)) != len(tags):
            problems.append(f"{where}: needs 1-{MAX_TAGS} distinct tags, has {tags}")
        # eval/check_gold.py's record rules (known tags, content id of the title, split_of(id))
        # and its source check; this set has no summaries, so a stand-in passes the summary rules.
        assert rec["summary"] == ""
        problems += CHECK.check_record({**rec, "summary": "-"}, taxonomy, where)
        problems += CHECK.check_source(rec, ROOT, where)
        # Papers come from the main gold set: same text, same source, same split.
        original = main.get(rec["id"])
        if original is None:
            problems.append(f"{where}: {rec['id']} is not a paper of eval/gold.jsonl")
            continue
        for key in ("title", "abstract", "source", "split"):
            if rec[key] != original[key]:
                problems.append(f"{where}: '{key}' differs from eval/gold.jsonl")
    assert problems == []


def test_ids_and_titles_are_unique() -> None:
    rows = records()
    assert len({r["id"] for r in rows}) == len(rows)
    titles = [normalize_text(r["title"]) for r in rows]
    assert len(set(titles)) == len(titles)


def test_every_tag_is_used_at_least_three_times(taxonomy: Taxonomy) -> None:
    counts = Counter(tag for rec in records() for tag in rec["tags"])
    thin = {t.id: counts[t.id] for t in taxonomy.tags if counts[t.id] < MIN_POSITIVES}
    assert thin == {}


def tagger_eval(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    return invoke(capsys, "eval", "--no-progress", "--gold", str(GOLD), "--taxonomy", str(TAXONOMY),
                  *args)  # fmt: skip


def test_eval_runs_end_to_end_offline_on_a_few_papers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "broad.md"
    args = ["--split", "all", "--limit", "5", "--model", "local/keyword", "-o", str(out)]
    result = tagger_eval(capsys, *args)
    assert result.code == 0, result.err
    report = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert report["gold"]["papers"] == 5 and report["taxonomy"]["name"] == "broad-ml"
    metrics = report["systems"][0]["metrics"]
    assert 0.0 <= metrics["micro_f1"] <= 1.0 and "macro_f1" in metrics
    assert not set(ROUGE_TYPES) & set(metrics)  # not measured, not 0
    assert any(note.startswith("ROUGE not measured") for note in report["notes"])
    assert "ROUGE not measured" in out.read_text(encoding="utf-8")
    assert "ROUGE not measured" in result.out
    predicted = {t for p in report["systems"][0]["papers"] for t in p["pred_tags"]}
    assert predicted <= {t.id for t in load_taxonomy(TAXONOMY).tags}


@pytest.mark.slow
def test_default_model_scores_the_broad_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "broad.json"
    result = tagger_eval(capsys, "--split", "all", "--limit", "5", "-o", str(out))
    assert result.code == 0, result.err
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["systems"][0]["model"] == "local/minilm"
    assert report["systems"][0]["micro_f1_ci"] is not None


def gold_item(pid: str, summary: str) -> GoldItem:
    return GoldItem(id=pid, title=pid, abstract="Robots plan.", tags=["robotics"], summary=summary)


def scored(tiny_taxonomy: Taxonomy, *items: GoldItem) -> dict[str, float]:
    answer = {"summary": "Robots plan.", "tags": ["robotics"], "model": "m", "prompt": "p@v1"}
    run = {
        i.id: TaggedPaper.model_validate({"id": i.id, "title": i.id, "source": "s", **answer})
        for i in items
    }
    result = score_system(
        GoldSet("g.jsonl", list(items)),
        tiny_taxonomy,
        [run],
        label="A",
        model="m",
        prompt="p@v1",
        max_tags=3,
        predictions="log.jsonl",
    )
    assert all(p.rouge is None for p in result.papers if not p.reference)
    return result.metrics


def test_rouge_is_left_out_when_no_gold_paper_has_a_summary(tiny_taxonomy: Taxonomy) -> None:
    metrics = scored(tiny_taxonomy, gold_item("p1", ""), gold_item("p2", " "))
    assert not set(ROUGE_TYPES) & set(metrics)
    assert metrics["micro_f1"] == 1.0 and metrics["compliance"] == 1.0


def test_rouge_averages_only_papers_with_a_reference(tiny_taxonomy: Taxonomy) -> None:
    metrics = scored(tiny_taxonomy, gold_item("p1", "Robots plan."), gold_item("p2", ""))
    assert metrics["rouge1"] == 1.0  # p2 has no reference and does not pull the mean to 0.5


def test_gating_on_rouge_without_summaries_says_it_was_not_measured(
    tiny_taxonomy: Taxonomy,
) -> None:
    system = score_system(
        GoldSet("g.jsonl", [gold_item("p1", "")]),
        tiny_taxonomy,
        [{}],
        label="A",
        model="m",
        prompt="p@v1",
        max_tags=3,
        predictions="log.jsonl",
    )
    report = EvalReport(
        tagger_version="0",
        created_at="2025-01-01T00:00:00+00:00",
        gold=GoldInfo(path="g.jsonl", papers=1, hash="h"),
        taxonomy=TaxonomyInfo(name="tiny", path="t.yaml", hash="t"),
        systems=[system],
    )
    with pytest.raises(ConfigError, match="ROUGE was not measured"):
        gate.check(report, report, "base.json", ["rouge1"], 0.02)
