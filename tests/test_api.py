"""The Python API (`import tagger`): tags dicts and Paper records, remote and embedded."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import PAPERS, TAXONOMY, tag_by_title

import tagger
from conftest import ROOT, SAMPLES
from fake_openai import FakeOpenAI
from tagger.errors import InputError

DATA = Path(__file__).parent / "data" / "eval"


def dicts() -> list[dict[str, str]]:
    return [{"title": t, "abstract": f"We study {t.lower()}."} for _, t, _, _ in PAPERS]


def test_tagger_tags_dicts_through_the_loopback_server_in_order() -> None:
    with FakeOpenAI(default=tag_by_title) as server:
        model = tagger.Tagger("openai/fake", server.base_url, taxonomy=str(TAXONOMY))
        records = model.tag(dicts())
        calls = len(server.requests)
        again = model.tag(reversed(dicts()))
    assert [r.title for r in records] == [t for _, t, _, _ in PAPERS]
    assert [set(r.tags) for r in records] == [set(t.split()) for *_, t in PAPERS]
    assert all(r.status == "ok" and not r.cached and r.model == "openai/fake" for r in records)
    assert calls == 4 and len(server.requests) == 4  # the second call was served by the cache
    assert [r.title for r in again] == [t for _, t, _, _ in reversed(PAPERS)]
    assert all(r.cached for r in again)


def test_atag_and_tag_inside_a_running_loop() -> None:
    with FakeOpenAI(default=tag_by_title) as server:
        model = tagger.Tagger("openai/fake", server.base_url, taxonomy=str(TAXONOMY), cache=False)

        async def notebook_cell() -> tuple[list[tagger.TaggedPaper], list[tagger.TaggedPaper]]:
            return await model.atag(dicts()[:2]), model.tag(dicts()[2:])  # as in Jupyter

        first, second = asyncio.run(notebook_cell())
    assert [r.title for r in first + second] == [t for _, t, _, _ in PAPERS]
    assert len(server.requests) == 4


def test_embedded_default_tags_paper_records(tmp_path: Path) -> None:
    papers = tagger.deduplicate(tagger.read_papers(str(SAMPLES)))
    assert len(papers) == 270 and all(isinstance(p, tagger.Paper) for p in papers)
    records = tagger.Tagger().tag(papers[:3])
    assert [r.id for r in records] == [p.id for p in papers[:3]]
    assert all(r.model == "local/minilm" and r.status == "ok" and r.tags for r in records)
    as_dicts = [{"title": p.title, "abstract": p.abstract} for p in papers[:3]]
    from_dicts = tagger.Tagger().tag(as_dicts)  # plain dicts through the embedded default too
    assert [(r.tags, r.summary) for r in from_dicts] == [(r.tags, r.summary) for r in records]


def test_bad_papers_are_one_clear_error() -> None:
    model = tagger.Tagger()
    with pytest.raises(InputError, match="paper 2: record has no abstract"):
        model.tag([{"title": "A", "abstract": "B c d."}, {"title": "No abstract"}])
    with pytest.raises(InputError, match="paper 1 is a str"):
        model.tag(["just a title"])  # type: ignore[list-item]
    assert model.tag([]) == []


def test_evaluate_gold_scores_like_tagger_eval(tmp_path: Path) -> None:
    gold = {
        json.loads(x)["title"]: json.loads(x)["tags"]
        for x in (DATA / "gold.jsonl").read_text().splitlines()
    }

    def oracle(body: dict[str, object]) -> dict[str, str]:
        title = re.search(r"Title: (.*)", body["messages"][-1]["content"])  # type: ignore[index]
        assert title is not None
        tags = gold[title.group(1).strip()]
        return {"content": json.dumps({"tags": tags, "summary": "Studies it on a benchmark."})}

    with FakeOpenAI(default=oracle) as server:
        report = tagger.evaluate_gold(
            "openai/fake",
            gold=str(DATA / "gold.jsonl"),
            taxonomy=str(DATA / "taxonomy.yaml"),
            api_base=server.base_url,
            output=tmp_path / "r.json",
        )
    assert report.systems[0].metrics["micro_f1"] == 1.0
    assert json.loads((tmp_path / "r.json").read_text())["systems"][0]["metrics"]["micro_f1"] == 1


def test_import_is_cheap_and_leaves_the_environment_alone() -> None:
    code = (
        "import os, sys, json\n"
        "before = dict(os.environ)\n"
        "import tagger\n"
        "tagger.Tagger('openai/x'); tagger.read_papers; tagger.deduplicate; tagger.TaggedPaper\n"
        "changed = {k: v for k, v in os.environ.items() if before.get(k) != v}\n"
        "gone = [k for k in before if k not in os.environ]\n"
        "heavy = [m for m in ('litellm', 'instructor', 'onnxruntime', 'openai', 'numpy')"
        " if m in sys.modules]\n"
        "print(json.dumps([changed, gone, heavy]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    changed, gone, heavy = json.loads(out)
    assert changed == {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # what litellm needs offline
    assert gone == [] and heavy == []
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "False"  # the host's own choice wins
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert json.loads(out)[0] == {}


def test_the_api_shows_in_dir_for_tab_completion() -> None:
    """The API loads on first use; dir(tagger), what a notebook completes `tagger.` from, still
    lists it (it listed only Any, TYPE_CHECKING, annotations and os)."""
    names = dir(tagger)
    assert set(tagger.__all__) <= set(names)
    assert "Tagger" in names and "read_papers" in names and "os" not in names
    assert all(hasattr(tagger, name) for name in names)


def readme_python_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    return str(blocks[0])


def test_the_readme_python_example_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(readme_python_example(), "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3 and all(re.match(r"\S+ \[.+\] \S", line) for line in printed)
