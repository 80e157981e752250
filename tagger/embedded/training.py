"""`tagger train`: labels in, a head out, with cross-validated F1 of zero-shot vs zero-shot + head.

Labels come from a gold file or from a run's OUT.jsonl (only `status: ok` lines; the run's
model is recorded as the labels' source, and the abstracts are re-read from the run's inputs).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tagger.config.taxonomy import Taxonomy
from tagger.embedded.head import MIN_POSITIVES, HeadFile, fit_tags
from tagger.errors import ConfigError
from tagger.records import Paper

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from tagger.embedded.backends import MiniLMBackend

MIN_PAPERS = 10


@dataclass(frozen=True)
class LabeledSet:
    papers: list[Paper]
    labels: list[list[str]]
    source: str  # "gold FILE" or "run FILE (model M)"

    @property
    def data_hash(self) -> str:
        rows = [
            [p.title, p.abstract, sorted(t)] for p, t in zip(self.papers, self.labels, strict=True)
        ]
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]

    def matrix(self, ids: Sequence[str]) -> NDArray[np.bool_]:
        column = {tag: i for i, tag in enumerate(ids)}
        out = np.zeros((len(self.papers), len(ids)), dtype=bool)
        for row, tags in enumerate(self.labels):
            out[row, [column[t] for t in tags if t in column]] = True
        return out


@dataclass(frozen=True)
class Encoded:
    """What the head and the zero-shot rule read, computed once per labeled set."""

    features: NDArray[np.float32]  # papers x embedding dimension
    zero_shot: NDArray[np.float32]  # papers x tags


def check_enough(labeled: LabeledSet, taxonomy: Taxonomy) -> list[str]:
    """Tags that will get a head; refuses (one line) when there is nothing to learn from."""
    counts = Counter(t for tags in labeled.labels for t in tags)
    learnable = [t for t in taxonomy.ids if counts[t] >= MIN_POSITIVES]
    if len(labeled.papers) < MIN_PAPERS or not learnable:
        best = counts.most_common(1)
        most = f"the most for one tag is {best[0][1]} ('{best[0][0]}')" if best else "no tags"
        raise ConfigError(
            f"too few labels to learn from: {len(labeled.papers)} papers, {most}; "
            f"need at least {MIN_PAPERS} papers and {MIN_POSITIVES} positive papers for a tag.",
            hint="Label more papers (a few hundred give a useful head).",
        )
    return learnable


def encode(backend: MiniLMBackend, papers: Sequence[Paper], taxonomy: Taxonomy) -> Encoded:
    from tagger.embedded.tagging import paper_features

    vectors = backend.tagger.embed_papers(papers)
    return Encoded(paper_features(vectors), backend.tagger.scores(papers, taxonomy, vectors))


def build_head(
    encoded: Encoded, labeled: LabeledSet, taxonomy: Taxonomy, embedder: str
) -> HeadFile:
    tags = fit_tags(encoded.features, labeled.matrix(taxonomy.ids), taxonomy.ids)
    return HeadFile(
        taxonomy=taxonomy.name,
        taxonomy_hash=taxonomy.content_hash,
        embedder=embedder,
        data_hash=labeled.data_hash,
        labels_source=labeled.source,
        papers=len(labeled.papers),
        tags=tags,
    )


def read_labels(path: str, taxonomy: Taxonomy, inputs: Sequence[str] = ()) -> LabeledSet:
    """A gold file, or a run's OUT.jsonl (told apart by the run records' `status` field)."""
    if _is_run_output(path):
        return _run_labels(path, taxonomy, inputs)
    from tagger.evaluate.gold import load_gold

    gold = load_gold(path, taxonomy)
    papers = [
        Paper(id=i.id, title=i.title, abstract=i.abstract, source=i.source) for i in gold.items
    ]
    return LabeledSet(papers, [list(i.tags) for i in gold.items], f"gold {path}")


def _is_run_output(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            first = next((line for line in handle if line.strip()), "")
        data = json.loads(first)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False  # load_gold reports the problem with its line
    return isinstance(data, dict) and "status" in data and "abstract" not in data


def _run_labels(path: str, taxonomy: Taxonomy, inputs: Sequence[str]) -> LabeledSet:
    from tagger.ingest import iter_papers
    from tagger.run.reader import read_run_file

    ok = [r for r in read_run_file(path) if r.status == "ok"]
    sources = list(inputs) or _manifest_inputs(path)
    by_id = {p.id: p for p in iter_papers(sources)}
    papers, labels, models = [], [], Counter[str]()
    for record in ok:
        paper = next((by_id[i] for i in (record.id, *record.duplicates) if i in by_id), None)
        if paper is not None:
            papers.append(paper)
            labels.append([t for t in record.tags if t in taxonomy.by_id])
            models[record.model] += 1
    if not papers:
        raise ConfigError(
            f"none of the {len(ok)} ok records was found in the inputs ({', '.join(sources)}).",
            path=path,
            hint="Pass the run's input files after --labels OUT.jsonl.",
        )
    model = ", ".join(m for m, _ in models.most_common())
    return LabeledSet(papers, labels, f"run {path} (model {model})")


def _manifest_inputs(path: str) -> list[str]:
    from tagger.records import RunManifest
    from tagger.run.output import manifest_path

    manifest = manifest_path(Path(path))
    try:
        return RunManifest.model_validate_json(manifest.read_text(encoding="utf-8")).inputs
    except (OSError, ValueError):
        raise ConfigError(
            "a run's output has no abstracts, and its manifest cannot be read.",
            path=str(manifest),
            hint="Pass the run's input files: tagger train --labels OUT.jsonl INPUT...",
        ) from None


@dataclass(frozen=True)
class CVScores:
    """Cross-validated tag F1 on the labeled set: the zero-shot rule alone and with a head."""

    papers: int
    folds: int
    zero_shot_micro_f1: float
    zero_shot_macro_f1: float
    head_micro_f1: float
    head_macro_f1: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.__dict__.items()}


def cross_validate(
    encoded: Encoded,
    labeled: LabeledSet,
    taxonomy: Taxonomy,
    max_tags: int,
    folds: int = 5,
    seed: int = 0,
    train_size: int | None = None,
) -> CVScores:
    """K-fold: the head is fit on the other folds (optionally a random `train_size` of them)
    and scored on the held-out fold; zero-shot needs no training and is scored on every paper."""
    from sklearn.model_selection import KFold

    from tagger.embedded.head import HEAD_WEIGHT, head_boost
    from tagger.evaluate.metrics import tag_metrics

    ids, rng = taxonomy.ids, np.random.default_rng(seed)
    labels = labeled.matrix(ids)
    with_head: list[set[str]] = [set() for _ in labeled.papers]
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(encoded.features):
        if train_size is not None and train_size < len(train):
            train = rng.choice(train, train_size, replace=False)
        tags = fit_tags(encoded.features[train], labels[train], ids)
        boost = head_boost(tags, HEAD_WEIGHT, encoded.features[test], ids)
        for row, scores in zip(test, encoded.zero_shot[test] + boost, strict=True):
            with_head[row] = _choose(scores, ids, max_tags)
    zero = [_choose(scores, ids, max_tags) for scores in encoded.zero_shot]
    gold = [set(tags) for tags in labeled.labels]
    before, after = tag_metrics(gold, zero, ids), tag_metrics(gold, with_head, ids)
    return CVScores(
        papers=len(gold),
        folds=folds,
        zero_shot_micro_f1=round(before.micro_f1, 4),
        zero_shot_macro_f1=round(before.macro_f1, 4),
        head_micro_f1=round(after.micro_f1, 4),
        head_macro_f1=round(after.macro_f1, 4),
    )


def _choose(scores: NDArray[np.float32], ids: Sequence[str], max_tags: int) -> set[str]:
    from tagger.embedded.tagging import TagRule, choose_tags

    return set(choose_tags(scores, ids, max_tags, TagRule()))
