"""`tagger run` at scale: peak memory of the whole pipeline as the input grows.

Ingest, dedup, cache lookups, the model stage and the output all stream: records wait in the
dedup spill file (TMPDIR), unique papers are read back one at a time and only a short queue
waits for the model. The model is `local/keyword` (in-process, no model file, thousands of papers
a second), so the run measures tagger's own memory, not a model's. Each size runs in its own
process (peak RSS of that process alone: proc.py); a second run of the same input is all cache
hits.

  python benchmarks/run_memory.py [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.dedup import tagger_exe  # noqa: E402
from benchmarks.proc import environ, run_measured  # noqa: E402


def measure(sizes: tuple[int, ...] = (10_000, 100_000)) -> dict[str, Any]:
    from benchmarks.synth import with_duplicates, write_jsonl

    results: dict[str, Any] = {}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="tagger-runmem-") as tmp:
            data = write_jsonl(Path(tmp) / "papers.jsonl", with_duplicates(n).records)
            env = {**environ(), "TAGGER_HOME": str(Path(tmp) / "home")}
            out = Path(tmp) / "out.jsonl"
            args = [tagger_exe(), "run", str(data), "-o", str(out), "--model", "local/keyword"]
            args += ["--overwrite", "--no-progress"]
            first = run_measured(args, env, Path(tmp))
            rerun = run_measured(args, env, Path(tmp))
            if first.code or rerun.code:
                raise RuntimeError(f"tagger run failed on {n} records")
            manifest = json.loads(out.with_name("out.run.json").read_text())
        results[str(n)] = {
            "records": n,
            "unique": manifest["counts"]["unique"],
            "seconds": round(first.wall_s, 2),
            "peak_rss_mib": round(first.peak_rss_bytes / 2**20, 1),
            "cached_rerun_seconds": round(rerun.wall_s, 2),
            "cached_rerun_peak_rss_mib": round(rerun.peak_rss_bytes / 2**20, 1),
            "cached": manifest["counts"]["cached"],
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    print(json.dumps(measure(sizes), indent=2))


if __name__ == "__main__":
    main()
