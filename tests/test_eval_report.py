"""Where report files go, and what the Markdown/HTML/terminal renderings show."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

from rich.console import Console

from tagger.evaluate.metrics import TagScore
from tagger.evaluate.models import (
    EvalReport,
    GoldInfo,
    PaperResult,
    SystemResult,
    TaxonomyInfo,
)
from tagger.evaluate.report import TERMINAL_ROWS, print_terminal, report_paths, to_html, to_markdown

HOME = Path("/home/h")


def test_report_paths_follow_the_suffix() -> None:
    md = report_paths(Path("out/r.md"), HOME)
    assert (md.markdown, md.json, md.html) == (Path("out/r.md"), Path("out/r.json"), None)
    assert md.predictions(0) == Path("out/r.predictions.jsonl")
    assert md.predictions(1) == Path("out/r.compare.predictions.jsonl")
    js = report_paths(Path("r.json"), HOME)
    assert (js.markdown, js.json, js.html) == (None, Path("r.json"), None)
    page = report_paths(Path("r.html"), HOME)
    assert (page.markdown, page.json, page.html) == (None, Path("r.json"), Path("r.html"))
    bare = report_paths(Path("out/report"), HOME)
    assert (bare.markdown, bare.json) == (Path("out/report.md"), Path("out/report.json"))


def test_without_output_everything_goes_under_home_evals(tmp_path: Path) -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = report_paths(None, tmp_path, now)
    assert first.json == tmp_path / "evals" / "20250102-030405" / "report.json"
    assert first.predictions(0).name == "report.predictions.jsonl"
    first.json.parent.mkdir(parents=True)
    again = report_paths(None, tmp_path, now)  # same second: a fresh folder, nothing overwritten
    assert again.json.parent.name == "20250102-030405-2"


def paper(n: int, summary: str) -> PaperResult:
    return PaperResult(
        id=f"p{n}",
        title=f"Title <{n}>",
        gold_tags=["llm"],
        pred_tags=["llm"],
        jaccard=1.0,
        exact=True,
        reference="ref",
        summary=summary,
        rouge=None,
        one_sentence=True,
        short_enough=True,
        unsupported=[f"GPT-{n}"],
    )


def sample_report(papers: int) -> EvalReport:
    score = TagScore(
        tag="llm", support=1, predicted=1, tp=1, fp=0, fn=0, precision=1, recall=1, f1=1
    )
    system = SystemResult(
        label="A",
        model="m",
        prompt="p@v1",
        max_tags=3,
        predictions="log.jsonl",
        metrics={"micro_f1": 0.5, "papers": papers, "cost_usd_per_paper": 0.00012},
        per_tag=[score],
        papers=[paper(n, "Uses <b>[bold]GPT | tricks[/bold]</b>.") for n in range(papers)],
    )
    return EvalReport(
        tagger_version="0",
        created_at="now",
        gold=GoldInfo(path="gold.jsonl", papers=papers, hash="h"),
        taxonomy=TaxonomyInfo(name="t", path="built-in", hash="t"),
        systems=[system],
    )


def test_markdown_escapes_pipes_and_formats_metrics() -> None:
    text = to_markdown(sample_report(2))
    assert "| micro_f1 | 0.500 |" in text and "| papers | 2 |" in text
    assert "| cost_usd_per_paper | $0.000120 |" in text
    assert "| llm | 1† | 1 | 1.00 | 1.00 | 1.00 |" in text  # too few positives to trust
    assert "Uses <b>[bold]GPT \\| tricks[/bold]</b>." in text


def test_html_escapes_text() -> None:
    page = to_html(sample_report(1))
    assert page.startswith("<!doctype html>") and "GPT-0" in page
    assert "<b>" not in page and "&lt;b&gt;" in page
    assert "<style>" in page and 'rel="stylesheet"' not in page  # one self-contained file


def test_terminal_cuts_long_lists_and_prints_text_literally() -> None:
    buffer = StringIO()
    print_terminal(sample_report(TERMINAL_ROWS + 5), Console(file=buffer, width=200), "r.md")
    out = buffer.getvalue()
    assert f"GPT-{TERMINAL_ROWS - 1}" in out and f"GPT-{TERMINAL_ROWS}" not in out
    assert "5 more in r.md." in out
    assert "Uses <b>[bold]GPT | tricks[/bold]</b>." in out  # no rich markup interpretation
