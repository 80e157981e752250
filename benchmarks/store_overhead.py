"""What recording into the run history costs: a cached rerun of N papers with and without
--no-store: wall seconds and CPU seconds (user + system, all threads) of the whole `tagger run`
process, best and median of R interleaved rounds (ABBA order), and the median of the R
per-round ratios. Machine noise between two processes is of the order of the difference (an A/A
run of this benchmark with --no-store on both sides measured a 1.05x paired median), so each
store run also reports the CPU its recorder itself spent (RunRecorder.start/add/finish, timed
in the process, plus importing tagger.store.writer once the modules every run imports are in:
an upper bound) as a share of that process's CPU: the same process on both sides of the ratio,
so machine noise mostly cancels.

  python benchmarks/store_overhead.py [-n 2000] [--rounds 3]

The cache is filled once against the benchmark fake server; the store grows by one run each
round, as it would in use.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synth import unique_papers  # noqa: E402

TAG = "large-language-models"  # a tag of the packaged taxonomy, so answers validate and cache
# `tagger run`; with the store on, its recorder's CPU time counted (--no-store runs stay bare)
RUN = """
import atexit, sys, time
from tagger.cli.main import main

def timed(method, spent):
    def wrapper(*args, **kwargs):
        begin = time.process_time()
        try:
            return method(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - begin
    return wrapper

if "--no-store" not in sys.argv:
    import tagger.records, tagger.errors  # what every run imports anyway (pydantic with them)
    start = time.process_time()
    from tagger.store import writer
    spent = [time.process_time() - start]
    for name in ("start", "add", "finish"):
        setattr(writer.RunRecorder, name, timed(getattr(writer.RunRecorder, name), spent))
    atexit.register(lambda: print(f"recorder_cpu_s {spent[0]:.6f}", file=sys.stderr))
main(sys.argv[1:])
"""


def tagger(home: Path, *args: str) -> tuple[float, float, float]:
    """Wall seconds and CPU seconds (user + system) the child process spent, and the CPU
    seconds of that which its recorder spent."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "TAGGER_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", RUN, "run", "--no-progress", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    recorder = [line for line in done.stderr.splitlines() if line.startswith("recorder_cpu_s ")]
    return wall, cpu, float(recorder[-1].split()[1]) if recorder else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        source = home / "in.jsonl"
        source.write_text("".join(p.line() + "\n" for p in unique_papers(args.n)))
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "fake_server.py"), "--tag", TAG],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            port = server.stdout.readline().split()[1]
            model = ["--model", "openai/fake", "--api-base", f"http://127.0.0.1:{port}/v1"]
            tagger(home, str(source), "-o", str(home / "fill.jsonl"), *model, "--no-store")
            tagger(home, str(source), "-o", str(home / "warm.jsonl"), *model)  # store made
            times: dict[str, list[tuple[float, float, float]]] = {"no_store": [], "store": []}
            for r in range(args.rounds):
                out = ["-o", str(home / f"r{r}.jsonl"), "--overwrite", *model]
                pair = [("no_store", ("--no-store",)), ("store", ())]
                for kind, flag in pair if r % 2 == 0 else pair[::-1]:  # ABBA: no order bias
                    times[kind].append(tagger(home, str(source), *out, *flag))
            rows = (home / "r0.jsonl").read_text().splitlines()
            assert all(json.loads(row)["cached"] for row in rows), "the rerun was not cached"
        finally:
            server.kill()
            server.wait()
    result: dict[str, object] = {"n": args.n, "rounds": args.rounds}
    for i, measure in enumerate(("wall_s", "cpu_s")):
        runs = {k: [round(t[i], 3) for t in v] for k, v in times.items()}
        best = {k: min(v) for k, v in runs.items()}
        median = {k: statistics.median(v) for k, v in runs.items()}
        result[measure] = {
            **runs,
            "best": best,
            "median": median,
            "ratio_best": round(best["store"] / best["no_store"], 3),
            "ratio_median": round(median["store"] / median["no_store"], 3),
            "ratio_paired_median": round(  # each round's two runs back to back
                statistics.median(
                    s / n for s, n in zip(runs["store"], runs["no_store"], strict=True)
                ),
                3,
            ),
        }
    shares = [t[2] / t[1] for t in times["store"]]
    result["recorder_share_of_process_cpu"] = {
        "per_round": [round(x, 4) for x in shares],
        "median": round(statistics.median(shares), 4),
        "max": round(max(shares), 4),
        "median_recorder_cpu_s": round(statistics.median(t[2] for t in times["store"]), 4),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
