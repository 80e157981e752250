"""`tagger digest` end to end: outputs, the sent-ids state, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CliResult, invoke

DATA = Path(__file__).parent / "data" / "digest"
RUN1, RUN2 = str(DATA / "run1.jsonl"), str(DATA / "run2.jsonl")
TAXONOMY = ["--taxonomy", str(DATA / "taxonomy.yaml")]


def tagger(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    return invoke(capsys, "digest", *args)


def test_markdown_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    result = tagger(capsys, RUN1, RUN2, *TAXONOMY, "--date", "2024-03-15")
    assert result.code == 0
    assert result.out.startswith("# Papers digest — 2024-03-15\n")
    assert "## Diffusion models (2)" in result.out
    assert "8 papers in 6 sections for 2024-03-15" in result.err


@pytest.mark.parametrize("fmt", ["md", "html", "txt", "rss", "json"])
def test_every_format_carries_the_date_and_counts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"digest.{fmt}"
    args = [RUN1, RUN2, *TAXONOMY, "--date", "2024-03-15", "--format", fmt, "-o", str(out)]
    result = tagger(capsys, *args)
    assert result.code == 0 and result.out == ""
    text = out.read_text(encoding="utf-8")
    assert "2024-03-15" in text
    assert ('"papers": 8' if fmt == "json" else "8 papers in 6 sections") in text


@pytest.mark.parametrize("fmt", ["md", "html", "txt", "rss", "json"])
def test_real_run_output_renders(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    # sample_run.jsonl: 30 lines `tagger run samples` wrote with the embedded model.
    result = tagger(capsys, str(DATA / "sample_run.jsonl"), "--format", fmt, "--group-by", "group")
    assert result.code == 0
    assert "30 papers in" in result.err


def test_options_title_top_group_and_tags(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--title", "Lab digest", "--group-by", "group", "--top", "1", "--format", "json"]
    result = tagger(capsys, RUN1, RUN2, *TAXONOMY, "--date", "2024-03-15", *args)
    data = json.loads(result.out)
    assert data["title"] == "Lab digest"
    assert [s["label"] for s in data["sections"]][:2] == ["Language models", "Generative models"]
    assert all(len(s["entries"]) == 1 for s in data["sections"])

    only = tagger(capsys, RUN1, RUN2, *TAXONOMY, "--tags", "video,agents", "--format", "json")
    labels = [s["label"] for s in json.loads(only.out)["sections"]]
    assert labels == ["Agents & tool use", "Video"]


def test_intro_flag_adds_the_extractive_paragraph(capsys: pytest.CaptureFixture[str]) -> None:
    result = tagger(
        capsys, RUN1, RUN2, *TAXONOMY, "--intro", "--model", "extractive", "--format", "json"
    )
    intro = json.loads(result.out)["intro"]
    assert intro["source"] == "extractive"
    assert intro["text"].startswith("Today: 2 papers on Diffusion models")


def test_default_taxonomy_is_the_packaged_one(capsys: pytest.CaptureFixture[str]) -> None:
    result = tagger(capsys, RUN1, RUN2, "--format", "json")
    labels = [s["label"] for s in json.loads(result.out)["sections"]]
    assert "Reasoning and math" in labels


def test_exclude_sent_skips_yesterdays_papers_and_records_todays(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "sent.json"
    day1 = tagger(capsys, RUN1, *TAXONOMY, "--date", "2024-03-14", "--exclude-sent", str(state))
    assert day1.code == 0 and "Chain-of-Thought" in day1.out
    sent = json.loads(state.read_text())["sent"]
    assert sent["2401.00001"] == "2024-03-14"
    assert "2401.00005" not in sent  # failed: never shown, so not sent

    day2 = tagger(
        capsys, RUN1, RUN2, *TAXONOMY, "--date", "2024-03-15", "--exclude-sent", str(state)
    )
    assert "Chain-of-Thought" not in day2.out
    assert "Video World Models" in day2.out
    assert "6 already sent" in day2.out
    sent = json.loads(state.read_text())["sent"]
    assert sent["2401.00001"] == "2024-03-14"  # keeps the day it was first sent
    assert sent["2401.00009"] == "2024-03-15"
    assert [p.name for p in tmp_path.iterdir()] == ["sent.json"]  # no temp file left behind


def test_nothing_new_says_so_writes_nothing_and_keeps_the_state(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state, out = tmp_path / "sent.json", tmp_path / "digest.html"
    tagger(capsys, RUN1, *TAXONOMY, "--exclude-sent", str(state))
    before = state.read_bytes()
    again = tagger(
        capsys, RUN1, *TAXONOMY, "--exclude-sent", str(state), "--format", "html", "-o", str(out)
    )
    assert again.code == 0
    assert "no new papers" in again.err and "6 already sent" in again.err
    assert again.out == "" and not out.exists()
    assert state.read_bytes() == before


def test_state_is_not_touched_when_the_output_cannot_be_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "sent.json"
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = tagger(
        capsys, RUN1, *TAXONOMY, "--exclude-sent", str(state), "-o", str(blocker / "d.md")
    )
    assert result.code == 2
    assert result.err.startswith("tagger: error: ") and result.err.count("\n") == 1
    assert not state.exists()


def test_missing_run_file_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = tagger(capsys, str(tmp_path / "missing.jsonl"))
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert f"{tmp_path / 'missing.jsonl'}: cannot read run file" in result.err
    assert "Traceback" not in result.err


def test_invalid_line_is_one_line_with_file_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    result = tagger(capsys, RUN1, str(DATA / "bad_json.jsonl"))
    assert result.code == 2
    assert f"{DATA / 'bad_json.jsonl'}:2: line is not valid JSON" in result.err
    assert result.out == ""


def test_a_manifest_nested_too_deeply_is_ignored_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The digest reads OUT.run.json beside a run file to follow its taxonomy; one nested past
    the recursion limit was a RecursionError traceback instead of "no manifest to follow"."""
    run = tmp_path / "run.jsonl"
    run.write_text((DATA / "sample_run.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "run.run.json").write_text("[" * 100_000, encoding="utf-8")
    result = tagger(capsys, str(run))
    assert result.code == 0, result.err
    assert "30 papers in" in result.err


def test_corrupt_state_is_one_line_and_left_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "sent.json"
    state.write_text('{"version": 1,\n "sent": {oops}}')
    result = tagger(capsys, RUN1, *TAXONOMY, "--exclude-sent", str(state))
    assert result.code == 2
    assert f"{state}:2: the sent-ids state is not valid JSON" in result.err
    assert state.read_text() == '{"version": 1,\n "sent": {oops}}'


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--tags", "nope"], "unknown tag id 'nope'"),
        (["--format", "eml"], "need at least one --to"),
        (["--smtp", "127.0.0.1:25"], "need at least one --to"),
        (["--format", "eml", "--to", "not an address"], "--to needs email addresses"),
    ],
)
def test_bad_options_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    result = tagger(capsys, RUN1, *TAXONOMY, *args)
    assert result.code == 2
    assert words in result.err and result.err.count("\n") == 1
