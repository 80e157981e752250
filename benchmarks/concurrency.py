"""Concurrency: `tagger run --concurrency 32` against a server that takes 200 ms per request.

The ideal wall time is papers x latency / concurrency (1,000 x 0.2 s / 32 = 6.25 s); results are
reported as multiples of it, for `tagger run` and for the bare loop against the same server.
Both are timed in-process, imports excluded (see overhead.py).

  python benchmarks/concurrency.py [-n 1000] [--latency 0.2] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def measure(n: int = 1000, latency_s: float = 0.2, concurrency: int = 32) -> dict[str, Any]:
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
    ideal = n * latency_s / concurrency
    return {
        "papers": n,
        "latency_s": latency_s,
        "concurrency": concurrency,
        "ideal_s": round(ideal, 2),
        "seconds": round(run["seconds"], 2),
        "x_ideal": round(run["seconds"] / ideal, 3),
        "cpu_s": round(run["cpu_s"], 2),
        "bare_seconds": round(bare["seconds"], 2),
        "bare_x_ideal": round(bare["seconds"] / ideal, 3),
        "bare_cpu_s": round(bare["cpu_s"], 2),
        "failed": run["failed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(json.dumps(measure(args.n, args.latency, args.concurrency), indent=2))


if __name__ == "__main__":
    main()
