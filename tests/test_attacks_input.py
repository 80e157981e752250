"""Hostile inputs (issue 12: attacks 2, 3, 4, 13, 14): one clear line or a clean read, never a
traceback, a silent loss of papers, or a merge of different papers."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from conftest import invoke
from tagger.errors import InputError
from tagger.ingest import iter_papers
from tagger.ingest.files import read_lines
from tagger.jsonio import MAX_LINE_BYTES

DIGEST_DATA = Path(__file__).parent / "data" / "digest"
EVAL_DATA = Path(__file__).parent / "data" / "eval"
GOOD = '{"title": "A good paper", "abstract": "It has an abstract."}'
NESTED = "[" * 100_000
HUGE_INT = "1" * 5000


def dedup(capsys: pytest.CaptureFixture[str], src: Path, *more: str) -> tuple[int, str]:
    result = invoke(capsys, "dedup", str(src), "-o", str(src.with_suffix(".out")), *more)
    return result.code, result.err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tagger: error: "), err
    assert "Traceback" not in err
    return lines[0]


# --- 2: an unclosed CSV quote ------------------------------------------------------------------


def test_unclosed_csv_quote_is_an_error_naming_the_line_it_opened_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"Title {i},Abstract {i}." for i in range(100)]
    src = tmp_path / "p.csv"
    src.write_text(
        "title,abstract\n" + 'First,"an abstract whose quote never closes\n' + "\n".join(rows)
    )
    code, err = dedup(capsys, src)
    assert code == 2
    line = one_error_line(err)
    assert f"{src}:2:" in line and "quote" in line


def test_a_runaway_quote_stops_early_not_at_the_end_of_a_large_file(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    good = "".join(f"Title {i},Abstract {i}.\n" for i in range(50_000))
    src.write_text('title,abstract\nOk,Fine.\nFirst,"opens\n' + good + 'Last,"closes"\n')
    papers: list[str] = []
    with pytest.raises(InputError, match=r"p\.csv:3: .*quote") as caught:
        papers.extend(p.title for p in iter_papers([str(src)]))
    assert papers == ["Ok"]
    assert "lines" in str(caught.value)


def test_quoted_fields_across_a_few_lines_still_read(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    src.write_text('title,abstract\nA,"line one\nline two\nline three"\nB,"Last\nrow"\n')
    assert [p.abstract for p in iter_papers([str(src)])] == [
        "line one line two line three",
        "Last row",
    ]


def test_a_stray_quote_closed_far_below_is_named_with_its_line(tmp_path: Path) -> None:
    src = tmp_path / "p.csv"
    rows = "".join(f"Title {i},Abstract {i}.\n" for i in range(900))
    src.write_text('title,abstract\nFirst,"opens\n' + rows + 'Last,"closes" here\nAfter,Fine.\n')
    warnings: list[str] = []
    titles = [p.title for p in iter_papers([str(src)], on_warning=warnings.append)]
    assert titles[0] == "First" and "Title 5" not in titles  # read into one field, but ...
    named = [w for w in warnings if "p.csv:2: this row runs over" in w]
    assert len(named) == 1 and "unbalanced" in named[0]  # ... the line it started on is named


# --- 3: same title, different arXiv ids, unrelated abstracts ------------------------------------


def test_same_title_different_ids_unrelated_abstracts_are_two_papers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "p.jsonl"
    a = {
        "id": "2303.18223",
        "title": "A Survey of Large Language Models",
        "abstract": "Language is "
        "essentially a complex system of human expressions governed by grammatical rules.",
    }
    b = {
        "id": "2307.06435v9",
        "title": "A Survey of Large Language Models",
        "abstract": "Large "
        "language models have recently demonstrated remarkable capabilities in tasks.",
    }
    src.write_text(json.dumps(a) + "\n" + json.dumps(b) + "\n")
    code, err = dedup(capsys, src)
    assert code == 0 and "2 records -> 2 unique (none merged)" in err


# --- 4: lone surrogates -------------------------------------------------------------------------


def test_lone_surrogate_is_replaced_at_ingest_with_a_warning(tmp_path: Path) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text(GOOD + '\n{"title": "Surrogate \\ud83d title", "abstract": "Text \\udc00."}\n')
    warnings: list[str] = []
    papers = list(iter_papers([str(src)], on_warning=warnings.append))
    assert papers[1].title == "Surrogate \ufffd title"
    assert papers[1].abstract == "Text \ufffd."
    assert warnings == [
        f"{src}:2: text holds invalid characters (lone surrogates); replaced with U+FFFD."
    ]


def test_lone_surrogate_runs_with_the_embedded_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = tmp_path / "p.jsonl", tmp_path / "o.jsonl"
    src.write_text('{"title": "Surrogate \\ud83d title", "abstract": "About language models."}\n')
    result = invoke(capsys, "run", str(src), "-o", str(out), "--model", "local/keyword")
    assert result.code == 0, result.err
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["title"] == "Surrogate \ufffd title" and record["status"] == "ok"


def test_digest_cleans_a_surrogate_in_a_run_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run.jsonl"
    line = (DIGEST_DATA / "run1.jsonl").read_text().splitlines()[0]
    run.write_text(line.replace("Chain-of-Thought", "Chain\\ud83d") + "\n")
    for fmt in ("md", "html", "txt", "rss", "json"):
        out = tmp_path / f"d.{fmt}"
        result = invoke(
            capsys,
            "digest",
            str(run),
            "--taxonomy",
            str(DIGEST_DATA / "taxonomy.yaml"),
            "--format",
            fmt,
            "-o",
            str(out),
        )
        assert result.code == 0, result.err
        assert "\ufffd" in out.read_text(encoding="utf-8") or fmt != "md"


# --- 13: a 200 MB single line -------------------------------------------------------------------


def test_overlong_line_is_refused_with_its_line_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "p.jsonl"
    with src.open("w") as f:
        f.write(GOOD + "\n")
        f.write('{"title": "Big", "abstract": "' + "x" * (MAX_LINE_BYTES + 10) + '"}\n')
    code, err = dedup(capsys, src)
    assert code == 2
    assert f"{src}:2: line is longer than 10 MB" in one_error_line(err)


def test_reading_an_overlong_line_does_not_hold_it_in_memory(tmp_path: Path) -> None:
    src = tmp_path / "p.txt"
    with src.open("wb") as f:
        f.write(b"x" * (4 * MAX_LINE_BYTES) + b"\n")
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"p\.txt:1: line is longer"):
            list(read_lines(str(src)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * MAX_LINE_BYTES


# --- 14: nesting, digits, huge versions ---------------------------------------------------------


@pytest.mark.parametrize("bad", [NESTED, '{"title": "T", "abstract": "A", "n": ' + HUGE_INT + "}"])
def test_pathological_json_line_is_one_warning_in_dedup_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text(GOOD + "\n" + bad + "\n")
    code, err = dedup(capsys, src)
    assert code == 0 and "Traceback" not in err
    assert f"{src}:2: line is not valid JSON" in err and "1 records -> 1 unique" in err
    result = invoke(
        capsys, "run", str(src), "-o", str(tmp_path / "o.jsonl"), "--model", "local/keyword"
    )
    assert result.code == 0 and f"{src}:2: line is not valid JSON" in result.err


@pytest.mark.parametrize("bad", [NESTED, '{"n": ' + HUGE_INT + "}"])
def test_pathological_json_first_line_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text(bad + "\n" + GOOD + "\n")
    code, err = dedup(capsys, src)
    assert code == 2 and f"{src}:1:" in one_error_line(err)


@pytest.mark.parametrize("bad", [NESTED, '{"n": ' + HUGE_INT + "}"])
def test_pathological_line_in_digest_and_eval_inputs_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    run = tmp_path / "run.jsonl"
    run.write_text((DIGEST_DATA / "run1.jsonl").read_text().splitlines()[0] + "\n" + bad + "\n")
    result = invoke(capsys, "digest", str(run), "--taxonomy", str(DIGEST_DATA / "taxonomy.yaml"))
    assert result.code == 2 and f"{run}:2:" in one_error_line(result.err)
    gold = tmp_path / "gold.jsonl"
    gold.write_text((EVAL_DATA / "gold.jsonl").read_text().splitlines()[0] + "\n" + bad + "\n")
    taxonomy = ["--taxonomy", str(EVAL_DATA / "taxonomy.yaml")]
    result = invoke(capsys, "eval", "--no-progress", "--gold", str(gold), *taxonomy)
    assert result.code == 2 and f"{gold}:2:" in one_error_line(result.err)
    result = invoke(
        capsys,
        "eval",
        "--no-progress",
        "--gold",
        str(EVAL_DATA / "gold.jsonl"),
        *taxonomy,
        "--from-log",
        str(run),
    )
    assert result.code == 2 and f"{run}:2:" in one_error_line(result.err)


def test_absurd_arxiv_version_does_not_overflow_dedup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "snap.jsonl"
    record = {
        "id": "0704.0001",
        "title": "T",
        "abstract": "A.",
        "update_date": "2008-11-13",
        "versions": [{"version": "v99999999999999999999"}, {"version": "v" + HUGE_INT}],
    }
    src.write_text(json.dumps(record) + "\n" + json.dumps({**record, "versions": []}) + "\n")
    code, err = dedup(capsys, src)
    assert code == 0 and "2 records -> 1 unique" in err
