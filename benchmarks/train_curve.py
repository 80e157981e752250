"""Numbers for `tagger train` in eval/README.md: what a learned head adds to zero-shot local/minilm.

Usage: python benchmarks/train_curve.py [--gold eval/gold.jsonl] [--taxonomy PATH] [--seeds 5]
           [--variants]

Prints, for the gold set (max 3 tags):
1. 5-fold CV on every gold paper, zero-shot vs zero-shot + head (what `tagger train` reports);
2. held out: head trained on the dev split only, scored on the test split;
3. F1 vs N labels (25, 50, 100, 200): 10-fold CV, the head fit on N random papers of the other
   folds, mean over --seeds;
4. with --variants: CV on the dev split only for a few classifier settings (C, class weights,
   head weight) -- the only place settings may be compared; the test split is never used.
Embeddings are cached in benchmarks/.cache/ (keyed by gold and taxonomy hash) to rerun fast.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tagger.config.taxonomy import Taxonomy, load_taxonomy  # noqa: E402
from tagger.embedded import head as head_module  # noqa: E402
from tagger.embedded.backends import MiniLMBackend  # noqa: E402
from tagger.embedded.training import (  # noqa: E402
    Encoded,
    LabeledSet,
    _choose,
    cross_validate,
    encode,
    read_labels,
)
from tagger.evaluate.gold import load_gold  # noqa: E402
from tagger.evaluate.metrics import tag_metrics  # noqa: E402

SIZES = (25, 50, 100, 200)
MAX_TAGS = 3


def cached_encoding(labeled: LabeledSet, taxonomy: Taxonomy) -> Encoded:
    key = hashlib.sha256(f"{labeled.data_hash}{taxonomy.content_hash}".encode()).hexdigest()[:16]
    path = ROOT / "benchmarks" / ".cache" / f"encoded-{key}.npz"
    if path.is_file():
        data = np.load(path)
        return Encoded(data["features"], data["zero_shot"])
    encoded = encode(MiniLMBackend(), labeled.papers, taxonomy)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, features=encoded.features, zero_shot=encoded.zero_shot)
    return encoded


def subset(labeled: LabeledSet, encoded: Encoded, rows: list[int]) -> tuple[LabeledSet, Encoded]:
    part = LabeledSet(
        [labeled.papers[i] for i in rows], [labeled.labels[i] for i in rows], labeled.source
    )
    return part, Encoded(encoded.features[rows], encoded.zero_shot[rows])


def held_out(
    labeled: LabeledSet, encoded: Encoded, taxonomy: Taxonomy, dev: list[int], test: list[int]
) -> tuple[float, float, float, float]:
    ids = taxonomy.ids
    tags = head_module.fit_tags(encoded.features[dev], labeled.matrix(ids)[dev], ids)
    boost = head_module.head_boost(tags, head_module.HEAD_WEIGHT, encoded.features[test], ids)
    gold = [set(labeled.labels[i]) for i in test]
    zero = [_choose(s, ids, MAX_TAGS) for s in encoded.zero_shot[test]]
    both = [_choose(s, ids, MAX_TAGS) for s in encoded.zero_shot[test] + boost]
    a, b = tag_metrics(gold, zero, ids), tag_metrics(gold, both, ids)
    return a.micro_f1, a.macro_f1, b.micro_f1, b.macro_f1


def curve(labeled: LabeledSet, encoded: Encoded, taxonomy: Taxonomy, seeds: int) -> None:
    print("\nF1 vs N labels (10-fold CV, mean over seeds; zero-shot needs none):")
    print("| N labels | micro F1 | macro F1 |\n| ---: | ---: | ---: |")
    first = cross_validate(encoded, labeled, taxonomy, MAX_TAGS, 10, 0, 1)
    print(f"| 0 (zero-shot) | {first.zero_shot_micro_f1:.3f} | {first.zero_shot_macro_f1:.3f} |")
    for size in SIZES:
        runs = [
            cross_validate(encoded, labeled, taxonomy, MAX_TAGS, 10, seed, size)
            for seed in range(seeds)
        ]
        micro = np.mean([r.head_micro_f1 for r in runs])
        macro = np.mean([r.head_macro_f1 for r in runs])
        print(f"| {size} | {micro:.3f} | {macro:.3f} |")


def variants(labeled: LabeledSet, encoded: Encoded, taxonomy: Taxonomy) -> None:
    print("\nDev split only, 5-fold CV, settings compared (C, class_weight, head weight):")
    for center, balance, c, weight in itertools.product(
        (0.0, 0.5), (None, "balanced"), (1.0, 10.0, 100.0), (0.2, 0.4, 0.6)
    ):
        head_module.CLASS_WEIGHT, head_module.CENTER = balance, center
        head_module.REGULARIZATION_C, head_module.HEAD_WEIGHT = c, weight
        r = cross_validate(encoded, labeled, taxonomy, MAX_TAGS, 5)
        print(
            f"  center {center} {balance} C {c:<5} weight {weight}: micro {r.head_micro_f1:.3f} "
            f"macro {r.head_macro_f1:.3f}  (zero-shot {r.zero_shot_micro_f1:.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default=str(ROOT / "eval" / "gold.jsonl"))
    parser.add_argument("--taxonomy", default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--variants", action="store_true")
    args = parser.parse_args()
    taxonomy = load_taxonomy(args.taxonomy)
    labeled = read_labels(args.gold, taxonomy)
    encoded = cached_encoding(labeled, taxonomy)
    splits = [item.split for item in load_gold(args.gold, taxonomy).items]
    dev = [i for i, s in enumerate(splits) if s == "dev"]
    test = [i for i, s in enumerate(splits) if s == "test"]
    if args.variants:
        variants(*subset(labeled, encoded, dev), taxonomy)
        return
    cv = cross_validate(encoded, labeled, taxonomy, MAX_TAGS, 5)
    print(f"All {cv.papers} gold papers, 5-fold CV (as `tagger train` reports it):")
    print(f"  zero-shot        micro {cv.zero_shot_micro_f1:.3f} macro {cv.zero_shot_macro_f1:.3f}")
    print(f"  zero-shot + head micro {cv.head_micro_f1:.3f} macro {cv.head_macro_f1:.3f}")
    if dev and test:
        z_mi, z_ma, h_mi, h_ma = held_out(labeled, encoded, taxonomy, dev, test)
        print(f"\nHead trained on dev ({len(dev)}), scored on test ({len(test)}):")
        print(f"  zero-shot        micro {z_mi:.3f} macro {z_ma:.3f}")
        print(f"  zero-shot + head micro {h_mi:.3f} macro {h_ma:.3f}")
    curve(labeled, encoded, taxonomy, args.seeds)


if __name__ == "__main__":
    main()
