"""The embedded default model (local/minilm): papers per minute on the samples, by thread count.

Runs `tagger run samples --no-cache --threads N` in a fresh process per N (model load included
in the process time, reported apart from the run's own wall time from its manifest).

  python benchmarks/local.py [--threads 1,2] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def run_local(threads: int, tmp: Path, limit: int | None) -> dict[str, Any]:
    from benchmarks.dedup import tagger_exe
    from benchmarks.proc import environ, run_measured

    out = tmp / f"local{threads}.jsonl"
    args = [tagger_exe(), "run", str(SAMPLES), "-o", str(out), "--no-cache", "--overwrite"]
    args += ["--threads", str(threads), "--no-progress", "--json"]
    args += ["--limit", str(limit)] if limit else []
    run = run_measured(args, environ(TAGGER_HOME=str(tmp / "home")), tmp)
    if run.code != 0:
        raise RuntimeError(f"tagger run --threads {threads} failed")
    manifest = json.loads(run.stdout)
    papers = manifest["counts"]["tagged"]
    return {
        "threads": threads,
        "papers": papers,
        "failed": manifest["counts"]["failed"],
        "run_s": manifest["wall_time_s"],
        "process_s": round(run.wall_s, 2),
        "cpu_s": round(run.cpu_s, 2),
        "papers_per_min": round(60 * papers / manifest["wall_time_s"], 1),
        "papers_per_min_with_load": round(60 * papers / run.wall_s, 1),
        "peak_rss_mib": round(run.peak_rss_bytes / 2**20, 1),
    }


def measure(threads: tuple[int, ...] = (1, 2), limit: int | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tagger-local-") as tmp:
        return {str(n): run_local(n, Path(tmp), limit) for n in threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    threads = tuple(int(t) for t in args.threads.split(","))
    print(json.dumps(measure(threads, args.limit), indent=2))


if __name__ == "__main__":
    main()
