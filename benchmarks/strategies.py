"""Compare the embedded local strategies on the gold set: tag F1, summary ROUGE-1, papers/minute.

Usage:
  python benchmarks/strategies.py [--gold eval/gold.jsonl] [--taxonomy PATH] [--max-tags 3]
      [--backends local/keyword,local/minilm,...] [--grid] [--pickers] [--limit N] [--threads N]

--grid     calibrate local/minilm: F1 over tag-text variants x margin x threshold (one embedding
           pass per variant; the grid itself is free) -- this is how DEFAULT_MARGIN/THRESHOLD
           in tagger/embedded/tagging.py were chosen.
--pickers  ROUGE-1 of each extractive sentence picker (lead, claim, centroid, claim_centroid).
Backends needing llama.cpp are skipped with a note when it is not installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tagger.config.taxonomy import Taxonomy, load_taxonomy  # noqa: E402
from tagger.embedded import get_backend  # noqa: E402
from tagger.embedded.embedder import get_embedder  # noqa: E402
from tagger.embedded.summarize import Picker, summarize_many  # noqa: E402
from tagger.embedded.tagging import (  # noqa: E402
    EmbeddingTagger,
    Pooling,
    TagRule,
    TagText,
    choose_tags,
)
from tagger.records import Paper  # noqa: E402

DEFAULT_BACKENDS = "local/keyword,local/minilm,local/smollm2-json,local/hybrid,local/smollm2"
TAG_TEXTS: tuple[TagText, ...] = ("label", "description", "label_desc", "label_positive")
POOLINGS: tuple[Pooling, ...] = ("document", "sentence_max")
KEYWORD_WEIGHTS = (0.0, 0.1)
MARGINS = (0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 1.0)
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
PICKERS: tuple[Picker, ...] = ("lead", "claim", "centroid", "claim_centroid")


def load_gold(path: Path, limit: int | None) -> tuple[list[Paper], list[list[str]], list[str]]:
    papers, tags, summaries = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
        if not line.strip():
            continue
        row = json.loads(line)
        papers.append(
            Paper(id=row["id"], title=row["title"], abstract=row["abstract"], source=row["source"])
        )
        tags.append(list(row["tags"]))
        summaries.append(str(row["summary"]))
    return papers, tags, summaries


def tag_f1(pred: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> tuple[float, float]:
    """(micro-F1, macro-F1 over tags that occur in the gold set)."""
    tp: dict[str, int] = {}
    fp: dict[str, int] = {}
    fn: dict[str, int] = {}
    for p, g in zip(pred, gold, strict=True):
        for tag in set(p) | set(g):
            bucket = tp if tag in p and tag in g else fp if tag in p else fn
            bucket[tag] = bucket.get(tag, 0) + 1
    total_tp, total_fp, total_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro = 2 * total_tp / max(2 * total_tp + total_fp + total_fn, 1)
    support = {t for g in gold for t in g}
    per_tag = [
        2 * tp.get(t, 0) / max(2 * tp.get(t, 0) + fp.get(t, 0) + fn.get(t, 0), 1) for t in support
    ]
    return micro, float(np.mean(per_tag)) if per_tag else 0.0


def rouge1(pred: Sequence[str], refs: Sequence[str]) -> float:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    scores = [scorer.score(r, p)["rouge1"].fmeasure for p, r in zip(pred, refs, strict=True)]
    return float(np.mean(scores))


def needs_llama(name: str) -> bool:
    return "smollm2" in name or "hybrid" in name


def compare_backends(
    names: list[str],
    data: tuple[list[Paper], list[list[str]], list[str]],
    taxonomy: Taxonomy,
    max_tags: int,
    threads: int | None,
) -> None:
    papers, gold_tags, gold_summaries = data
    header = f"{'micro-F1':>8} {'macro-F1':>8} {'ROUGE-1':>7} {'tags/p':>6} {'papers/min':>10}"
    print(f"\n{'backend':22} {header}")
    for name in names:
        if needs_llama(name) and importlib.util.find_spec("llama_cpp") is None:
            print(f"{name:22} skipped: llama-cpp-python is not installed")
            continue
        backend = get_backend(name, threads=threads) if threads else get_backend(name)
        backend.predict(papers[:2], taxonomy, max_tags)  # load the model outside the timing
        start = time.perf_counter()
        answers = backend.predict(papers, taxonomy, max_tags)
        seconds = time.perf_counter() - start
        micro, macro = tag_f1([a.tags for a in answers], gold_tags)
        r1 = rouge1([a.summary for a in answers], gold_summaries)
        mean_tags = np.mean([len(a.tags) for a in answers])
        rate = len(papers) / seconds * 60
        print(f"{name:22} {micro:8.3f} {macro:8.3f} {r1:7.3f} {mean_tags:6.2f} {rate:10.0f}")


def calibrate(
    data: tuple[list[Paper], list[list[str]], list[str]], taxonomy: Taxonomy, max_tags: int
) -> None:
    """Best margin/threshold per (pooling, tag text, keyword weight); papers embedded once each."""
    papers, gold_tags, _ = data
    embedder = get_embedder()
    print(f"\nmax_tags={max_tags}: best (margin, threshold) per configuration")
    for pooling in POOLINGS:
        vectors = EmbeddingTagger(embedder, pooling=pooling).embed_papers(papers)
        for variant, weight in itertools.product(TAG_TEXTS, KEYWORD_WEIGHTS):
            tagger = EmbeddingTagger(
                embedder, tag_text=variant, pooling=pooling, keyword_weight=weight
            )
            scores = tagger.scores(papers, taxonomy, vectors)
            top1 = tag_f1([[taxonomy.ids[int(np.argmax(r))]] for r in scores], gold_tags)[0]
            micro, macro, margin, threshold, mean_tags = _grid(
                scores, taxonomy.ids, gold_tags, max_tags
            )
            print(
                f"  {pooling:12} {variant:14} kw={weight:.1f}  top1={top1:.3f}  best: "
                f"micro={micro:.3f} macro={macro:.3f} margin={margin:.2f} "
                f"threshold={threshold:.2f} tags/paper={mean_tags:.2f}"
            )


def _grid(
    scores: np.ndarray, ids: Sequence[str], gold: list[list[str]], max_tags: int
) -> tuple[float, float, float, float, float]:
    results = []
    for margin, threshold in itertools.product(MARGINS, THRESHOLDS):
        rule = TagRule(margin=margin, threshold=threshold)
        pred = [choose_tags(row, ids, max_tags, rule) for row in scores]
        micro, macro = tag_f1(pred, gold)
        results.append((micro, macro, margin, threshold, float(np.mean([len(p) for p in pred]))))
    return max(results)


def compare_pickers(data: tuple[list[Paper], list[list[str]], list[str]]) -> None:
    papers, _, gold_summaries = data
    items = [(p.title, p.abstract) for p in papers]
    print("\nextractive summary picker: ROUGE-1 vs gold summaries")
    for picker in PICKERS:
        start = time.perf_counter()
        summaries = summarize_many(items, picker, get_embedder())
        seconds = time.perf_counter() - start
        r1 = rouge1(summaries, gold_summaries)
        print(f"  {picker:15} ROUGE-1={r1:.3f}  ({len(items) / seconds * 60:.0f} papers/min)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    parser.add_argument("--taxonomy", type=Path, default=None)
    parser.add_argument("--max-tags", type=int, default=3)
    parser.add_argument("--backends", default=DEFAULT_BACKENDS)
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--pickers", action="store_true")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    taxonomy = load_taxonomy(args.taxonomy)
    data = load_gold(args.gold, args.limit)
    print(f"{len(data[0])} gold papers, {len(taxonomy.tags)} tags, max_tags={args.max_tags}")
    if args.grid:
        calibrate(data, taxonomy, args.max_tags)
    if args.pickers:
        compare_pickers(data)
    names = [n for n in args.backends.split(",") if n]
    compare_backends(names, data, taxonomy, args.max_tags, args.threads)


if __name__ == "__main__":
    main()
