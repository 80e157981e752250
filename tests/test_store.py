"""The run history: every run and eval recorded, read back by `tagger runs|papers|eval history`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import remote, tag_by_title, write_papers

from conftest import invoke
from fake_openai import FakeOpenAI

DATA = Path(__file__).parent / "data" / "eval"


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=tag_by_title) as fake:
        yield fake


# A 400 about this paper's request (litellm: ContextWindowExceededError): the paper fails, the run
# goes on (a 400 about the request as such would stop the run: the next calls fail the same way).
TOO_LONG = "This model's maximum context length is 8192 tokens"


def too_long() -> dict[str, object]:
    return {"status": 400, "body": {"error": {"message": TOO_LONG, "type": "x"}}}


def run(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> None:
    result = invoke(capsys, "run", "--no-progress", *args)
    assert result.code == code, result.err


def test_runs_list_show_papers_round_trip_every_out_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI, tagger_home: Path
) -> None:
    source = write_papers(tmp_path / "in.jsonl")
    server.enqueue(too_long())
    run(
        capsys,
        str(source),
        "-o",
        str(tmp_path / "a.jsonl"),
        *remote(server.base_url),
        "--concurrency",
        "1",
        code=1,  # one paper failed
    )
    run(capsys, str(source), "-o", str(tmp_path / "b.jsonl"), *remote(server.base_url))

    listed = json.loads(invoke(capsys, "runs", "list", "--json").out)
    assert [r["id"] for r in listed] == [2, 1] and {r["status"] for r in listed} == {"completed"}
    assert listed[1]["failed"] == 1 and listed[1]["tagged"] == 3 and listed[0]["cached"] == 3
    assert invoke(capsys, "runs", "list", "--limit", "1", "--json").out.count('"id"') == 1
    for run_id, out in ((1, "a.jsonl"), (2, "b.jsonl")):
        back = invoke(capsys, "runs", "papers", str(run_id), "--jsonl").out
        assert back == (tmp_path / out).read_text()  # byte for byte
    shown = json.loads(invoke(capsys, "runs", "show", "1", "--json").out)
    assert shown["manifest"]["counts"]["failed"] == 1 and shown["output"].endswith("a.jsonl")
    assert [f["title"] for f in shown["failures"]] == ["Faster Sampling for Diffusion Models"]
    assert "maximum context length" in shown["failures"][0]["error"]
    text = invoke(capsys, "runs", "show", "1").out
    assert "failures: 1" in text and "maximum context length" in text
    assert "cost unknown" in text and "$0.0000" not in text  # openai/fake has no known price
    listing = invoke(capsys, "runs", "list").out
    assert listing.count("cost unknown") == 2 and "$0.0000" not in listing
    assert (tagger_home / "store.db").exists()
    assert invoke(capsys, "store", "path").out.strip() == str(tagger_home / "store.db")


def test_live_answers_keep_the_raw_response(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI, tagger_home: Path
) -> None:
    source = write_papers(tmp_path / "in.jsonl")
    run(capsys, str(source), "-o", str(tmp_path / "a.jsonl"), *remote(server.base_url))
    run(capsys, str(source), "-o", str(tmp_path / "b.jsonl"), *remote(server.base_url))
    with sqlite3.connect(tagger_home / "store.db") as conn:
        raw = dict(conn.execute("SELECT run_id, COUNT(raw_response) FROM answers GROUP BY run_id"))
        one = conn.execute("SELECT raw_response FROM answers WHERE run_id = 1").fetchone()[0]
    assert raw == {1: 4, 2: 0}  # cached answers made no call: nothing raw to keep
    assert json.loads(one)["summary"].startswith("Studies ")


def test_papers_filters_by_tag_date_search_and_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    source = write_papers(tmp_path / "in.jsonl")
    run(capsys, str(source), "-o", str(tmp_path / "a.jsonl"), *remote(server.base_url))
    run(capsys, str(source), "-o", str(tmp_path / "b.jsonl"), *remote(server.base_url))

    def titles(*args: str) -> list[str]:
        result = invoke(capsys, "papers", "--jsonl", *args)
        assert result.code == 0, result.err
        return [json.loads(line)["title"] for line in result.out.splitlines()]

    assert len(titles()) == 4  # one line per paper, not per run
    assert titles("--tag", "diffusion") == [
        "Diffusion Policies for Robot Grasping",
        "Faster Sampling for Diffusion Models",
    ]
    assert titles("--tag", "diffusion", "--tag", "robotics") == [
        "Diffusion Policies for Robot Grasping"
    ]
    assert titles("--since", "2024-02-01", "--until", "2024-02-10") == [
        "Diffusion Policies for Robot Grasping"
    ]
    assert titles("--search", "quokka prompting") == [
        "Prompting Large Language Models Without Labels"
    ]  # abstract + title words
    assert titles("--search", 'robot" OR') == []  # FTS syntax is taken as plain words
    assert len(titles("--search", "Studies")) == 4  # summaries are searchable too
    assert titles("--model", "openai/other") == []
    bad = invoke(capsys, "papers", "--since", "last week")
    assert bad.code == 2 and "--since" in bad.err


def test_a_later_failure_does_not_hide_an_earlier_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    source = write_papers(tmp_path / "in.jsonl")
    run(capsys, str(source), "-o", str(tmp_path / "a.jsonl"), *remote(server.base_url))
    server.enqueue(*[too_long()] * 4)
    out = str(tmp_path / "b.jsonl")
    run(capsys, str(source), "-o", out, *remote(server.base_url), "--no-cache", code=1)
    records = [json.loads(x) for x in invoke(capsys, "papers", "--jsonl").out.splitlines()]
    assert {r["status"] for r in records} == {"ok"}


def test_papers_marks_a_paper_that_never_got_an_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    source = write_papers(tmp_path / "in.jsonl")
    server.enqueue(too_long())
    out = str(tmp_path / "a.jsonl")
    run(capsys, str(source), "-o", out, *remote(server.base_url), "--concurrency", "1", code=1)
    listed = invoke(capsys, "papers").out.splitlines()
    failed = [line for line in listed if "(failed)" in line]
    assert len(listed) == 4 and len(failed) == 1 and "Faster Sampling" in failed[0]


def test_no_store_and_store_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    server: FakeOpenAI,
    tagger_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_papers(tmp_path / "in.jsonl")
    args = [str(source), *remote(server.base_url)]
    run(capsys, *args, "-o", str(tmp_path / "a.jsonl"), "--no-store")
    assert not (tagger_home / "store.db").exists()
    run(capsys, *args, "-o", str(tmp_path / "b.jsonl"), "--store", str(tmp_path / "mine.db"))
    monkeypatch.setenv("TAGGER_STORE", str(tmp_path / "env.db"))
    run(capsys, *args, "-o", str(tmp_path / "c.jsonl"))
    for db in ("mine.db", "env.db"):
        with sqlite3.connect(tmp_path / db) as conn:
            assert conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 4
    assert not (tagger_home / "store.db").exists()
    assert invoke(capsys, "store", "path").out.strip() == str(tmp_path / "env.db")


def test_reading_commands_without_a_store_say_so_in_one_line(
    capsys: pytest.CaptureFixture[str], tagger_home: Path
) -> None:
    for args in (["runs", "list"], ["papers"], ["eval", "history"], ["runs", "show", "3"]):
        result = invoke(capsys, *args)
        assert result.code == 2 and result.err.startswith("tagger: error: ")
        assert "no store here yet." in result.err
        assert len(result.err_lines) == 1
    assert not (tagger_home / "store.db").exists()


def test_eval_history_after_two_evals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    gold = ["--gold", str(DATA / "gold.jsonl"), "--taxonomy", str(DATA / "taxonomy.yaml")]
    base = ["eval", "--no-progress", *gold, "--api-base", server.base_url]
    server.default = lambda body: {
        "content": json.dumps({"tags": ["llm"], "summary": "Studies language models."})
    }
    assert invoke(capsys, *base, "--model", "openai/a", "-o", str(tmp_path / "a.json")).code == 0
    assert invoke(capsys, *base, "--model", "openai/b", "-o", str(tmp_path / "b.json")).code == 0
    assert (
        invoke(
            capsys, *base, "--model", "openai/c", "--no-store", "-o", str(tmp_path / "c.json")
        ).code
        == 0
    )
    history = json.loads(invoke(capsys, "eval", "history", "--json").out)
    assert [h["model"] for h in history] == ["openai/a", "openai/b"]
    saved = json.loads((tmp_path / "a.json").read_text())["systems"][0]["metrics"]
    assert history[0]["metrics"] == saved
    assert history[0]["gold_hash"] == json.loads((tmp_path / "a.json").read_text())["gold"]["hash"]
    table = invoke(capsys, "eval", "history", "--metric", "micro_f1", "--metric", "macro_f1")
    assert table.code == 0
    header, *lines = table.out.splitlines()
    assert header.split("\t")[-2:] == ["micro_f1", "macro_f1"] and len(lines) == 2
    assert lines[0].split("\t")[-2] == f"{saved['micro_f1']:.4f}"
    with sqlite3.connect(Path(invoke(capsys, "store", "path").out.strip())) as conn:
        tags = conn.execute("SELECT COUNT(*) FROM eval_tags").fetchone()[0]
    assert tags == 2 * len(json.loads((tmp_path / "a.json").read_text())["systems"][0]["per_tag"])
    evals = json.loads(invoke(capsys, "runs", "list", "--json").out)  # what each eval did
    assert [(r["kind"], r["tagged"], r["failed"]) for r in evals] == [("eval", 4, 0)] * 2
    assert evals[0]["prompt_tokens"] > 0 and evals[1]["cached"] == 0


def test_eval_options_still_work_beside_history(capsys: pytest.CaptureFixture[str]) -> None:
    assert "history" in invoke(capsys, "eval", "--help").out
    assert "--metric" in invoke(capsys, "eval", "history", "--help").out
    bad = invoke(capsys, "eval", "--repeats", "0")
    assert bad.code == 2 and "--repeats" in bad.err
