"""`tagger dedup` at scale: time, peak memory, and precision/recall of planted duplicates.

Each size runs `tagger dedup` in its own subprocess (peak RSS of that process alone: proc.py).
Ground truth: every planted copy (10% exact up to case/spacing/punctuation, 10% revised: a word
added to the title and 1-2 abstract words replaced, Jaccard 0.85-0.97) and its original form one
cluster. Precision and recall are over record pairs: predicted = same output group, true = same
cluster.

  python benchmarks/dedup.py [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.proc import Measured, environ, run_measured  # noqa: E402


def run_dedup(input_path: Path, out_dir: Path) -> tuple[dict[str, Any], Measured]:
    """The report and the measurements of `tagger dedup` on one file."""
    report = out_dir / "report.json"
    args = [tagger_exe(), "dedup", str(input_path), "-o", str(out_dir / "unique.jsonl")]
    args += ["--report", str(report)]
    run = run_measured(args, environ(), out_dir)
    if run.code != 0:
        raise RuntimeError(f"tagger dedup failed on {input_path}")
    data: dict[str, Any] = json.loads(report.read_text())
    return data, run


def tagger_exe() -> str:
    """The `tagger` console script of this Python environment."""
    beside = Path(sys.executable).with_name("tagger")
    found = str(beside) if beside.exists() else shutil.which("tagger")
    if found is None:
        raise RuntimeError("no `tagger` executable: run `pip install -e .` first")
    return found


def predicted_pairs(report: dict[str, Any]) -> set[tuple[int, int]]:
    """Record pairs (by line number - 1) that `tagger dedup` put in one group."""
    pairs: set[tuple[int, int]] = set()
    for group in report["groups"]:
        lines = [_line(group["source"])] + [_line(m["source"]) for m in group["duplicates"]]
        lines.sort()
        pairs.update((a, b) for k, a in enumerate(lines) for b in lines[k + 1 :])
    return pairs


def _line(source: str) -> int:
    return int(source.rsplit(":", 1)[1]) - 1


def measure(sizes: tuple[int, ...] = (10_000, 100_000)) -> dict[str, Any]:
    from benchmarks.synth import with_duplicates, write_jsonl

    results: dict[str, Any] = {}
    for n in sizes:
        planted = with_duplicates(n)
        with tempfile.TemporaryDirectory(prefix="tagger-dedup-") as tmp:
            data = write_jsonl(Path(tmp) / "papers.jsonl", planted.records)
            report, run = run_dedup(data, Path(tmp))
        truth, found = planted.true_pairs(), predicted_pairs(report)
        hit = len(truth & found)
        results[str(n)] = {
            "records": n,
            "seconds": round(run.wall_s, 2),
            "cpu_s": round(run.cpu_s, 2),
            "peak_rss_mib": round(run.peak_rss_bytes / 2**20, 1),
            "true_pairs": len(truth),
            "found_pairs": len(found),
            "precision": round(hit / len(found), 4) if found else 1.0,
            "recall": round(hit / len(truth), 4) if truth else 1.0,
            "by_reason": report["counts"]["by_reason"],
            "input_mib": round(sum(len(r.line()) + 1 for r in planted.records) / 2**20, 1),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sizes = tuple(int(s) for s in args.sizes.split(","))
    print(json.dumps(measure(sizes), indent=2))


if __name__ == "__main__":
    main()
