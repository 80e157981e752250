"""How fast `tagger view` serves a large history: a store of N papers (one run, one answer
each, written through the store's own recorder), then the papers page fetched over HTTP from
the real uvicorn server on 127.0.0.1.

  python benchmarks/view.py [-n 100000] [--rounds 5]

Reports the store build time and size, and the median / best wall time of: the first papers
page, a tag filter, a full-text search, a deep page (the last one), and the runs list.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from synth import run_manifest, unique_papers  # noqa: E402

TAGS = ("large-language-models", "diffusion-models", "reasoning", "agents", "theory", "code")


def build(store: Path, n: int) -> float:
    from tagger.records import Paper, TaggedPaper
    from tagger.store.writer import RunRecorder

    rng = random.Random(3)
    manifest = run_manifest("local/minilm", "2026-01-01T00:00:00+00:00", "synthetic")
    start = time.perf_counter()
    recorder = RunRecorder(store, ["run", "synthetic"])
    recorder.start(manifest)
    for i, record in enumerate(unique_papers(n)):
        day = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
        paper = Paper(
            id=f"p{i}", title=record.title, abstract=record.abstract, source=f"s:{i}", date=day
        )
        tags = rng.sample(TAGS, rng.randint(1, 3))
        answer = TaggedPaper(
            id=paper.id,
            title=paper.title,
            summary=record.abstract.split(". ")[0][:150] + ".",
            tags=tags,
            model="local/minilm",
            prompt="tag_summarize@v1",
            source=paper.source,
            date=day,
        )
        recorder.add(paper, answer)
    recorder.finish(manifest)
    return time.perf_counter() - start


def timed(client: object, path: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        assert response.status_code == 200, (path, response.status_code)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    import httpx
    from view_server import serving

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store.db"
        built = build(store, args.n)
        pages = -(-args.n // 50)
        word = unique_papers(1)[0].title.split()[0]
        paths = {
            "first papers page": "/papers",
            "tag filter": "/papers?tag=reasoning",
            "full-text search": f"/papers?q={word}",
            "last page": f"/papers?page={pages}",
            "runs list": "/runs",
        }
        results: dict[str, object] = {
            "papers": args.n,
            "build_s": round(built, 1),
            "store_mb": round(store.stat().st_size / 2**20, 1),
        }
        with serving(store) as url, httpx.Client(base_url=url, timeout=120) as client:
            for name, path in paths.items():
                times = timed(client, path, args.rounds)
                results[name] = {
                    "median_s": round(statistics.median(times), 3),
                    "best_s": round(min(times), 3),
                }
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
