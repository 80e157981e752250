"""Tagger's overhead around the model: full `tagger run` vs the bare instructor+litellm loop.

Both talk to the same instant fake server (its own process) in the same run, each in a fresh
Python process with litellm and instructor already imported (their one-time import is reported
apart). The bare loop gets pre-rendered messages and does nothing but call and validate; the
pipeline does everything `tagger run` does: ingest JSONL, dedup, render, call, validate, cache
write, JSONL output and manifest. A third process reruns the pipeline on the warm cache.

  python benchmarks/overhead.py [-n 2000] [--concurrency 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = "openai/gpt-4o-mini"  # a priced model, so the cost path runs as it would for a user
TAG = "large-language-models"  # a tag id of the default taxonomy: every answer is valid


class Clock:
    """Wall and CPU time (this process, all threads, and its children that have exited:
    `--workers` processes) since creation.

    CPU time is the steadier measure on a shared machine: the client is CPU-bound against an
    instant server, and other load stretches its wall time but much less its CPU time.
    """

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), self._cpu()

    @staticmethod
    def _cpu() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def read(self) -> dict[str, float]:
        return {
            "seconds": time.perf_counter() - self.wall,
            "cpu_s": self._cpu() - self.cpu,
        }


def _import_heavy() -> float:
    started = time.perf_counter()
    import instructor  # noqa: F401
    import litellm  # noqa: F401

    return time.perf_counter() - started


def bare(input_path: Path, base_url: str, concurrency: int) -> dict[str, Any]:
    """The floor: instructor.from_litellm over litellm.acompletion, nothing else."""
    import_s = _import_heavy()
    import instructor
    import litellm

    from tagger.config.prompts import load_prompt, render
    from tagger.config.schema import response_model
    from tagger.config.taxonomy import load_taxonomy
    from tagger.ingest import iter_papers

    taxonomy, prompt = load_taxonomy(None), load_prompt()
    model = response_model(taxonomy, 3)
    queue = [render(prompt, p, taxonomy, 3) for p in iter_papers([str(input_path)])]
    n = len(queue)
    client: Any = instructor.from_litellm(litellm.acompletion, mode=instructor.Mode.JSON)

    async def worker(limit: int) -> None:
        for _ in range(limit):
            if not queue:
                return
            await client.chat.completions.create(
                model=MODEL,
                api_base=base_url,
                api_key="no-key",
                messages=queue.pop(),
                response_model=model,
                temperature=0.0,
                max_tokens=300,
            )

    async def loop() -> dict[str, float]:
        queue.append(queue[-1])  # one warm-up call, not counted: first-call imports and connect
        await worker(1)
        clock = Clock()
        await asyncio.gather(*(worker(n) for _ in range(concurrency)))
        return clock.read()

    return {"papers": n, **asyncio.run(loop()), "import_s": import_s}


def pipeline(
    input_path: Path,
    base_url: str,
    concurrency: int,
    home: Path,
    *,
    cached: bool,
    workers: int = 1,
) -> dict[str, Any]:
    """`tagger run` in-process (CLI included), from JSONL to OUT.jsonl + manifest.

    A one-paper warm-up run comes first, not counted: the imports and first connection it pays
    are one-time costs (they show in the whole-process wall time). For the cached rerun the
    warm-up paper is a cache hit too, and litellm must never be imported.
    """
    import_s = 0.0 if cached else _import_heavy()
    os.environ["TAGGER_HOME"] = str(home)
    from benchmarks.synth import unique_papers
    from tagger.cli.main import main

    def argv(source: Path, out: Path) -> list[str]:
        args = ["run", str(source), "-o", str(out), "--overwrite", "--no-progress"]
        args += ["--model", MODEL, "--api-base", base_url, "--concurrency", str(concurrency)]
        return args + ["--workers", str(workers)]

    home.mkdir(parents=True, exist_ok=True)
    warm = home / "warm.jsonl"
    with input_path.open(encoding="utf-8") as first:
        warm.write_text(first.readline() if cached else unique_papers(1, seed=99)[0].line() + "\n")
    main(argv(warm, home / "warm-out.jsonl"))
    out = home / "out.jsonl"
    clock = Clock()
    main(argv(input_path, out))
    elapsed = clock.read()  # with --workers: their CPU counts once they have exited
    manifest = json.loads(out.with_name("out.run.json").read_text())
    counts = manifest["counts"]
    return {
        "papers": counts["tagged"],
        "cached": counts["cached"],
        "failed": counts["failed"],
        **elapsed,
        "import_s": import_s,
        "cost_usd": manifest["usage"]["cost_usd"],
        "imported_litellm": "litellm" in sys.modules,
    }


def null_model(input_path: Path, concurrency: int, home: Path) -> dict[str, Any]:
    """Tagger's own cost per paper: the same run with a gateway that answers at once, in
    process (no HTTP, no litellm). Ingest, dedup, render, validate, cache key + write, output."""
    os.environ["TAGGER_HOME"] = str(home)
    from tagger.config.build import build_setup
    from tagger.dedup.source import load_unique
    from tagger.models.base import ModelRequest, ModelResult
    from tagger.records import Usage
    from tagger.run.cache import ResultCache
    from tagger.run.job import Job
    from tagger.run.settings import RunSettings

    answer = json.dumps({"tags": [TAG], "summary": "Proposes a method and reports gains."})

    class InstantGateway:
        model: str = MODEL
        api_base: str | None = "http://127.0.0.1:1/v1"

        def identity(self) -> dict[str, Any]:
            return {"model": self.model, "api_base": self.api_base}

        async def complete(self, request: ModelRequest) -> ModelResult:
            context = request.validation_context()
            output = request.response_model.model_validate_json(answer, context=context)
            return ModelResult(output, Usage(prompt_tokens=700, completion_tokens=30, calls=1))

    clock = Clock()
    setup = build_setup(model="local/minilm")  # only its taxonomy and prompt are used
    loaded = load_unique([str(input_path)])
    settings = RunSettings(
        output=home / "null.jsonl",
        prompt=setup.prompt,
        taxonomy=setup.taxonomy,
        concurrency=concurrency,
        overwrite=True,
    )
    with ResultCache() as cache:
        job = Job(settings, InstantGateway(), cache)
        manifest = asyncio.run(job.run(loaded.papers, loaded.input_count))
    return {"papers": manifest.counts.tagged, **clock.read(), "cached": 0, "failed": 0}


def run_child(
    kind: str, input_path: Path, base_url: str, concurrency: int, home: Path, workers: int = 1
) -> dict[str, Any]:
    """One measurement in a fresh process; its JSON result plus the whole-process wall time."""
    args = [sys.executable, str(Path(__file__)), "--child", kind, "--input", str(input_path)]
    args += ["--base-url", base_url, "--concurrency", str(concurrency), "--home", str(home)]
    args += ["--workers", str(workers)]
    # No remote price-map fetch at litellm import (tagger sets this itself; the bare loop too).
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    return result


def measure(n: int = 2000, concurrency: int = 16, rounds: int = 2) -> dict[str, Any]:
    """Interleaved rounds (bare, pipeline, cached rerun) against one instant server."""
    from benchmarks.fake_server import ServerProcess
    from benchmarks.synth import unique_papers, write_jsonl

    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "pipeline": [], "cached": [], "null": []}
    with tempfile.TemporaryDirectory(prefix="tagger-bench-") as tmp:
        data = write_jsonl(Path(tmp) / "papers.jsonl", unique_papers(n))
        with ServerProcess(tag=TAG) as base_url:
            for r in range(rounds):
                home = Path(tmp) / f"home{r}"
                for kind in runs:
                    where = home.with_name(f"null{r}") if kind == "null" else home
                    runs[kind].append(run_child(kind, data, base_url, concurrency, where))
    return summarize(runs, n, concurrency)


def summarize(runs: dict[str, list[dict[str, Any]]], n: int, concurrency: int) -> dict[str, Any]:
    """Best (least) wall and CPU time of each kind; ratios and per-paper overhead from those."""
    wall = {k: min(r["seconds"] for r in v) for k, v in runs.items()}
    cpu = {k: min(r["cpu_s"] for r in v) for k, v in runs.items()}
    return {
        "papers": n,
        "concurrency": concurrency,
        "bare_papers_per_s": round(n / wall["bare"], 1),
        "pipeline_papers_per_s": round(n / wall["pipeline"], 1),
        "ratio_wall": round(wall["bare"] / wall["pipeline"], 3),
        "bare_cpu_ms_per_paper": round(1000 * cpu["bare"] / n, 3),
        "pipeline_cpu_ms_per_paper": round(1000 * cpu["pipeline"] / n, 3),
        "ratio_cpu": round(cpu["bare"] / cpu["pipeline"], 3),
        "overhead_cpu_ms_per_paper": round(1000 * (cpu["pipeline"] - cpu["bare"]) / n, 3),
        "overhead_wall_ms_per_paper": round(1000 * (wall["pipeline"] - wall["bare"]) / n, 3),
        "tagger_own_cpu_ms_per_paper": round(1000 * cpu["null"] / n, 3),
        "tagger_own_papers_per_s": round(n / wall["null"], 1),
        "cached_papers_per_s": round(n / wall["cached"], 1),
        "cached_cpu_ms_per_paper": round(1000 * cpu["cached"] / n, 3),
        "cached_papers_per_cpu_s": round(n / cpu["cached"], 1),  # the rate on an idle core
        "cached_process_wall_s": round(min(r["process_wall_s"] for r in runs["cached"]), 3),
        "cached_imported_litellm": any(r["imported_litellm"] for r in runs["cached"]),
        "cached_hits": min(r["cached"] for r in runs["cached"]),
        "pipeline_failed": max(r["failed"] for r in runs["pipeline"]),
        "pipeline_cost_usd": runs["pipeline"][0]["cost_usd"],
        "litellm_import_s": round(min(r["import_s"] for r in runs["bare"]), 2),
        "runs": {
            k: [{"wall_s": round(r["seconds"], 3), "cpu_s": round(r["cpu_s"], 3)} for r in v]
            for k, v in runs.items()
        },
    }


def _child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    if args.child == "bare":
        result = bare(args.input, args.base_url, args.concurrency)
    elif args.child == "null":
        result = null_model(args.input, args.concurrency, args.home)
    else:
        cached = args.child == "cached"
        result = pipeline(
            args.input,
            args.base_url,
            args.concurrency,
            args.home,
            cached=cached,
            workers=args.workers,
        )
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", choices=("bare", "pipeline", "cached", "null"))
    parser.add_argument("--input", type=Path)
    parser.add_argument("--base-url")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.child:
        _child(args)
    else:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(args.n, args.concurrency, args.rounds), indent=2))


if __name__ == "__main__":
    main()
