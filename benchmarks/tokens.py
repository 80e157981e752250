"""Tokens per paper for the default prompt on the samples, and what a million papers would cost.

Prompt tokens are counted with litellm.token_counter (tiktoken's o200k_base for gpt-4o-mini)
twice: on the rendered default prompt, and on the request as actually sent, which the fake
server records (instructor's JSON mode appends the response schema to the system message).
Completion tokens are estimated from the gold set's answers written as the JSON the model returns.

  python benchmarks/tokens.py [--model gpt-4o-mini]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
GOLD = ROOT / "eval" / "gold.jsonl"
PACK = 8  # `--pack 8`: the instructions once per 8 abstracts


def _count(model: str, messages: list[dict[str, str]]) -> int:
    import litellm

    return int(litellm.token_counter(model=model, messages=messages))


def rendered_tokens(model: str) -> tuple[list[int], int]:
    """Prompt tokens of the rendered default prompt per unique sample paper, and of its
    system message alone (the same for every paper: a cacheable prefix)."""
    from tagger.config.prompts import load_prompt, render
    from tagger.config.taxonomy import load_taxonomy
    from tagger.dedup.source import load_unique

    prompt, taxonomy = load_prompt(), load_taxonomy(None)
    papers = load_unique([str(SAMPLES)]).papers
    counts = [_count(model, render(prompt, u.paper, taxonomy, 3)) for u in papers]
    system = render(prompt, papers[0].paper, taxonomy, 3)[:1]
    return counts, _count(model, system)


def sent_tokens(model: str, tmp: Path) -> tuple[list[int], float]:
    """Prompt tokens of each request `tagger run samples` sends (recorded by the fake server),
    and the mean request body size in bytes."""
    from benchmarks.fake_server import ServerProcess
    from benchmarks.overhead import MODEL, TAG
    from tagger.cli.main import main

    record = tmp / "requests.jsonl"
    os.environ["TAGGER_HOME"] = str(tmp / "home")
    with ServerProcess(tag=TAG, record=record) as base_url:
        argv = ["run", str(SAMPLES), "-o", str(tmp / "out.jsonl"), "--no-cache", "--no-progress"]
        main([*argv, "--model", MODEL, "--api-base", base_url, "--concurrency", "16"])
    lines = record.read_text().splitlines()
    bodies = [json.loads(line) for line in lines]
    size = statistics.mean(len(line.encode()) for line in lines)
    return [_count(model, body["messages"]) for body in bodies], size


def packed_tokens(model: str, pack: int) -> tuple[float, float]:
    """`--pack K`: (prompt, completion) tokens per paper, with the request built the way
    instructor's JSON mode builds it and gold answers as the packed JSON the model returns."""
    from instructor import openai_schema
    from instructor.v2.providers.openai.handlers import OpenAIJSONHandler

    from tagger.config.prompts import load_prompt, render_pack
    from tagger.config.schema import packed_model
    from tagger.config.taxonomy import load_taxonomy
    from tagger.dedup.source import load_unique

    prompt, taxonomy = load_prompt(), load_taxonomy(None)
    papers = [u.paper for u in load_unique([str(SAMPLES)]).papers]
    prompt_total = 0
    for start in range(0, len(papers), pack):
        chunk = papers[start : start + pack]
        ids = tuple(f"p{i}" for i in range(1, len(chunk) + 1))
        schema = openai_schema(packed_model(taxonomy, 3, ids))
        messages = render_pack(prompt, chunk, taxonomy, 3)
        _, kwargs = OpenAIJSONHandler().prepare_request(schema, {"messages": messages})
        prompt_total += _count(model, kwargs["messages"])
    gold = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    completion_total = 0
    for start in range(0, len(gold), pack):
        items = [
            {"id": f"p{i}", "tags": row["tags"], "summary": row["summary"]}
            for i, row in enumerate(gold[start : start + pack], start=1)
        ]
        completion_total += _count_text(model, json.dumps({"items": items}))
    return prompt_total / len(papers), completion_total / len(gold)


def _count_text(model: str, text: str) -> int:
    import litellm

    return int(litellm.token_counter(model=model, text=text))


def completion_tokens(model: str) -> list[int]:
    """Tokens of each gold answer as the JSON object the model is asked to return."""
    counts = []
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        counts.append(
            _count_text(model, json.dumps({"tags": row["tags"], "summary": row["summary"]}))
        )
    return counts


def prices(model: str) -> dict[str, float]:
    import litellm

    info = litellm.model_cost[model]
    return {
        "input_per_m": info["input_cost_per_token"] * 1e6,
        "output_per_m": info["output_cost_per_token"] * 1e6,
        "cached_input_per_m": (info.get("cache_read_input_token_cost") or 0.0) * 1e6,
    }


def measure(model: str = "gpt-4o-mini") -> dict[str, Any]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from tagger.models import _litellm

    _litellm.configure()
    rendered, system = rendered_tokens(model)
    with tempfile.TemporaryDirectory(prefix="tagger-tokens-") as tmp:
        sent, request_bytes = sent_tokens(model, Path(tmp))
    out = completion_tokens(model)
    price = prices(model)
    per_paper_in, per_paper_out = statistics.mean(sent), statistics.mean(out)
    prefix = system + (statistics.mean(sent) - statistics.mean(rendered))  # + schema block
    # Dollars for a million papers = tokens per paper x dollars per million tokens.
    million = per_paper_in * price["input_per_m"] + per_paper_out * price["output_per_m"]
    cached = (
        (per_paper_in - prefix) * price["input_per_m"]
        + prefix * price["cached_input_per_m"]
        + per_paper_out * price["output_per_m"]
    )
    pack_in, pack_out = packed_tokens(model, PACK)
    pack_million = pack_in * price["input_per_m"] + pack_out * price["output_per_m"]
    return {
        "model": model,
        "papers": len(rendered),
        "rendered_prompt_tokens_mean": round(statistics.mean(rendered), 1),
        "rendered_prompt_tokens_min_max": [min(rendered), max(rendered)],
        "system_prompt_tokens": system,
        "sent_prompt_tokens_mean": round(per_paper_in, 1),
        "sent_prompt_tokens_min_max": [min(sent), max(sent)],
        "static_prefix_tokens": round(prefix, 1),
        "request_bytes_mean": round(request_bytes),
        "completion_tokens_mean_gold": round(per_paper_out, 1),
        "prices_usd_per_m": price,
        "cost_per_million_papers_usd": round(million, 2),
        "cost_per_million_papers_batch_api_usd": round(million / 2, 2),  # batch API: half price
        "cost_per_million_papers_prefix_cached_usd": round(cached, 2),
        "pack": PACK,
        "pack_prompt_tokens_per_paper": round(pack_in, 1),
        "pack_completion_tokens_per_paper": round(pack_out, 1),
        "cost_per_million_papers_pack_usd": round(pack_million, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="gpt-4o-mini")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(json.dumps(measure(args.model), indent=2))


if __name__ == "__main__":
    main()
