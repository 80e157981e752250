"""Duplicate grouping, its report, and the `tagger dedup` command."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import invoke
from tagger.dedup.grouping import DEFAULT_THRESHOLD, Deduplicator
from tagger.dedup.minhash import (
    LSH_RECALL,
    NUM_PERM,
    lsh_bands,
    minhash_batch,
    permutations,
    shingle_batch,
    shingle_hashes,
)
from tagger.dedup.report import DedupGroup
from tagger.errors import ConfigError
from tagger.ingest import iter_papers
from tagger.ingest.ids import content_id
from tagger.records import Paper

SAMPLES = Path(__file__).parent.parent / "samples"
WORDS = [f"w{i}" for i in range(5000)]


def paper(title: str, abstract: str, source: str, arxiv: str | None = None, **kw: str) -> Paper:
    pid = arxiv or content_id(title)
    return Paper(id=pid, title=title, abstract=abstract, source=source, arxiv_id=arxiv, **kw)


def words(seed: int, n: int = 150) -> list[str]:
    return random.Random(seed).choices(WORDS, k=n)


@dataclass
class Grouped:
    groups: list[DedupGroup]
    summary: str

    @property
    def papers(self) -> list[Paper]:
        return [g.paper for g in self.groups]


def dedup(papers: list[Paper], threshold: float = DEFAULT_THRESHOLD) -> Grouped:
    """The streaming `Deduplicator` `tagger run`, `tagger dedup` and the API use, run to the end."""
    with Deduplicator(threshold) as finder:
        finder.add_all(papers)
        groups = list(finder.groups())
        return Grouped(groups, finder.summary())


def reasons(result: Grouped) -> list[list[str]]:
    return [[m.reason for m in g.duplicates] for g in result.groups]


# --- the bundled samples ----------------------------------------------------------------------


def test_samples_give_270_unique_papers() -> None:
    papers = list(iter_papers([str(SAMPLES)]))
    result = dedup(papers)
    assert result.summary == "310 records -> 270 unique (40 merged: 40 exact-title)"
    assert len({p.id for p in result.papers}) == 270
    (latex,) = [g for g in result.groups if "ell_p" in g.paper.title]
    title_of = {p.source: p.title for p in papers}
    members = [latex.paper.source] + [m.source for m in latex.duplicates]
    assert {title_of[s] for s in members} == {
        "Sharper Bounds for $\\ell_p$ Sensitivity Sampling",
        "Sharper Bounds for ell_p Sensitivity Sampling",
    }


# --- exact and id matches ---------------------------------------------------------------------


def test_same_abstract_under_another_title_is_merged() -> None:
    abstract = " ".join(words(1))
    result = dedup([paper("Title One", abstract, "a:1"), paper("Title Two!", abstract, "b:1")])
    assert reasons(result) == [["exact-abstract"]]
    assert result.groups[0].duplicate_refs == [content_id("Title Two!")]


def test_repeats_with_the_same_id_are_referenced_by_source() -> None:
    one = paper("Same Title", "Abstract one.", "a.txt:3")
    again = paper("Same  title", "Abstract two.", "b.txt:9")
    result = dedup([one, again])
    assert result.groups[0].duplicate_refs == ["b.txt:9"]
    assert result.groups[0].duplicates[0].matched == "a.txt:3"


def test_arxiv_versions_merge_and_the_latest_version_represents_them() -> None:
    v1 = paper("Old title", "First draft.", "a:1", arxiv="2101.00001", version="v1")
    v3 = paper("New title", "Rewritten abstract.", "b:1", arxiv="2101.00001", version="v3")
    other = paper("Unrelated", "Something else entirely.", "c:1")
    result = dedup([v1, other, v3])
    assert [g.paper.source for g in result.groups] == ["b:1", "c:1"]  # group keeps v1's place
    assert reasons(result) == [["arxiv-id"], []]
    assert result.groups[0].duplicate_refs == ["2101.00001v1"]


def test_distinct_papers_stay_apart_and_in_input_order() -> None:
    papers = [paper(f"Paper {i}", " ".join(words(i)), f"f:{i}") for i in range(20)]
    result = dedup(papers)
    assert result.papers == papers
    assert result.summary == "20 records -> 20 unique (none merged)"


def test_groups_joined_through_a_third_record_report_each_link() -> None:
    a = paper("Alpha", "Abstract A.", "f:1")
    b = paper("Beta", "Abstract B.", "f:2")
    c = paper("Alpha", "Abstract B.", "f:3")  # title of a, abstract of b
    result = dedup([a, b, c])
    (group,) = result.groups
    assert group.paper.source == "f:1"
    assert [(m.source, m.reason, m.matched) for m in group.duplicates] == [
        ("f:2", "exact-abstract", "f:3"),
        ("f:3", "exact-title", "f:1"),
    ]


# --- near-duplicates --------------------------------------------------------------------------


def edited(text: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = list(text)
    for _ in range(n):
        out[rng.randrange(len(out))] = rng.choice(WORDS)
    return out


def test_near_duplicate_abstract_is_merged_with_its_jaccard() -> None:
    base = words(7, 200)
    papers = [
        paper("A study of things", " ".join(base), "f:1"),
        paper("Unrelated", " ".join(words(8, 200)), "f:2"),
        paper("A study of things (extended)", " ".join(edited(base, 2, 0)), "f:3"),
    ]
    result = dedup(papers)
    assert len(result.groups) == 2
    (merge,) = result.groups[0].duplicates
    assert merge.source == "f:3" and merge.reason.startswith("near-duplicate (jaccard=0.9")


def test_the_match_and_its_score_are_separate_fields_beside_the_combined_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = words(7, 200)
    rows = [
        {"title": "A study of things", "abstract": " ".join(base)},
        {"title": "A study of things (extended)", "abstract": " ".join(edited(base, 2, 0))},
        {"title": "A STUDY OF THINGS", "abstract": "Another abstract altogether, not near."},
    ]
    source, report = tmp_path / "p.jsonl", tmp_path / "r.json"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = run_cli(
        ["dedup", str(source), "-o", str(tmp_path / "u.jsonl"), "--report", str(report)], capsys
    )
    assert code == 0, err
    (group,) = json.loads(report.read_text())["groups"]
    near, exact = group["duplicates"]
    assert near["match"] == "near-duplicate" and 0.9 <= near["score"] < 1.0
    assert near["reason"] == f"near-duplicate (jaccard={near['score']:.2f})"  # kept as it was
    assert (exact["match"], exact["score"], exact["reason"]) == ("exact-title", None, "exact-title")
    assert list(exact)[:5] == ["id", "source", "reason", "matched", "ref"]  # the old fields first
    assert json.loads(report.read_text())["counts"]["by_reason"] == {
        "exact-title": 1,
        "exact-abstract": 0,
        "arxiv-id": 0,
        "near-duplicate": 1,
    }


def test_threshold_decides_near_duplicates() -> None:
    base = words(9, 200)
    pair = [paper("T1", " ".join(base), "f:1"), paper("T2", " ".join(edited(base, 12, 1)), "f:2")]
    assert len(dedup(pair, threshold=0.5).groups) == 1
    assert len(dedup(pair, threshold=0.9).groups) == 2


def test_record_sharing_only_a_title_is_still_checked_for_near_duplicates() -> None:
    base = words(11, 200)
    papers = [
        paper("Shared title", " ".join(words(12, 200)), "f:1"),
        paper("Another paper", " ".join(base), "f:2"),
        paper("Shared title", " ".join(edited(base, 2, 3)), "f:3"),  # near f:2, title of f:1
    ]
    (group,) = dedup(papers).groups
    assert [(m.source, m.match) for m in group.duplicates] == [
        ("f:2", "near-duplicate"),
        ("f:3", "exact-title"),
    ]


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5])
def test_threshold_outside_0_1_is_refused(bad: float) -> None:
    with pytest.raises(ConfigError, match="threshold"):
        Deduplicator(threshold=bad)


def test_shingle_hashes_follow_their_recipe_for_short_and_long_texts() -> None:
    """A shingle is up to 3 words' CRC-32s combined polynomially mod 2^64, folded to 32 bits;
    a batch gives each text the same values as alone."""
    import zlib

    def expected(text: str) -> list[int]:
        words = [zlib.crc32(w) for w in text.encode().split()] or [zlib.crc32(b"")]
        width = min(3, len(words))
        out = []
        for i in range(len(words) - width + 1):
            h = 0
            for w in words[i : i + width]:
                h = (h * 0x100000001B3 + w) % 2**64
            out.append((h ^ (h >> 32)) & 0xFFFFFFFF)
        return out

    texts = ["", "solo", "one two", "a b c", "the quick brown fox jumps", "é 中文 x"]
    values, starts = shingle_batch(texts)
    for i, text in enumerate(texts):
        assert shingle_hashes(text).tolist() == expected(text), text
        end = starts[i + 1] if i + 1 < len(texts) else len(values)
        assert values[starts[i] : end].tolist() == expected(text), text


def test_signatures_equal_datasketch_affine32_minhash() -> None:
    from datasketch import MinHash

    texts = ["a b c d e f g", "one two", "solo", "", "x y z"]
    values, starts = shingle_batch(texts)
    ours = minhash_batch(values, starts, *permutations(NUM_PERM, 1))
    shingles = [shingle_hashes(text) for text in texts]
    assert np.array_equal(np.concatenate(shingles), values)  # a batch is its texts' shingles
    for values, row in zip(shingles, ours, strict=True):
        theirs = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32", hashfunc=int)
        theirs.update_batch(values.tolist())
        assert np.array_equal(theirs.hashvalues, row)


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9])
def test_lsh_bands_find_pairs_at_the_threshold(threshold: float) -> None:
    bands, rows = lsh_bands(threshold, NUM_PERM)
    assert bands * rows <= NUM_PERM
    assert 1 - (1 - threshold**rows) ** bands >= LSH_RECALL >= 0.99


# --- tagger dedup -----------------------------------------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    result = invoke(capsys, *args)
    return result.code, result.out, result.err


def test_cli_writes_unique_papers_report_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, report = tmp_path / "u.jsonl", tmp_path / "groups.json"
    code, stdout, stderr = run_cli(
        ["dedup", str(SAMPLES), "-o", str(out), "--report", str(report), "--json"], capsys
    )
    assert code == 0
    assert "310 records -> 270 unique (40 merged: 40 exact-title)" in stderr
    summary = json.loads(stdout)
    assert summary["counts"]["unique"] == 270 and summary["counts"]["merged"] == 40
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 270
    assert sum(len(line["duplicates"]) for line in lines) == 40
    assert {"id", "title", "abstract", "source", "duplicates"} <= set(lines[0])
    groups = json.loads(report.read_text())
    assert groups["counts"]["records"] == 310
    assert all(m["reason"] == "exact-title" for g in groups["groups"] for m in g["duplicates"])


def test_cli_bad_input_is_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, _, stderr = run_cli(["dedup", str(empty), "-o", str(tmp_path / "u.jsonl")], capsys)
    assert code == 2
    assert stderr == f"tagger: error: {empty}: is empty. Pass a file with papers in it.\n"
    assert not (tmp_path / "u.jsonl").exists()


def test_cli_prints_warnings_and_keeps_going(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text('{"title": "T", "abstract": "A."}\n{oops\n')
    code, _, stderr = run_cli(["dedup", str(src), "-o", str(tmp_path / "u.jsonl")], capsys)
    assert code == 0
    assert f"tagger: warning: {src}:2: line is not valid JSON" in stderr
    assert "1 records -> 1 unique (none merged)" in stderr


def test_cli_refuses_to_overwrite_an_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text('{"title": "T", "abstract": "A."}\n')
    code, _, stderr = run_cli(["dedup", str(src), "-o", str(src)], capsys)
    assert code == 2 and "is both an input and an output" in stderr
    assert src.read_text() == '{"title": "T", "abstract": "A."}\n'


# --- different arXiv ids are different papers -------------------------------------------------


def test_series_parts_with_one_abstract_and_different_ids_stay_apart() -> None:
    abstract = " ".join(words(7))
    two = paper("Deep Theory, Part II", abstract, "a:1", arxiv="1901.00002")
    three = paper("Deep Theory, Part III", abstract, "a:2", arxiv="1901.00003v2")
    result = dedup([two, three])
    assert result.summary == "2 records -> 2 unique (none merged)"


def test_one_title_and_one_abstract_under_two_ids_is_one_paper() -> None:
    abstract = " ".join(words(8))
    first = paper("A Resubmitted Paper", abstract, "a:1", arxiv="2001.00001")
    second = paper("A resubmitted paper", abstract, "b:1", arxiv="2002.00002")
    assert reasons(dedup([first, second])) == [["exact-title"]]


def test_near_duplicate_with_another_id_merges_only_under_the_same_title() -> None:
    text = words(9)
    base = paper("Base Title", " ".join(text), "a:1", arxiv="2001.00001")
    close = " ".join(edited(text, 3, seed=1))
    renamed = paper("Other Title", close, "b:1", arxiv="2002.00002")
    same_title = paper("Base Title", close, "c:1", arxiv="2003.00003")
    assert dedup([base, renamed]).summary == "2 records -> 2 unique (none merged)"
    assert len(dedup([base, same_title]).groups) == 1


def test_a_record_without_id_does_not_bridge_two_ids() -> None:
    a = paper("Alpha", "Abstract A is about one thing.", "f:1", arxiv="2001.00001")
    b = paper("Beta", "Abstract B is about another.", "f:2", arxiv="2002.00002")
    bridge = paper("Alpha", "Abstract B is about another.", "f:3")  # no id
    result = dedup([a, b, bridge])
    assert len(result.groups) == 2
    assert sorted(len(g.duplicates) for g in result.groups) == [0, 1]


# --- what a merged group keeps ----------------------------------------------------------------


def test_merged_versions_keep_the_union_of_authors_categories_and_url() -> None:
    v1 = Paper(
        id="2101.00001",
        title="T v1",
        abstract="First draft.",
        source="a:1",
        arxiv_id="2101.00001",
        version="v1",
        authors=("Ann Lee", "Bo Chen"),
        categories=("cs.CL",),
    )
    v2 = v1.model_copy(
        update={
            "title": "T v2",
            "abstract": "Second.",
            "source": "b:1",
            "version": "v2",
            "authors": ("Ann Lee",),
            "categories": ("cs.LG",),
        }
    )
    hf = Paper(id="h1", title="T v2", abstract="Other words.", source="c:1", url="https://x/p")
    (group,) = dedup([v1, v2, hf]).groups
    assert group.paper.version == "v2"
    assert group.paper.authors == ("Ann Lee", "Bo Chen")
    assert group.paper.categories == ("cs.LG", "cs.CL")
    assert group.paper.url == "https://x/p"


def test_duplicates_name_arxiv_versions_where_known() -> None:
    v1 = paper("Old", "First draft.", "a:1", arxiv="2101.00001", version="v1")
    v3 = paper("New", "Rewritten.", "b:1", arxiv="2101.00001", version="v3")
    bare = paper("Newer", "Rewritten again.", "c:1", arxiv="2101.00001")
    result = dedup([v1, v3, bare])
    assert result.groups[0].duplicate_refs == ["2101.00001v1", "c:1"]


def test_cli_refuses_to_replace_an_existing_output_without_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "p.jsonl", tmp_path / "u.jsonl"
    src.write_text('{"title": "T", "abstract": "A."}\n')
    out.write_text("precious\n")
    code, _, stderr = run_cli(["dedup", str(src), "-o", str(out)], capsys)
    assert code == 2 and "already exists" in stderr and "--overwrite" in stderr
    assert out.read_text() == "precious\n"
    code, _, _ = run_cli(["dedup", str(src), "-o", str(out), "--overwrite"], capsys)
    assert code == 0 and json.loads(out.read_text())["title"] == "T"


def test_cli_outputs_get_the_mode_a_plain_open_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    src, out, report = tmp_path / "p.jsonl", tmp_path / "u.jsonl", tmp_path / "r.json"
    src.write_text('{"title": "T", "abstract": "A."}\n')
    old = os.umask(0o022)
    try:
        code, _, _ = run_cli(["dedup", str(src), "-o", str(out), "--report", str(report)], capsys)
    finally:
        os.umask(old)
    assert code == 0
    assert (out.stat().st_mode & 0o777, report.stat().st_mode & 0o777) == (0o644, 0o644)


def test_threshold_zero_is_refused_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tagger.dedup.source import load_unique

    src = tmp_path / "p.jsonl"
    src.write_text('{"title": "T", "abstract": "A."}\n')
    code, _, stderr = run_cli(
        ["dedup", str(src), "-o", str(tmp_path / "u"), "--threshold", "0"], capsys
    )
    assert code == 2 and "--threshold" in stderr
    with pytest.raises(ConfigError):
        load_unique([str(src)], threshold=0.0)
