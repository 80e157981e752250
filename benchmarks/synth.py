"""Deterministic synthetic abstracts (seeded), with planted exact and near duplicates for dedup.

Text is built from a fixed vocabulary of ML words plus generated syllable words, so two unrelated
abstracts share almost no word 3-grams and every planted duplicate is known by construction.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ML_WORDS = (
    "model models learning neural network networks training data dataset benchmark transformer "
    "attention language vision diffusion reinforcement policy agent reward graph embedding "
    "retrieval generation inference optimization gradient loss robust efficient scalable sparse "
    "latent representation contrastive supervised self pretraining finetuning evaluation task "
    "tasks method approach framework results performance accuracy state art propose show novel "
    "we our this that with from for and the of to in on by an a is are which using large small"
).split()
_SYLLABLES = "ka lo mi nu pe ra si to vu ze bra cli dro fen gor hal jin kel mor nix pol qua".split()


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    words = set(_ML_WORDS)
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


@dataclass
class Record:
    title: str
    abstract: str

    def line(self) -> str:
        return json.dumps({"title": self.title, "abstract": self.abstract})


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocab = _vocabulary(random.Random(1234))

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocab, k=n)

    def paper(self) -> Record:
        title = " ".join(self.words(self.rng.randint(6, 12))).capitalize()
        sentences = []
        for _ in range(self.rng.randint(7, 10)):  # 98-260 words, like real abstracts
            sentences.append(" ".join(self.words(self.rng.randint(14, 26))).capitalize() + ".")
        return Record(title, " ".join(sentences))

    def exact_copy(self, rec: Record) -> Record:
        """Same normalized text: case, spacing and punctuation differ only."""
        title = rec.title.upper() if self.rng.random() < 0.5 else rec.title + "."
        return Record(title, rec.abstract.replace(". ", ".  ").lower())

    def near_copy(self, rec: Record) -> Record:
        """A revised version: a word added to the title and 1-2 abstract words replaced, so
        the word 3-gram Jaccard of title + abstract is 0.85-0.97 (above the 0.8 default)."""
        words = rec.abstract.split()
        for _ in range(self.rng.randint(1, 2)):
            words[self.rng.randrange(len(words))] = self.rng.choice(self.vocab)
        return Record(rec.title + " revisited", " ".join(words))


def unique_papers(n: int, seed: int = 7) -> list[Record]:
    gen = Generator(seed)
    return [gen.paper() for _ in range(n)]


def write_jsonl(path: Path, records: list[Record]) -> Path:
    path.write_text("".join(r.line() + "\n" for r in records), encoding="utf-8")
    return path


@dataclass
class Planted:
    """A dedup input: records in file order and the cluster id each belongs to by construction."""

    records: list[Record]
    cluster: list[int]

    def true_pairs(self) -> set[tuple[int, int]]:
        return _pairs(self.cluster)


def with_duplicates(n: int, *, exact: float = 0.1, near: float = 0.1, seed: int = 11) -> Planted:
    """``n`` records: originals, plus exact and near copies of earlier originals, shuffled."""
    gen = Generator(seed)
    n_exact, n_near = int(n * exact), int(n * near)
    originals = [gen.paper() for _ in range(n - n_exact - n_near)]
    items = [(rec, i) for i, rec in enumerate(originals)]
    for kind, count in ((gen.exact_copy, n_exact), (gen.near_copy, n_near)):
        for _ in range(count):
            i = gen.rng.randrange(len(originals))
            items.append((kind(originals[i]), i))
    gen.rng.shuffle(items)
    return Planted([r for r, _ in items], [c for _, c in items])


def _pairs(labels: list[int]) -> set[tuple[int, int]]:
    """All (i < j) record pairs that share a label."""
    members: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        members.setdefault(label, []).append(index)
    return {(a, b) for m in members.values() for k, a in enumerate(m) for b in m[k + 1 :]}


def run_manifest(model: str, started_at: str, inputs: str) -> Any:
    """The manifest of a synthetic run recorded straight into a store (view, store_recorder)."""
    from tagger import __version__
    from tagger.records import RunManifest

    return RunManifest(
        tagger_version=__version__,
        started_at=started_at,
        inputs=[inputs],
        output="out.jsonl",
        model=model,
        prompt="tag_summarize@v1",
        taxonomy="builtin",
        taxonomy_hash="x",
        max_tags=3,
    )
