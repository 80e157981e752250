"""The gold dev/test split: `tagger eval --split`, and the split rule check_gold enforces."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, invoke

DATA = Path(__file__).parent / "data" / "eval"
TAXONOMY = ["--taxonomy", str(DATA / "taxonomy.yaml")]


def split_gold(tmp_path: Path, splits: list[str | None]) -> Path:
    """The test gold set with the given split per line (None: no split field)."""
    records = [json.loads(line) for line in (DATA / "gold.jsonl").read_text().splitlines()]
    for record, split in zip(records, splits, strict=True):
        if split:
            record["split"] = split
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def eval_report(capsys: pytest.CaptureFixture[str], gold: Path, *args: str) -> dict[str, Any]:
    out = gold.parent / "r.json"
    result = invoke(
        capsys, "eval", "--no-progress", "--gold", str(gold), *TAXONOMY, "--model",
        "local/keyword", "-o", str(out), *args,
    )  # fmt: skip
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_default_scores_the_test_split_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = split_gold(tmp_path, ["dev", "test", "test", "dev"])
    data = eval_report(capsys, gold)
    assert data["gold"]["papers"] == 2 and data["gold"]["split"] == "test"
    dev = eval_report(capsys, gold, "--split", "dev")
    assert dev["gold"]["papers"] == 2 and dev["gold"]["split"] == "dev"
    assert dev["gold"]["hash"] != data["gold"]["hash"]
    assert eval_report(capsys, gold, "--split", "all")["gold"]["papers"] == 4


def test_gold_without_splits_scores_all_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = split_gold(tmp_path, [None] * 4)
    data = eval_report(capsys, gold)
    assert data["gold"]["papers"] == 4 and data["gold"]["split"] == "all"


def test_asking_for_a_split_the_file_lacks_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = split_gold(tmp_path, [None] * 4)
    result = invoke(
        capsys, "eval", "--gold", str(gold), *TAXONOMY, "--model", "local/keyword",
        "--split", "dev",
    )  # fmt: skip
    assert result.code == 2
    assert result.err_lines == [result.err_lines[0]]
    assert "no 'split' field" in result.err and str(gold) in result.err


def test_bad_split_value_in_gold_is_reported_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = split_gold(tmp_path, ["dev", "train", "test", "dev"])
    result = invoke(capsys, "eval", "--gold", str(gold), *TAXONOMY, "--model", "local/keyword")
    assert result.code == 2 and f"{gold}:2" in result.err and "split" in result.err


def _check_gold() -> Any:
    sys.path.insert(0, str(ROOT / "eval"))
    import check_gold

    return check_gold


def test_shipped_gold_follows_the_split_rule_and_covers_tags_on_both_sides() -> None:
    check_gold = _check_gold()
    taxonomy = check_gold.load_taxonomy(None)
    errors, _ = check_gold.check_file(ROOT / "eval" / "gold.jsonl", taxonomy, ROOT)
    assert errors == []
    records = [json.loads(x) for x in (ROOT / "eval" / "gold.jsonl").read_text().splitlines()]
    test_share = sum(r["split"] == "test" for r in records) / len(records)
    assert 0.4 < test_share < 0.6


def test_check_gold_rejects_a_moved_paper_and_a_one_sided_tag(tmp_path: Path) -> None:
    check_gold = _check_gold()
    lines = (ROOT / "eval" / "gold.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["split"] = "test" if first["split"] == "dev" else "dev"
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")
    errors, _ = check_gold.check_file(gold, check_gold.load_taxonomy(None), ROOT)
    assert any(":1: split must be" in e for e in errors)
    from collections import Counter

    one_sided = {"dev": Counter({"theory": 3}), "test": Counter()}
    assert check_gold.split_coverage(one_sided) == [
        "tag 'theory' (3 positives) has none in the test split."
    ]
