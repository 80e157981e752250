"""An endpoint pool (litellm Router) over three fake servers on 127.0.0.1, one of which fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SAMPLES
from fake_openai import FakeOpenAI
from tagger.cli.main import main
from tagger.errors import ConfigError
from tagger.models.router import load_endpoints


def pool_file(tmp_path: Path, bases: list[str], per_endpoint: int = 4) -> Path:
    lines = ["model: openai/pool-model", "cooldown_s: 60", "endpoints:"]
    for base in bases:
        lines += [f"  - api_base: {base}", f"    max_concurrency: {per_endpoint}"]
    path = tmp_path / "endpoints.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_pool_balances_and_fails_over(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    with FakeOpenAI() as a, FakeOpenAI() as b, FakeOpenAI() as broken:
        a.latency_s = b.latency_s = 0.02
        broken.default = lambda body: {"status": 503}
        config = pool_file(tmp_path, [a.base_url, b.base_url, broken.base_url])
        main(["run", str(SAMPLES), "-o", str(out), "--endpoints", str(config), "--limit", "60"])
        served_a, served_b, failed = len(a.requests), len(b.requests), len(broken.requests)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 60 and all(r["status"] == "ok" for r in rows)
    assert served_a + served_b == 60
    assert served_a >= 10 and served_b >= 10  # both healthy servers share the load
    # the broken one is cooled down after its first failures (at most its in-flight slots)
    assert 1 <= failed <= 4
    manifest = json.loads((tmp_path / "o.run.json").read_text())
    assert manifest["usage"]["retries"] == failed
    assert manifest["model"] == "openai/pool-model"


def test_bad_pool_file_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("model: openai/x\nendpoints: []\n")
    with pytest.raises(ConfigError, match="endpoints"):
        load_endpoints(path)
