"""CPU per model call, three ways, interleaved in one process against one instant server:
raw `litellm.acompletion`, tagger's gateway (instructor over litellm, as `tagger run` calls it),
and the bare `instructor.from_litellm` loop. Interleaving rounds in one process makes this the
steadiest comparison on a shared machine; each figure is the least of its rounds.

  python benchmarks/calls.py [--calls 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


async def _drive(call: Callable[[int], Awaitable[Any]], count: int, concurrency: int) -> None:
    todo = list(range(count))

    async def worker() -> None:
        while todo:
            await call(todo.pop())

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _compare(base_url: str, data: Path, calls: int, rounds: int) -> dict[str, list[float]]:
    import instructor
    import litellm

    from benchmarks.overhead import MODEL
    from tagger.config.prompts import load_prompt, render
    from tagger.config.schema import response_model
    from tagger.config.taxonomy import load_taxonomy
    from tagger.ingest import iter_papers
    from tagger.models.base import ModelRequest
    from tagger.models.remote import LiteLLMGateway

    taxonomy, prompt = load_taxonomy(None), load_prompt()
    model = response_model(taxonomy, 3)
    papers = list(iter_papers([str(data)]))
    messages = [render(prompt, p, taxonomy, 3) for p in papers]
    sampling = {"temperature": 0.0, "max_tokens": 300}
    gateway = LiteLLMGateway(MODEL, api_base=base_url, sampling=sampling)
    bare: Any = instructor.from_litellm(litellm.acompletion, mode=instructor.Mode.JSON)
    target = {"api_base": base_url, "api_key": "no-key", **sampling}

    async def raw(i: int) -> None:
        await litellm.acompletion(
            model=MODEL, messages=messages[i], response_format={"type": "json_object"}, **target
        )

    async def tagger(i: int) -> None:
        await gateway.complete(ModelRequest(papers[i], messages[i], model, taxonomy, 3))

    async def instructor_loop(i: int) -> None:
        await bare.chat.completions.create(
            model=MODEL, messages=messages[i], response_model=model, **target
        )

    ways = {"litellm": raw, "tagger_gateway": tagger, "bare_instructor": instructor_loop}
    for call in ways.values():  # warm-up: imports, connections, tagger's configure()
        await _drive(call, 20, 16)
    ms: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, call in ways.items():
            started = time.process_time()
            await _drive(call, calls, 16)
            ms[name].append(1000 * (time.process_time() - started) / calls)
    return ms


def measure(calls: int = 300, rounds: int = 3) -> dict[str, Any]:
    from benchmarks.fake_server import ServerProcess
    from benchmarks.overhead import TAG
    from benchmarks.synth import unique_papers, write_jsonl

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with tempfile.TemporaryDirectory(prefix="tagger-calls-") as tmp:
        data = write_jsonl(Path(tmp) / "papers.jsonl", unique_papers(calls, seed=31))
        with ServerProcess(tag=TAG) as base_url:
            ms = asyncio.run(_compare(base_url, data, calls, rounds))
    best = {name: min(values) for name, values in ms.items()}
    return {
        "calls_per_round": calls,
        "rounds": rounds,
        "cpu_ms_per_call": {name: round(v, 2) for name, v in best.items()},
        "all_rounds_ms": {name: [round(v, 2) for v in values] for name, values in ms.items()},
        "tagger_vs_bare_instructor": round(best["bare_instructor"] / best["tagger_gateway"], 3),
        "instructor_cost_in_tagger_ms": round(best["tagger_gateway"] - best["litellm"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(json.dumps(measure(args.calls, args.rounds), indent=2))


if __name__ == "__main__":
    main()
