"""A learned head for local/minilm: per-tag logistic regression on the MiniLM paper embedding,
added to the zero-shot score (score + WEIGHT x probability) before the usual tag rule.

A head file is JSON (a few hundred kB for 39 tags): the coefficients plus what it was trained
for (taxonomy hash, embedder fingerprint) and on (training data hash, labels' source). It is
refused for another taxonomy or embedder, and its hash goes into the cache key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from tagger.config.taxonomy import Taxonomy
from tagger.errors import ConfigError, config_error_from

if TYPE_CHECKING:
    from numpy.typing import NDArray

HEAD_FORMAT: Literal["tagger-head/1"] = "tagger-head/1"
# Chosen on the dev split only (benchmarks/train_curve.py --variants, 5-fold CV on dev's 111
# papers): balanced classes, C 10, boost 0.4 x (probability - 0.5) -- a centred boost also
# lowers tags the head is sure are absent. The 0.6 x probability (uncentred) hurt on dev.
HEAD_WEIGHT = 0.4
REGULARIZATION_C = 10.0
CLASS_WEIGHT: str | None = "balanced"
CENTER = 0.5  # boost = weight x (probability - CENTER)
MIN_POSITIVES = 3  # a tag with fewer positive papers gets no head (zero-shot only)
_HINT = "Train one with `tagger train --labels FILE -o HEAD.json`."


class TagHead(BaseModel):
    tag: str
    positives: int = Field(description="training papers with this tag")
    intercept: float
    coef: list[float]


class HeadFile(BaseModel):
    """What `tagger train -o HEAD` writes."""

    format: Literal["tagger-head/1"] = HEAD_FORMAT
    taxonomy: str = Field(description="name of the taxonomy trained for")
    taxonomy_hash: str
    embedder: str = Field(description="fingerprint of the embedding model and pooling")
    data_hash: str = Field(description="hash of the training papers and their labels")
    labels_source: str = Field(description="gold file, or the run and model that labeled it")
    papers: int
    weight: float = HEAD_WEIGHT
    center: float = CENTER  # recorded so a later default cannot change what this head does
    tags: list[TagHead]
    cross_validation: dict[str, float] = Field(default_factory=dict)


@dataclass(frozen=True)
class Head:
    """A loaded head; `hash` identifies its bytes (cache key)."""

    file: HeadFile
    hash: str
    path: str

    def check(self, taxonomy: Taxonomy, embedder: str) -> None:
        """Refuse a head trained for another taxonomy or another embedding."""
        if self.file.taxonomy_hash != taxonomy.content_hash:
            raise ConfigError(
                f"the head was trained for taxonomy '{self.file.taxonomy}' "
                f"({self.file.taxonomy_hash}), not '{taxonomy.name}' ({taxonomy.content_hash}).",
                path=self.path,
                hint="Pass the --taxonomy it was trained with, or train a head for this one.",
            )
        if self.file.embedder != embedder:
            raise ConfigError(
                f"the head was trained on embeddings '{self.file.embedder}', "
                f"not '{embedder}' (installed).",
                path=self.path,
                hint="Retrain it with `tagger train` on this installation.",
            )

    def boost(self, features: NDArray[np.float32], taxonomy: Taxonomy) -> NDArray[np.float32]:
        file = self.file
        return head_boost(file.tags, file.weight, features, taxonomy.ids, file.center)


def head_boost(
    tags: Sequence[TagHead],
    weight: float,
    features: NDArray[np.float32],
    ids: Sequence[str],
    center: float | None = None,
) -> NDArray[np.float32]:
    """weight x probability per paper (rows) and tag id (columns); 0 for tags without a head."""
    weights, intercepts = _matrices(tags, ids, features.shape[1])
    trained = np.isfinite(intercepts)
    logits = features @ weights.T + np.where(trained, intercepts, 0.0)
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    offset = CENTER if center is None else center
    return np.asarray(weight * (probabilities - offset) * trained, dtype=np.float32)


def _matrices(
    tags: Sequence[TagHead], ids: Sequence[str], dimension: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    weights = np.zeros((len(ids), dimension))
    intercepts = np.full(len(ids), -np.inf)  # -inf marks "no head for this tag"
    column = {tag: i for i, tag in enumerate(ids)}
    for head in tags:
        if head.tag in column and len(head.coef) == dimension:
            weights[column[head.tag]] = head.coef
            intercepts[column[head.tag]] = head.intercept
    return weights, intercepts


def load_head(path: str | Path) -> Head:
    """Read and validate a head file; any problem is one ConfigError line."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the head ({exc.strerror or exc}).", path=file, hint=_HINT
        ) from None
    try:
        head = HeadFile.model_validate_json(raw)
    except ValidationError as exc:
        raise config_error_from(
            exc, path=file, hint=_HINT, frame="not a tagger head file ({})"
        ) from None
    return Head(head, hashlib.sha256(raw).hexdigest()[:16], file)


def fit_tags(
    features: NDArray[np.float32], labels: NDArray[np.bool_], ids: Sequence[str]
) -> list[TagHead]:
    """One L2 logistic regression per tag with enough positives (and some negatives)."""
    from sklearn.linear_model import LogisticRegression

    heads = []
    for column, tag in enumerate(ids):
        y = labels[:, column]
        positives = int(y.sum())
        if positives < MIN_POSITIVES or positives == len(y):
            continue
        model = LogisticRegression(C=REGULARIZATION_C, class_weight=CLASS_WEIGHT, max_iter=1000)
        model.fit(features, y)
        coef = [round(float(v), 5) for v in model.coef_[0]]
        intercept = float(model.intercept_[0])
        heads.append(TagHead(tag=tag, positives=positives, intercept=intercept, coef=coef))
    return heads
