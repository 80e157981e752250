"""The digest intro written offline by the embedded SmolLM2 (`tagger digest --intro`).

Tags the samples with the default model, then builds one digest per "day" (each sample file is
one Daily Papers page; more days are seeded random draws of 30 papers) and asks for its intro
with an empty cache. Reports how many intros the model wrote that passed validation (no number
or name missing from the day's sections and titles; after at most two re-asks), how many fell back
to the extractive sentence, the time per intro, and every text, for reading.

  python benchmarks/intro.py [--draws 15] [--show]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def measure(draws: int = 15, size: int = 30, seed: int = 5) -> dict[str, Any]:
    home = os.environ.get("TAGGER_HOME")
    with tempfile.TemporaryDirectory(prefix="tagger-intro-") as tmp:
        os.environ["TAGGER_HOME"] = str(Path(tmp) / "home")  # an empty cache: every intro runs
        try:
            from tagger.cli.main import main

            run = Path(tmp) / "run.jsonl"
            try:
                main(["run", str(ROOT / "samples"), "-o", str(run), "--no-progress"])
            except SystemExit as exc:
                if exc.code:
                    raise
            return _intros(run, draws, size, seed)
        finally:
            if home is None:
                os.environ.pop("TAGGER_HOME", None)
            else:
                os.environ["TAGGER_HOME"] = home


def _intros(run: Path, draws: int, size: int, seed: int) -> dict[str, Any]:
    import datetime as dt

    from tagger.config.taxonomy import load_taxonomy
    from tagger.digest.build import DigestOptions, build_digest
    from tagger.digest.load import LoadedRuns, load_runs
    from tagger.digest.model_intro import model_intro_writer

    taxonomy = load_taxonomy(None)
    loaded = load_runs([run])
    by_file: dict[str, list[Any]] = {}
    for paper in loaded.papers:
        by_file.setdefault(paper.source.rsplit(":", 1)[0], []).append(paper)
    days = [(Path(name).name, papers) for name, papers in sorted(by_file.items())]
    rng = random.Random(seed)
    days += [(f"draw {i + 1}", rng.sample(loaded.papers, size)) for i in range(draws)]
    writer = model_intro_writer(None, taxonomy, api_base=None, api_key=None)
    options = DigestOptions(date=dt.date(2026, 11, 23))
    rows = []
    for name, papers in days:
        started = time.perf_counter()
        digest = build_digest(LoadedRuns(papers=papers), taxonomy, options, writer)
        assert digest.intro is not None
        rows.append(
            {
                "day": name,
                "papers": len(papers),
                "source": digest.intro.source,
                "fallback_reason": digest.intro.fallback_reason,
                "seconds": round(time.perf_counter() - started, 2),
                "text": digest.intro.text,
            }
        )
    written = sum(r["source"] == "model" for r in rows)
    return {
        "days": len(rows),
        "model_written": written,
        "fell_back": len(rows) - written,
        "median_seconds": sorted(r["seconds"] for r in rows)[len(rows) // 2],
        "intros": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=15)
    parser.add_argument("--show", action="store_true", help="print each intro")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    result = measure(args.draws)
    if args.show:
        for row in result["intros"]:
            print(f"[{row['day']}, {row['source']}] {row['text']}\n")
    print(json.dumps({k: v for k, v in result.items() if k != "intros"}, indent=2))


if __name__ == "__main__":
    main()
