"""Concurrency: `tagger run --concurrency 32` against a server that takes 200 ms per request.

The ideal wall time is papers x latency / concurrency (1,000 x 0.2 s / 32 = 6.25 s); results are
reported as multiples of it, for `tagger run` in one process, `tagger run --workers W` (the
calls made by W child processes; their start-up, one litellm import, is inside the timing), and
the bare loop against the same server. Timed in-process after a warm-up (see overhead.py).

  python benchmarks/concurrency.py [-n 1000] [--latency 0.2] [--concurrency 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def measure(
    n: int = 1000, latency_s: float = 0.2, concurrency: int = 32, workers: int = 2
) -> dict[str, Any]:
    """`tagger run`, and the bare instructor+litellm loop beside it (the floor on this machine:
    when the client's CPU per call times papers exceeds the ideal, no client reaches it)."""
    from benchmarks.fake_server import ServerProcess
    from benchmarks.overhead import TAG, run_child
    from benchmarks.synth import unique_papers, write_jsonl

    with tempfile.TemporaryDirectory(prefix="tagger-conc-") as tmp:
        data = write_jsonl(Path(tmp) / "papers.jsonl", unique_papers(n, seed=23))
        with ServerProcess(tag=TAG, latency_s=latency_s) as base_url:
            home = Path(tmp) / "home"
            bare = run_child("bare", data, base_url, concurrency, home)
            run = run_child("pipeline", data, base_url, concurrency, home)
            # its own home: the runs above left every answer in `home`'s cache
            multi = run_child("pipeline", data, base_url, concurrency, home.with_name("w"), workers)
    ideal = n * latency_s / concurrency
    return {
        "papers": n,
        "latency_s": latency_s,
        "concurrency": concurrency,
        "ideal_s": round(ideal, 2),
        "seconds": round(run["seconds"], 2),
        "x_ideal": round(run["seconds"] / ideal, 3),
        "cpu_s": round(run["cpu_s"], 2),
        "workers": workers,
        "workers_seconds": round(multi["seconds"], 2),
        "workers_x_ideal": round(multi["seconds"] / ideal, 3),
        "workers_cpu_s": round(multi["cpu_s"], 2),
        "bare_seconds": round(bare["seconds"], 2),
        "bare_x_ideal": round(bare["seconds"] / ideal, 3),
        "bare_cpu_s": round(bare["cpu_s"], 2),
        "failed": run["failed"] + multi["failed"],
        "cached": run["cached"] + multi["cached"],
    }


def throughput(n: int = 4000, concurrency: int = 32, workers: int = 2) -> dict[str, Any]:
    """Papers/s against an instant server: one process vs `--workers` (the client's CPU is the
    only limit, so this is the ceiling each reaches on this machine)."""
    from benchmarks.fake_server import ServerProcess
    from benchmarks.overhead import TAG, run_child
    from benchmarks.synth import unique_papers, write_jsonl

    with tempfile.TemporaryDirectory(prefix="tagger-tput-") as tmp:
        data = write_jsonl(Path(tmp) / "papers.jsonl", unique_papers(n, seed=29))
        with ServerProcess(tag=TAG, latency_s=0.0) as base_url:
            home = Path(tmp) / "home"
            one = run_child("pipeline", data, base_url, concurrency, home)
            # its own home: the runs above left every answer in `home`'s cache
            multi = run_child("pipeline", data, base_url, concurrency, home.with_name("w"), workers)
    return {
        "papers": n,
        "concurrency": concurrency,
        "workers": workers,
        "one_process_papers_per_s": round(n / one["seconds"], 1),
        "workers_papers_per_s": round(n / multi["seconds"], 1),
        "speedup": round(one["seconds"] / multi["seconds"], 3),
        "one_process_cpu_ms_per_paper": round(1000 * one["cpu_s"] / n, 2),
        "workers_cpu_ms_per_paper": round(1000 * multi["cpu_s"] / n, 2),
        "failed": one["failed"] + multi["failed"],
        "cached": one["cached"] + multi["cached"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--throughput", action="store_true", help="instant server, 1 vs W")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.throughput:
        print(json.dumps(throughput(args.n, args.concurrency, args.workers), indent=2))
        return
    print(json.dumps(measure(args.n, args.latency, args.concurrency, args.workers), indent=2))


if __name__ == "__main__":
    main()
