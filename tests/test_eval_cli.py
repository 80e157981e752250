"""`tagger eval` end to end on a loopback fake OpenAI server (and once on the embedded model)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult, invoke
from fake_openai import FakeOpenAI, Reply

DATA = Path(__file__).parent / "data" / "eval"
GOLD = ["--gold", str(DATA / "gold.jsonl"), "--taxonomy", str(DATA / "taxonomy.yaml")]
GOLD_TAGS = {
    r["title"]: r["tags"] for r in map(json.loads, (DATA / "gold.jsonl").read_text().splitlines())
}
FAILING_TITLE = "Scaling Instruction Tuning"


def tagger(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    return invoke(capsys, "eval", "--no-progress", *args)


class Oracle:
    """Answers by model name: good = the gold tags, bad = always 'llm', flaky = good every other
    call for a title, fails = 400 for one title, down = 400 for every title. A prompt saying
    STRICT keeps only the first tag."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, body: dict[str, Any]) -> Reply:
        title = re.search(r"Title: (.*)", body["messages"][-1]["content"])
        assert title is not None
        name, model = title.group(1).strip(), body["model"]
        self.calls[name] += 1
        if (model == "fails" and name == FAILING_TITLE) or model == "down":
            return {"status": 400, "body": {"error": {"message": "bad request", "type": "x"}}}
        tags = list(GOLD_TAGS[name])
        if model == "bad" or (model == "flaky" and self.calls[name] % 2 == 0):
            tags = ["llm"]
        if "STRICT" in body["messages"][0]["content"]:
            tags = tags[:1]
        summary = f"Studies {name.lower()} on 7 benchmarks."
        return {"content": json.dumps({"tags": tags, "summary": summary})}


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=Oracle()) as fake:
        yield fake


def remote(server: FakeOpenAI, model: str = "good") -> list[str]:
    return [*GOLD, "--model", f"openai/{model}", "--api-base", server.base_url]


def report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_scores_writes_report_and_predictions_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    result = tagger(capsys, *remote(server), "-o", str(tmp_path / "r.md"))
    assert result.code == 0, result.err
    data = report(tmp_path / "r.json")
    metrics = data["systems"][0]["metrics"]
    assert metrics["micro_f1"] == 1.0 and metrics["exact_match"] == 1.0
    assert metrics["unfaithful_rate"] == 1.0  # "7 benchmarks" is in no abstract
    assert metrics["prompt_tokens_per_paper"] > 0
    log = tmp_path / "r.predictions.jsonl"
    assert len(log.read_text().splitlines()) == 4
    assert data["systems"][0]["predictions"] == str(log)
    assert "| micro_f1 | 1.000 |" in (tmp_path / "r.md").read_text()
    assert "micro_f1" in result.out and "Unsupported details" in result.out
    assert "tagger: report:" in result.err


def test_reevaluating_an_unchanged_prompt_costs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    assert tagger(capsys, *remote(server), "-o", str(tmp_path / "a.json")).code == 0
    calls = len(server.requests)
    assert tagger(capsys, *remote(server), "-o", str(tmp_path / "b.json")).code == 0
    assert len(server.requests) == calls
    metrics = report(tmp_path / "b.json")["systems"][0]["metrics"]
    assert metrics["cached"] == 4 and metrics["cost_usd_spent"] == 0
    assert metrics["prompt_tokens_per_paper"] > 0  # cached answers keep their original usage


def test_baseline_gate_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    baseline = tmp_path / "base.json"
    assert tagger(capsys, *remote(server), "-o", str(baseline)).code == 0
    worse = tagger(capsys, *remote(server, "bad"), "--baseline", str(baseline))
    assert worse.code == 1
    assert "tagger: regression: micro_f1 1.0000 -> " in worse.err
    assert "FAIL" in worse.out
    assert (
        tagger(capsys, *remote(server, "bad"), "--baseline", str(baseline), "--max-drop", "1").code
        == 0
    )
    same_summaries = tagger(
        capsys, *remote(server, "bad"), "--baseline", str(baseline), "--metric", "rouge1"
    )
    assert same_summaries.code == 0
    assert tagger(capsys, *remote(server), "--baseline", str(baseline)).code == 0


def test_compare_a_second_model_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    result = tagger(
        capsys, *remote(server), "--compare", "openai/bad", "-o", str(tmp_path / "c.md")
    )
    assert result.code == 0, result.err
    data = report(tmp_path / "c.json")
    assert [s["model"] for s in data["systems"]] == ["openai/good", "openai/bad"]
    comparison = data["comparison"]
    # bad answers 'llm' everywhere: right on p3, worse on the other three
    assert (comparison["wins"], comparison["losses"], comparison["ties"]) == (3, 0, 1)
    assert [d["id"] for d in comparison["diffs"]] == ["p1", "p2", "p4"]
    assert (tmp_path / "c.compare.predictions.jsonl").is_file()
    assert "Papers where the tags differ" in result.out
    assert "A better on 3, B better on 0, tied on 1" in result.out


def test_compare_a_second_prompt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    source = (Path(__file__).parent.parent / "prompts" / "tag_summarize" / "v1.yaml").read_text()
    v2 = tmp_path / "tag_summarize" / "v2.yaml"
    v2.parent.mkdir()
    v2.write_text(
        source.replace("version: 1", "version: 2").replace("system: |", "system: |\n  STRICT")
    )
    result = tagger(capsys, *remote(server), "--compare", str(v2), "-o", str(tmp_path / "c.json"))
    assert result.code == 0, result.err
    data = report(tmp_path / "c.json")
    assert [s["prompt"] for s in data["systems"]] == ["tag_summarize@v1", "tag_summarize@v2"]
    assert [d["id"] for d in data["comparison"]["diffs"]] == ["p2", "p4"]  # the two-tag papers
    assert data["comparison"]["deltas"]["micro_recall"] < 0


def test_repeats_use_separate_cache_namespaces_and_report_agreement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    args = [*remote(server, "flaky"), "--repeats", "3", "-o", str(tmp_path / "r.json")]
    assert tagger(capsys, *args).code == 0
    assert len(server.requests) == 12  # 4 papers x 3 runs: repeats are not cache hits
    system = report(tmp_path / "r.json")["systems"][0]
    assert system["metrics"]["exact_match"] == 1.0  # run 1 is right ...
    assert system["metrics"]["pass_hat_n"] == 0.25  # ... but only p3 is right in all 3 runs
    assert system["consistency"]["unstable"] == ["p1", "p2", "p4"]
    assert (tmp_path / "r.predictions.repeat-2.jsonl").is_file()
    assert tagger(capsys, *args).code == 0
    assert len(server.requests) == 12  # every repeat came from its own cache namespace


def test_failed_papers_count_as_empty_and_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    result = tagger(capsys, *remote(server, "fails"), "-o", str(tmp_path / "f.json"))
    assert result.code == 1, result.err  # not every paper was answered
    system = report(tmp_path / "f.json")["systems"][0]
    assert system["metrics"]["failed"] == 1
    assert system["metrics"]["micro_recall"] == pytest.approx(5 / 6)
    failed = [p for p in system["papers"] if p["status"] == "failed"]
    assert [p["id"] for p in failed] == ["p3"] and failed[0]["pred_tags"] == []
    assert "Failed papers" in result.out and FAILING_TITLE in result.out


def test_from_log_rescores_without_running_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(default=Oracle()) as server:
        assert tagger(capsys, *remote(server), "-o", str(tmp_path / "r.json")).code == 0
    log = tmp_path / "r.predictions.jsonl"
    result = tagger(capsys, *GOLD, "--from-log", str(log), "-o", str(tmp_path / "again.json"))
    assert result.code == 0, result.err
    system = report(tmp_path / "again.json")["systems"][0]
    assert system["metrics"]["micro_f1"] == 1.0
    assert (system["model"], system["prompt"]) == ("openai/good", "tag_summarize@v1")
    partial = tmp_path / "partial.jsonl"
    partial.write_text("".join(log.read_text().splitlines(keepends=True)[:3]))
    result = tagger(capsys, *GOLD, "--from-log", str(partial), "--json")
    data = json.loads(result.out)
    assert data["systems"][0]["metrics"]["failed"] == 1
    assert "has no prediction for 1 of 4 gold papers" in result.err


def test_bad_gold_is_one_line_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = tmp_path / "gold.jsonl"
    lines = (DATA / "gold.jsonl").read_text().splitlines()
    gold.write_text(lines[0] + "\n" + lines[1].replace('"robotics"', '"quantum"') + "\n")
    result = tagger(capsys, "--gold", str(gold), "--taxonomy", str(DATA / "taxonomy.yaml"))
    assert result.code == 2
    assert result.err.startswith(f"tagger: error: {gold}:2: unknown tag 'quantum'")
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-log", "x.jsonl", "--repeats", "2"], "--repeats needs the model"),
        (["--metric", "accuracy"], "unknown metric 'accuracy'"),
        (["--metric", "pass_hat_n"], "needs --repeats N"),
        (["--baseline", "absent.json"], "cannot read the baseline"),
    ],
)
def test_option_mistakes_fail_before_any_model_call(
    capsys: pytest.CaptureFixture[str], server: FakeOpenAI, args: list[str], message: str
) -> None:
    result = tagger(capsys, *remote(server), *args)
    assert result.code == 2 and message in result.err
    assert server.requests == []


@pytest.mark.slow
def test_embedded_model_gates_against_its_own_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tagger_home: Path
) -> None:
    baseline = tmp_path / "local.json"
    assert tagger(capsys, *GOLD, "-o", str(baseline)).code == 0
    assert report(baseline)["systems"][0]["model"] == "local/minilm"
    result = tagger(capsys, *GOLD, "--baseline", str(baseline), "--max-drop", "0.02")
    assert result.code == 0, result.err
    assert "Gate passed" in result.out
    saved = list((tagger_home / "evals").glob("*/report.predictions.jsonl"))
    assert len(saved) == 1  # without -o the log lands under $TAGGER_HOME/evals/<timestamp>/


def pack_oracle(body: dict[str, Any]) -> Reply:
    """Right when asked about one paper; in a pack, right only about the first of them."""
    user = body["messages"][-1]["content"]
    packed = re.findall(r'<abstract id="(p\d+)">\nTitle: (.*)', user)
    if not packed:
        name = re.search(r"Title: (.*)", user)
        assert name is not None
        tags = GOLD_TAGS[name.group(1).strip()]
        return {"content": json.dumps({"tags": tags, "summary": "Studies the problem."})}
    items = [
        {"id": pid, "tags": GOLD_TAGS[title.strip()] if i == 0 else ["llm"],
         "summary": f"Studies problem {pid}."}
        for i, (pid, title) in enumerate(packed)
    ]  # fmt: skip
    return {"content": json.dumps({"items": items})}


def test_pack_measures_what_packing_does_to_quality(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(default=pack_oracle) as server:
        base = [*GOLD, "--model", "openai/packer", "--api-base", server.base_url]
        single = tagger(capsys, *base, "-o", str(tmp_path / "one.json"))
        calls = len(server.requests)
        packed = tagger(capsys, *base, "--pack", "2", "-o", str(tmp_path / "two.json"))
        pack_calls = len(server.requests) - calls
    assert single.code == 0 and packed.code == 0, packed.err
    assert calls == 4 and pack_calls == 2  # 4 gold papers, two per request
    one, two = report(tmp_path / "one.json"), report(tmp_path / "two.json")
    assert one["systems"][0]["metrics"]["micro_f1"] == 1.0
    assert two["systems"][0]["metrics"]["micro_f1"] < 1.0  # the second of each pack was wrong
    assert any("2 abstracts per request" in note for note in two["notes"])


def test_some_failed_papers_exit_1_with_one_closing_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    result = tagger(capsys, *remote(server, "fails"), "-o", str(tmp_path / "f.json"))
    assert result.code == 1
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("tagger: 1 of 4 papers failed (A: 1)"), result.err
    assert (tmp_path / "f.json").is_file()  # the report is written all the same


def test_a_model_that_failed_on_every_paper_is_not_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    result = tagger(
        capsys, *remote(server), "--compare", "openai/down", "-o", str(tmp_path / "c.json")
    )
    assert result.code == 1
    assert "better on" not in result.out  # not "A better on 3": B answered nothing
    assert "tagger: error: B (openai/down) failed on every paper (4 of 4)" in result.err
    assert report(tmp_path / "c.json")["comparison"] is None
    alone = tagger(capsys, *remote(server, "down"))
    assert alone.code == 1
    assert "tagger: error: A (openai/down) failed on every paper (4 of 4)" in alone.err


def test_embedded_model_ignores_the_prompt_so_a_prompt_compare_is_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v2 = tmp_path / "tag_summarize" / "v2.yaml"
    v2.parent.mkdir()
    source = (Path(__file__).parent.parent / "prompts" / "tag_summarize" / "v1.yaml").read_text()
    v2.write_text(source.replace("version: 1", "version: 2"))
    args = [*GOLD, "--model", "local/keyword", "--compare", str(v2), "-o", str(tmp_path / "c.md")]
    result = tagger(capsys, *args)
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if "does not read the prompt" in line]
    assert len(warnings) == 1 and warnings[0].startswith("tagger: warning: local/keyword")
    data = report(tmp_path / "c.json")
    assert len(data["systems"]) == 1 and data["comparison"] is None  # B was not computed
    assert not (tmp_path / "c.compare.predictions.jsonl").exists()
    assert any("does not read the prompt" in n for n in data["notes"])
    assert "does not read the prompt" in (tmp_path / "c.md").read_text()
    chosen = tagger(capsys, *GOLD, "--model", "local/keyword", "--prompt", str(v2))
    assert chosen.code == 0, chosen.err
    assert "tagger: warning: local/keyword does not read the prompt" in chosen.err
    logged = [*GOLD, "--from-log", str(tmp_path / "c.predictions.jsonl")]
    beside = tagger(capsys, *logged, "--model", "local/keyword", "--compare", str(v2))
    assert beside.code == 0, beside.err  # B runs (A is a log), but the prompt changes nothing
    assert f"--compare {v2} changes none of B's answers" in beside.err


def test_repeats_on_a_deterministic_model_warn_that_they_show_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    embedded = tagger(capsys, *GOLD, "--model", "local/keyword", "--repeats", "2")
    assert embedded.code == 0, embedded.err
    assert "tagger: warning: local/keyword is deterministic" in embedded.err
    assert "pass^N" in embedded.err
    greedy = tagger(capsys, *remote(server), "--repeats", "2")
    assert "tagger: warning: openai/good samples at temperature 0" in greedy.err
    once = tagger(capsys, *GOLD, "--model", "local/keyword")
    assert "deterministic" not in once.err


def test_columns_say_which_way_a_difference_goes_and_empty_sections_are_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    result = tagger(capsys, *remote(server), "--compare", "openai/bad", "--no-cache")
    assert "B vs A" in result.out and "B − A" not in result.out
    assert "A (under test): openai/good" in result.out
    assert "B (--compare): openai/bad" in result.out
    same = tagger(capsys, *remote(server), "--compare", "openai/good")
    assert same.code == 0, same.err
    assert "Papers where the tags differ" not in same.out  # no paper differs: no empty table
    assert "tied on 4" in same.out


def test_gate_prints_a_regression_as_worse_not_as_a_plus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    baseline = tmp_path / "base.json"
    assert tagger(capsys, *remote(server), "-o", str(baseline)).code == 0
    worse = tagger(capsys, *remote(server, "bad"), "--baseline", str(baseline))
    row = next(line for line in worse.out.splitlines() if "micro_f1 " in line and "FAIL" in line)
    assert "worse by" in row and "+" not in row, worse.out


def test_report_states_the_micro_f1_interval_and_the_gate_warns_when_it_is_wider(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: FakeOpenAI
) -> None:
    baseline = tmp_path / "base.json"
    assert tagger(capsys, *remote(server), "-o", str(baseline)).code == 0
    system = report(baseline)["systems"][0]
    assert system["micro_f1_ci"]["low"] == system["micro_f1_ci"]["high"] == 1.0
    out = tmp_path / "f.html"
    result = tagger(
        capsys, *remote(server, "fails"), "--baseline", str(baseline), "--max-drop", "0.5",
        "-o", str(out),
    )  # fmt: skip
    ci = report(tmp_path / "f.json")["systems"][0]["micro_f1_ci"]
    assert ci["low"] < report(tmp_path / "f.json")["systems"][0]["metrics"]["micro_f1"]
    assert ci["resamples"] == 1000 and ci["level"] == 0.95
    assert "micro_f1 95% interval" in result.out
    html = out.read_text()  # the viewer's eval page: the interval stands beside micro_f1's value
    assert re.search(r"micro_f1</td><td>[\d.]+ <span class=\"ci\">95% interval [\d.]+–", html)
    assert "smaller than" not in result.err
    narrow = tagger(
        capsys, *remote(server, "fails"), "--baseline", str(baseline), "--max-drop", "0.01"
    )
    warning = [line for line in narrow.err.splitlines() if "smaller than" in line]
    assert len(warning) == 1 and warning[0].startswith("tagger: warning: --max-drop 0.01")
