"""`tagger train` and `--head`: a head learns what zero-shot misses, bad input is one line, and a
head is refused for another taxonomy; its hash changes the cache key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import invoke
from tagger.config.taxonomy import Taxonomy
from tagger.embedded.head import HeadFile, TagHead, load_head
from tagger.embedded.training import Encoded, LabeledSet, cross_validate
from tagger.records import Paper

DATA = Path(__file__).parent / "data" / "eval"


def separable(tiny_taxonomy: Taxonomy, n: int = 60) -> tuple[Encoded, LabeledSet]:
    """Papers whose features say their tag plainly, with a zero-shot score that says nothing."""
    rng = np.random.default_rng(0)
    ids = tiny_taxonomy.ids
    labels = [[ids[i % len(ids)]] for i in range(n)]
    features = rng.normal(0, 0.3, (n, 8)).astype(np.float32)
    for row, tags in enumerate(labels):
        features[row, ids.index(tags[0])] += 2.0
    zero_shot = np.full((n, len(ids)), 0.5, dtype=np.float32)
    zero_shot += rng.normal(0, 0.01, zero_shot.shape).astype(np.float32)
    papers = [Paper(id=f"p{i}", title=f"T{i}", abstract="A.", source="x") for i in range(n)]
    return Encoded(features, zero_shot), LabeledSet(papers, labels, "test")


def test_head_learns_what_zero_shot_cannot_see(tiny_taxonomy: Taxonomy) -> None:
    encoded, labeled = separable(tiny_taxonomy)
    scores = cross_validate(encoded, labeled, tiny_taxonomy, max_tags=1, folds=5)
    assert scores.zero_shot_micro_f1 < 0.6
    assert scores.head_micro_f1 > 0.9
    assert scores.head_macro_f1 > scores.zero_shot_macro_f1


def small_gold(tmp_path: Path) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text((DATA / "gold.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_too_few_labels_is_refused_in_one_line_saying_how_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = tmp_path / "head.json"
    result = invoke(
        capsys, "train", "--labels", str(small_gold(tmp_path)),
        "--taxonomy", str(DATA / "taxonomy.yaml"), "-o", str(head),
    )  # fmt: skip
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert "too few labels to learn from: 4 papers" in result.err
    assert "need at least 10 papers and 3 positive papers" in result.err
    assert not head.exists()


def test_labels_nested_too_deeply_are_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Telling a run's output from a gold file read the first line with a bare json.loads: a
    line nested past the recursion limit escaped as a RecursionError traceback."""
    labels = tmp_path / "deep.jsonl"
    labels.write_text("[" * 200_000 + "\n", encoding="utf-8")
    result = invoke(capsys, "train", "--labels", str(labels), "-o", str(tmp_path / "h.json"))
    assert result.code == 2
    assert result.err_lines == [result.err.strip()] and "nested too deeply" in result.err
    assert f"{labels}:1" in result.err


def write_head(path: Path, taxonomy_hash: str, embedder: str = "x") -> Path:
    head = HeadFile(
        taxonomy="tiny-eval",
        taxonomy_hash=taxonomy_hash,
        embedder=embedder,
        data_hash="d",
        labels_source="gold g",
        papers=10,
        tags=[TagHead(tag="llm", positives=5, intercept=0.0, coef=[0.0] * 384)],
    )
    path.write_text(head.model_dump_json(), encoding="utf-8")
    return path


def test_head_for_another_taxonomy_is_refused_before_any_paper_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = write_head(tmp_path / "head.json", taxonomy_hash="0000000000000000")
    out = tmp_path / "out.jsonl"
    gold = small_gold(tmp_path)
    result = invoke(capsys, "run", str(gold), "-o", str(out), "--head", str(head))
    assert result.code == 2 and len(result.err_lines) == 1
    assert "the head was trained for taxonomy 'tiny-eval'" in result.err
    assert str(head) in result.err and not out.exists()
    from tagger.config.taxonomy import load_taxonomy

    tiny_hash = load_taxonomy(str(DATA / "taxonomy.yaml")).content_hash
    head = write_head(tmp_path / "head.json", taxonomy_hash=tiny_hash, embedder="x")
    result = invoke(capsys, "eval", "--gold", str(gold), "--split", "all", "--head", str(head),
                    "--taxonomy", str(DATA / "taxonomy.yaml"))  # fmt: skip
    assert result.code == 2 and "trained on embeddings 'x'" in result.err


def test_head_needs_the_minilm_model_and_a_valid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = small_gold(tmp_path)
    head = write_head(tmp_path / "head.json", taxonomy_hash="0")
    result = invoke(capsys, "run", str(gold), "-o", str(tmp_path / "o.jsonl"),
                    "--model", "local/keyword", "--head", str(head))  # fmt: skip
    assert result.code == 2 and "--head works with the embedded local/minilm only" in result.err
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"format": "tagger-head/1"}), encoding="utf-8")
    result = invoke(
        capsys, "run", str(gold), "-o", str(tmp_path / "o.jsonl"), "--head", str(broken)
    )
    assert result.code == 2 and "not a tagger head file" in result.err
    assert len(result.err_lines) == 1


def test_head_hash_goes_into_the_cache_key_and_no_head_keeps_old_keys(tmp_path: Path) -> None:
    from tagger.embedded.backends import MiniLMBackend

    plain = MiniLMBackend()
    assert "head" not in plain.fingerprint  # caches written before heads stay valid
    one = MiniLMBackend(head=str(write_head(tmp_path / "a.json", "1")))
    two = MiniLMBackend(head=str(write_head(tmp_path / "b.json", "2")))
    assert load_head(tmp_path / "a.json").hash in one.fingerprint
    assert len({plain.fingerprint, one.fingerprint, two.fingerprint}) == 3


def test_labels_from_a_run_keep_ok_lines_and_record_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tagger.config.taxonomy import load_taxonomy
    from tagger.embedded.training import read_labels

    papers = tmp_path / "papers.jsonl"
    rows = [json.loads(line) for line in (DATA / "gold.jsonl").read_text().splitlines()]
    papers.write_text(
        "".join(json.dumps({"title": r["title"], "abstract": r["abstract"]}) + "\n" for r in rows)
    )
    out = tmp_path / "out.jsonl"
    taxonomy = ["--taxonomy", str(DATA / "taxonomy.yaml")]
    result = invoke(
        capsys, "run", str(papers), "-o", str(out), "--model", "local/keyword", *taxonomy
    )
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    lines[0]["status"], lines[0]["error"] = "failed", "x"
    out.write_text("".join(json.dumps(r) + "\n" for r in lines))
    labeled = read_labels(str(out), load_taxonomy(str(DATA / "taxonomy.yaml")))
    assert len(labeled.papers) == len(rows) - 1
    assert labeled.source == f"run {out} (model local/keyword)"
    assert labeled.papers[0].abstract  # re-read from the run's inputs


def test_o_dash_writes_the_head_to_stdout_and_a_fifo_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import os

    gold = Path(__file__).parent.parent / "eval" / "gold.jsonl"
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(gold.read_text(encoding="utf-8").splitlines(True)[:40]))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused = invoke(capsys, "train", "--labels", str(labels), "-o", str(fifo))
    assert refused.code == 2 and len(refused.err_lines) == 1, refused.err
    result = invoke(capsys, "train", "--labels", str(labels), "-o", "-", "--folds", "2")
    assert result.code == 0, result.err
    head = json.loads(result.out)  # stdout holds the head alone; the report went to stderr
    assert head["papers"] == 40 and "cross-validated" in result.err
    assert not Path("-").exists()
