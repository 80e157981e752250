"""What the run history's recorder alone costs a paper: N answers recorded into a store that
already holds these papers (a rerun's case: no new paper, no full-text rewrite), in-process,
without the rest of `tagger run` and its startup noise.

  python benchmarks/store_recorder.py [-n 2000] [--rounds 9]

Reports the process CPU and wall time of each round (start, N x add with the OUT line, finish),
the median and best, and the median per answer. The first round (papers new to the store) is
reported apart.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from synth import run_manifest, unique_papers  # noqa: E402

TAGS = ("large-language-models", "diffusion-models", "reasoning")


def records(n: int) -> list[tuple[Any, Any, str]]:
    from tagger.records import Paper, TaggedPaper

    out = []
    for i, synthetic in enumerate(unique_papers(n)):
        paper = Paper(
            id=f"p{i}", title=synthetic.title, abstract=synthetic.abstract, source=f"in:{i}"
        )
        answer = TaggedPaper(
            id=paper.id,
            title=paper.title,
            summary=synthetic.abstract.split(". ")[0][:150] + ".",
            tags=list(TAGS[: 1 + i % 3]),
            model="openai/fake",
            prompt="tag_summarize@v1",
            source=paper.source,
            cached=True,
        )
        out.append((paper, answer, answer.model_dump_json(exclude_none=False)))
    return out


def one_round(store: Path, rows: list[tuple[Any, Any, str]]) -> tuple[float, float]:
    from tagger.store.writer import RunRecorder

    manifest = run_manifest("openai/fake", "2026-12-02T00:00:00+00:00", "in.jsonl")
    cpu, wall = time.process_time(), time.perf_counter()
    recorder = RunRecorder(store, ["run", "in.jsonl"])
    recorder.start(manifest)
    takes_line = "line" in inspect.signature(recorder.add).parameters  # older taggers: no line
    for paper, answer, line in rows:
        if takes_line:
            recorder.add(paper, answer, None, line)
        else:
            recorder.add(paper, answer, None)
    recorder.finish(manifest)
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    rows = records(args.n)
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store.db"
        first = one_round(store, rows)
        times = [one_round(store, rows) for _ in range(args.rounds)]
    cpu = [round(c, 4) for c, _ in times]
    wall = [round(w, 4) for _, w in times]
    print(
        json.dumps(
            {
                "n": args.n,
                "first_round_cpu_s": round(first[0], 4),
                "cpu_s": cpu,
                "wall_s": wall,
                "median_cpu_s": statistics.median(cpu),
                "best_cpu_s": min(cpu),
                "median_wall_s": statistics.median(wall),
                "median_cpu_us_per_answer": round(statistics.median(cpu) / args.n * 1e6, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
