"""`tagger run` as a user runs it: real CLI, ingest and dedup; fake server or embedded model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLES, invoke
from fake_openai import FakeOpenAI


def rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_cli(*args: str) -> None:
    code = invoke(None, *args).code
    assert code == 0, f"tagger exited with {code}"


def test_samples_through_the_real_http_path_then_cache_hits(tmp_path: Path) -> None:
    out1, out2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    with FakeOpenAI() as server:
        args = ["--model", "openai/fake", "--api-base", server.base_url, "--concurrency", "16"]
        run_cli("run", str(SAMPLES), "-o", str(out1), *args)
        calls = len(server.requests)
        run_cli("run", str(SAMPLES), "-o", str(out2), *args)
    assert calls == 270 and len(server.requests) == 270  # second run: zero model calls
    first, second = rows(out1), rows(out2)
    assert len(first) == len(second) == 270
    assert all(r["status"] == "ok" and not r["cached"] for r in first)
    assert all(r["cached"] for r in second)
    merged = sum(len(r["duplicates"]) for r in first)  # type: ignore[arg-type]
    assert merged == 40
    manifest = json.loads((tmp_path / "a.run.json").read_text())
    assert manifest["counts"] == {
        "input": 310,
        "unique": 270,
        "tagged": 270,
        "cached": 0,
        "failed": 0,
        "skipped_resume": 0,
        "truncated": 0,
        "not_attempted": 0,
        "failed_earlier": 0,
        "cache_invalid": 0,
    }
    assert manifest["usage"]["prompt_tokens"] > 0 and manifest["usage"]["calls"] == 270


def test_cache_hit_imports_no_litellm(tmp_path: Path, tagger_home: Path) -> None:
    """A rerun served from cache must not pay litellm's import (checked in a fresh process)."""
    out = tmp_path / "a.jsonl"
    with FakeOpenAI() as server:
        base = ["--model", "openai/fake", "--api-base", server.base_url, "--limit", "5"]
        run_cli("run", str(SAMPLES), "-o", str(out), *base)
        code = (
            "import sys; from tagger.cli.main import main\n"
            "try: main(sys.argv[1:])\n"
            "finally: print('LITELLM' if 'litellm' in sys.modules else 'CLEAN')"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, "run", str(SAMPLES), "-o", str(tmp_path / "b.jsonl")]
            + base,
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "TAGGER_HOME": str(tagger_home)},
            check=True,
        )
    assert result.stdout.strip().endswith("CLEAN"), result.stderr
    assert "tagged 5 (5 cached)" in result.stderr


def test_limit_resume_and_prompt_version_in_every_line(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    with FakeOpenAI() as server:
        base = ["--model", "openai/fake", "--api-base", server.base_url]
        run_cli("run", str(SAMPLES), "-o", str(out), *base, "--limit", "10")
        run_cli("run", str(SAMPLES), "-o", str(out), *base, "--limit", "25", "--resume")
    ids = [r["id"] for r in rows(out)]
    assert len(ids) == len(set(ids)) == 25
    assert len(server.requests) == 25
    assert {r["prompt"] for r in rows(out)} == {"tag_summarize@v1"}


def test_bad_input_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = invoke(capsys, "run", str(empty), "-o", str(tmp_path / "o.jsonl"))
    assert result.code == 2
    err = result.err.strip()
    assert err.startswith("tagger: error: ") and str(empty) in err and "\n" not in err


@pytest.mark.slow
def test_samples_on_the_embedded_default_model(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    run_cli("run", str(SAMPLES), "-o", str(out), "--limit", "40")
    result = rows(out)
    assert len(result) == 40 and all(r["status"] == "ok" for r in result)
    assert {r["model"] for r in result} == {"local/minilm"}
    for r in result:
        summary = str(r["summary"])
        assert 0 < len(summary) <= 160 and "\n" not in summary
        assert 1 <= len(r["tags"]) <= 3  # type: ignore[arg-type]


def test_threshold_zero_is_refused_in_run_not_replaced_by_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import invoke

    src = tmp_path / "p.jsonl"
    src.write_text('{"title": "T", "abstract": "A."}\n')
    out = tmp_path / "o.jsonl"
    result = invoke(capsys, "run", str(src), "-o", str(out), "--threshold", "0")
    assert result.code == 2 and "--threshold" in result.err
    assert not out.exists()
