"""Tagger's overhead around the model: full `tagger run` vs the bare instructor+litellm loop.

Both talk to the same instant fake server (its own process) in the same run, each in a fresh
Python process with litellm and instructor already imported (their one-time import is reported
apart). The bare loop gets pre-rendered messages and does nothing but call and validate; the
pipeline does everything `tagger run` does: ingest JSONL, dedup, render, call, validate, cache
write, JSONL output and manifest.

  python benchmarks/overhead.py --child bare|pipeline --input F.jsonl --base-url URL ...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = "openai/gpt-4o-mini"  # a priced model, so the cost path runs as it would for a user


def child_args(kind: str, input_path: Path, base_url: str, concurrency: int, home: Path) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__)),
        "--child",
        kind,
        "--input",
        str(input_path),
        "--base-url",
        base_url,
        "--concurrency",
        str(concurrency),
        "--home",
        str(home),
    ]


def run_child(kind: str, input_path: Path, base_url: str, concurrency: int, home: Path) -> dict[str, Any]:
    """Run one measurement in a fresh process; returns its JSON result."""
    args = child_args(kind, input_path, base_url, concurrency, home)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    return result


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

    from tagger.ingest import iter_papers
    from tagger.prompts import load_prompt, render
    from tagger.schema import response_model
    from tagger.taxonomy import load_taxonomy

    taxonomy, prompt = load_taxonomy(None), load_prompt()
    model = response_model(taxonomy, 3)
    jobs = [render(prompt, p, taxonomy, 3) for p in iter_papers([str(input_path)])]
    client = instructor.from_litellm(litellm.acompletion, mode=instructor.Mode.JSON)

    async def worker(queue: list[list[dict[str, str]]]) -> None:
        while queue:
            messages = queue.pop()
            await client.chat.completions.create(
                model=MODEL,
                api_base=base_url,
                api_key="no-key",
                messages=messages,
                response_model=model,
                temperature=0.0,
                max_tokens=300,
            )

    async def main() -> None:
        queue = list(jobs)
        await asyncio.gather(*(worker(queue) for _ in range(concurrency)))

    started = time.perf_counter()
    asyncio.run(main())
    return {"papers": len(jobs), "seconds": time.perf_counter() - started, "import_s": import_s}


def pipeline(
    input_path: Path, base_url: str, concurrency: int, home: Path, *, cached: bool
) -> dict[str, Any]:
    """`tagger run` in-process (CLI included), from JSONL to OUT.jsonl + manifest.

    The modules `tagger run` loads are imported before the clock starts: a one-time cost that
    the parent measures as whole-process wall time. A cached rerun must not import litellm.
    """
    import_s = 0.0 if cached else _import_heavy()
    os.environ["TAGGER_HOME"] = str(home)
    import tagger.cache  # noqa: F401
    import tagger.cli.run  # noqa: F401
    import tagger.pipeline  # noqa: F401
    import tagger.runner  # noqa: F401
    from tagger.cli.main import main

    out = home / "out.jsonl"
    argv = ["run", str(input_path), "-o", str(out), "--overwrite", "--no-progress"]
    argv += ["--model", MODEL, "--api-base", base_url, "--concurrency", str(concurrency)]
    started = time.perf_counter()
    main(argv)
    seconds = time.perf_counter() - started
    manifest = json.loads(out.with_name("out.run.json").read_text())
    counts = manifest["counts"]
    return {
        "papers": counts["tagged"],
        "cached": counts["cached"],
        "failed": counts["failed"],
        "seconds": seconds,
        "import_s": import_s,
        "cost_usd": manifest["usage"]["cost_usd"],
        "imported_litellm": "litellm" in sys.modules,
    }


def _child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    if args.child == "bare":
        result = bare(args.input, args.base_url, args.concurrency)
    else:
        cached = args.child == "cached"
        result = pipeline(args.input, args.base_url, args.concurrency, args.home, cached=cached)
    print(json.dumps(result))


def measure(n: int = 2000, concurrency: int = 16, rounds: int = 2) -> dict[str, Any]:
    """Interleaved rounds (bare, pipeline, cached rerun) against one instant server; best of each."""
    from benchmarks.fake_server import ServerProcess
    from benchmarks.synth import unique_papers, write_jsonl

    runs: dict[str, list[dict[str, Any]]] = {"bare": [], "pipeline": [], "cached": []}
    with tempfile.TemporaryDirectory(prefix="tagger-bench-") as tmp:
        data = write_jsonl(Path(tmp) / "papers.jsonl", unique_papers(n))
        with ServerProcess(tag="large-language-models") as base_url:
            for r in range(rounds):
                home = Path(tmp) / f"home{r}"
                runs["bare"].append(run_child("bare", data, base_url, concurrency, home))
                runs["pipeline"].append(run_child("pipeline", data, base_url, concurrency, home))
                runs["cached"].append(run_child("cached", data, base_url, concurrency, home))
    return summarize(runs, n, concurrency)


def summarize(runs: dict[str, list[dict[str, Any]]], n: int, concurrency: int) -> dict[str, Any]:
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    rate = {k: best[k]["papers"] / best[k]["seconds"] for k in best}
    overhead_ms = 1000 * (best["pipeline"]["seconds"] - best["bare"]["seconds"]) / n
    return {
        "papers": n,
        "concurrency": concurrency,
        "bare_papers_per_s": round(rate["bare"], 1),
        "pipeline_papers_per_s": round(rate["pipeline"], 1),
        "ratio": round(rate["pipeline"] / rate["bare"], 3),
        "overhead_ms_per_paper": round(overhead_ms, 3),
        "cached_papers_per_s": round(rate["cached"], 1),
        "litellm_import_s": round(min(r["import_s"] for r in runs["bare"]), 2),
        "all_runs_s": {k: [round(r["seconds"], 3) for r in v] for k, v in runs.items()},
        "pipeline_failed": best["pipeline"]["failed"],
        "cached_hits": best["cached"]["cached"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", choices=("bare", "pipeline", "cached"))
    parser.add_argument("--input", type=Path)
    parser.add_argument("--base-url")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--home", type=Path)
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
