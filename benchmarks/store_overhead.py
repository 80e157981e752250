"""What recording into the run history costs: a cached rerun of N papers with and without
--no-store: wall seconds and CPU seconds (user + system, all threads) of the whole `tagger run`
process, best and median of R interleaved rounds.

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
RUN = "import sys; from tagger.cli.main import main; main(sys.argv[1:])"


def tagger(home: Path, *args: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) the child process spent."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "TAGGER_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-c", RUN, "run", "--no-progress", *args],
        env=env,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
            times: dict[str, list[tuple[float, float]]] = {"no_store": [], "store": []}
            for r in range(args.rounds):
                out = ["-o", str(home / f"r{r}.jsonl"), "--overwrite", *model]
                times["no_store"].append(tagger(home, str(source), *out, "--no-store"))
                times["store"].append(tagger(home, str(source), *out))
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
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
