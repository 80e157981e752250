"""Extractive summaries: how many read as broken (tagger.config.summary_rules) and their ROUGE-1.

    PYTHONPATH=. python benchmarks/summaries.py [--show]

Broken rate over the bundled samples/ (unique papers) and eval/gold.jsonl; ROUGE-1 against the
gold references on the whole set and on two fixed halves by sha1(id) % 2 (tune on half 0 only,
report half 1 as held out); and how many gold reference summaries the rules flag (must be 0).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from statistics import mean

from tagger.config.summary_rules import summary_problems
from tagger.embedded.summarize import summarize
from tagger.evaluate.metrics import rouge
from tagger.ingest import iter_papers

ROOT = Path(__file__).resolve().parent.parent


def half(paper_id: str) -> int:
    return int(hashlib.sha1(paper_id.encode()).hexdigest(), 16) % 2


def broken(pairs: list[tuple[str, str]], show: bool) -> float:
    bad = 0
    for title, abstract in pairs:
        summary = summarize(title, abstract)
        problems = summary_problems(summary, title)
        bad += bool(problems)
        if problems and show:
            print(f"  BROKEN {summary}\n         {problems[0][:100]}")
    return bad / len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", action="store_true", help="print each broken summary")
    show = parser.parse_args().show
    samples = list(
        dict.fromkeys((p.title, p.abstract) for p in iter_papers([str(ROOT / "samples")]))
    )
    gold = [json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").open(encoding="utf-8")]
    print(f"samples: {len(samples)} papers, broken {broken(samples, show):.3f}")
    pairs = [(g["title"], g["abstract"]) for g in gold]
    print(f"gold: {len(gold)} papers, broken {broken(pairs, show):.3f}")
    flagged = [g["summary"] for g in gold if summary_problems(g["summary"], g["title"])]
    for ref in flagged:
        print(f"  REFERENCE FLAGGED {ref}")
    print(f"gold references flagged: {len(flagged)}")
    scores = {
        g["id"]: rouge(summarize(g["title"], g["abstract"]), g["summary"])["rouge1"] for g in gold
    }
    print(f"ROUGE-1 all {mean(scores.values()):.4f}", end="")
    for h in (0, 1):
        print(f"  half{h} {mean(v for k, v in scores.items() if half(k) == h):.4f}", end="")
    print()


if __name__ == "__main__":
    main()
