"""`tagger digest --from-store --since DATE` and `--exclude-sent store`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store_helpers import TAXONOMY, remote, tag_by_title, write_papers

from conftest import invoke
from fake_openai import FakeOpenAI


@pytest.fixture
def stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_papers(tmp_path / "in.jsonl")
    with FakeOpenAI(default=tag_by_title) as server:
        args = [str(source), "-o", str(tmp_path / "a.jsonl"), *remote(server.base_url)]
        assert invoke(capsys, "run", *args).code == 0


def digest(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    result = invoke(capsys, "digest", "--taxonomy", str(TAXONOMY), "--date", "2024-03-01", *args)
    return result.code, result.out, result.err


@pytest.mark.usefixtures("stored")
def test_digest_reads_the_store_since_a_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = digest(capsys, "--from-store", "--since", "2024-02-01")
    assert code == 0, err
    assert "Diffusion Policies for Robot Grasping" in out
    assert "Prompting Large Language Models Without Labels" in out
    assert "Faster Sampling" not in out and "Plan Robot Actions" not in out
    code, out, _ = digest(capsys, "--from-store")
    assert code == 0 and "Faster Sampling" in out


@pytest.mark.usefixtures("stored")
def test_sent_state_in_the_store(capsys: pytest.CaptureFixture[str], tagger_home: Path) -> None:
    code, first, _ = digest(capsys, "--from-store", "--exclude-sent", "store")
    assert code == 0 and "Faster Sampling" in first
    code, _, err = digest(capsys, "--from-store", "--exclude-sent", "store")
    assert code == 0 and "no new papers" in err
    with sqlite3.connect(tagger_home / "store.db") as conn:
        sent = dict(conn.execute("SELECT paper_id, sent_on FROM digest_sent"))
    assert len(sent) == 4 and set(sent.values()) == {"2024-03-01"}
    assert not Path("store").exists()


def test_runs_or_from_store_but_not_both(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = digest(capsys)
    assert code == 2 and "RUNS" in err
    code, _, err = digest(capsys, str(tmp_path / "x.jsonl"), "--from-store")
    assert code == 2 and err.startswith("tagger: error: pass RUNS files")
    code, _, err = digest(capsys, "--from-store")
    assert code == 2 and "no store here yet" in err
