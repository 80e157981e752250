"""This checkout against an older commit: the cached rerun and the live run of the same papers,
each side's own code from its own git worktree, in fresh processes, rounds interleaved (ABBA)
so machine load hits both sides alike.

  python benchmarks/versus.py [--base 98e8bd0] [-n 2000] [--rounds 10] [--live]

The default base, 98e8bd0, is the last commit before the run history (the SQLite store): "today"
in the issue that asked the store to keep the overhead and cached benchmarks within 5%. Arms:

- `base`: the base commit's `tagger run` (no store there).
- `head`: this checkout's `tagger run`, recording into its store (which grows by one run each
  round, as in use).
- `head --no-store`: the same without recording, so the store's own share shows apart.

Each measurement is one child process: a one-paper warm-up run (imports, first connection),
then the timed run in-process (CPU and wall seconds, as `overhead.py` times its pipeline). The
cached arms rerun N papers from a cache each side filled once; with --live each round starts
from an empty cache against the benchmark fake server (its own process, instant answers).
Reported: each arm's median and best, and the median over rounds of the paired ratios
head/base and head/head --no-store (a ratio above 1 means slower than the other side).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from synth import unique_papers, write_jsonl  # noqa: E402

TAG = "large-language-models"  # a tag of the packaged taxonomy: every answer validates
BASE = "98e8bd0"  # the last commit before the run history
# One measurement, run with the side's worktree as the working directory.
CHILD = """
import json, os, sys, time
sys.path.insert(0, os.getcwd())
from tagger.cli.main import main

def run(args):
    try:
        main(args)
    except SystemExit as exc:
        if exc.code:
            raise
source, warm, out, *rest = sys.argv[1:]
run(["run", warm, "-o", out + ".warm", "--overwrite", "--no-progress", *rest])
cpu, wall = time.process_time(), time.perf_counter()
run(["run", source, "-o", out, "--overwrite", "--no-progress", *rest])
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
counts = json.loads(open(out.removesuffix(".jsonl") + ".run.json").read())["counts"]
print(json.dumps({"cpu_s": cpu, "wall_s": wall, "tagged": counts["tagged"],
                  "cached": counts["cached"], "failed": counts["failed"]}))
"""


def worktree(rev: str, folder: Path) -> Path:
    """A detached checkout of `rev` under `folder` (removed by the caller's temp dir)."""
    path = folder / f"base-{rev}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(path), rev],
        check=True,
        capture_output=True,
    )
    return path


def measure_one(
    code: Path, home: Path, source: Path, warm: Path, out: Path, extra: list[str]
) -> dict[str, Any]:
    env = {**os.environ, "TAGGER_HOME": str(home), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("TAGGER_STORE", None)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(source), str(warm), str(out), *extra],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"run in {code} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def compare(base_rev: str, n: int, rounds: int, live: bool) -> dict[str, Any]:
    from fake_server import ServerProcess

    arms: dict[str, list[dict[str, Any]]] = {"base": [], "head": [], "head_no_store": []}
    with tempfile.TemporaryDirectory(prefix="tagger-versus-") as tmp:
        folder = Path(tmp)
        base_code = worktree(base_rev, folder)
        try:
            source = write_jsonl(folder / "papers.jsonl", unique_papers(n))
            warm = write_jsonl(folder / "warm.jsonl", unique_papers(1, seed=99))
            with ServerProcess(tag=TAG) as base_url:
                model = ["--model", "openai/gpt-4o-mini", "--api-base", base_url]
                sides = {
                    "base": (base_code, []),
                    "head": (ROOT, []),
                    "head_no_store": (ROOT, ["--no-store"]),
                }
                homes = {arm: folder / f"home-{arm}" for arm in arms}
                if not live:  # fill each side's cache once
                    for arm, (code, flags) in sides.items():
                        out = folder / f"fill-{arm}.jsonl"
                        measure_one(code, homes[arm], source, warm, out, [*model, *flags])
                for r in range(rounds):
                    order = list(arms) if r % 2 == 0 else list(arms)[::-1]
                    for arm in order:
                        code, flags = sides[arm]
                        home = homes[arm] if not live else folder / f"live-{arm}-{r}"
                        out = folder / f"{arm}-{r}.jsonl"
                        result = measure_one(code, home, source, warm, out, [*model, *flags])
                        arms[arm].append(result)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_code)],
                check=False,
                capture_output=True,
            )
    return summarize(arms, base_rev, n, rounds, live)


def summarize(
    arms: dict[str, list[dict[str, Any]]], base_rev: str, n: int, rounds: int, live: bool
) -> dict[str, Any]:
    def paired(a: str, b: str, measure: str) -> float:
        ratios = [x[measure] / y[measure] for x, y in zip(arms[a], arms[b], strict=True)]
        return round(statistics.median(ratios), 3)

    for arm, runs in arms.items():
        expected = {"tagged": n, "cached": 0 if live else n, "failed": 0}
        for run in runs:
            got = {k: run[k] for k in expected}
            assert got == expected, f"{arm}: {got}, expected {expected}"
    result: dict[str, Any] = {
        "base": base_rev,
        "mode": "live" if live else "cached",
        "papers": n,
        "rounds": rounds,
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    for measure in ("cpu_s", "wall_s"):
        result[measure] = {
            arm: {
                "median": round(statistics.median(r[measure] for r in runs), 4),
                "best": round(min(r[measure] for r in runs), 4),
                "runs": [round(r[measure], 4) for r in runs],
            }
            for arm, runs in arms.items()
        }
        result[measure]["ratio_head_vs_base"] = paired("head", "base", measure)
        result[measure]["ratio_head_no_store_vs_base"] = paired("head_no_store", "base", measure)
        result[measure]["ratio_store_vs_no_store"] = paired("head", "head_no_store", measure)
    result["papers_per_s_median_wall"] = {
        arm: round(n / statistics.median(r["wall_s"] for r in runs), 1)
        for arm, runs in arms.items()
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default=BASE, help="the commit to compare with")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--live", action="store_true", help="empty cache: calls the fake server")
    args = parser.parse_args()
    print(json.dumps(compare(args.base, args.n, args.rounds, args.live), indent=1))


if __name__ == "__main__":
    main()
