"""MinHash signatures and LSH banding over word 3-gram shingles (numpy; datasketch's scheme).

Near-duplicates are candidates when their signatures agree on a whole band, then confirmed by the
exact shingle Jaccard of the two texts.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

NUM_PERM = 64
SHINGLE_WORDS = 3
LSH_RECALL = 0.999  # chance that a pair exactly at the threshold becomes a candidate
_BATCH = 128  # documents per vectorized MinHash batch (~6 MB of temporaries)
_ALL_PAIRS_MAX = 32  # larger LSH buckets are linked as chains, not all pairs
_SEED = 1

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]


class Sketches:
    """MinHash signatures (datasketch's affine32 scheme, computed in numpy batches) by record."""

    def __init__(self, threshold: float) -> None:
        self.a, self.b = permutations(NUM_PERM, _SEED)
        self.bands, self.rows = lsh_bands(threshold, NUM_PERM)
        self.indices: list[int] = []
        self._pending: list[U32] = []
        self._done: list[U32] = []

    def add(self, index: int, text: str) -> None:
        self.indices.append(index)
        self._pending.append(shingle_hashes(text))
        if len(self._pending) >= _BATCH:
            self._flush()

    def signatures(self) -> U32:
        self._flush()
        if not self._done:
            return np.zeros((0, NUM_PERM), dtype=np.uint32)
        return np.concatenate(self._done)

    def _flush(self) -> None:
        if self._pending:
            self._done.append(minhash_batch(self._pending, self.a, self.b))
            self._pending = []


def shingle_hashes(text: str) -> U32:
    """32-bit hashes of the word 3-grams of a normalized text (one shingle if shorter)."""
    words = text.encode("utf-8").split() or [b""]
    hashes = np.fromiter(map(zlib.crc32, words), dtype=np.uint64, count=len(words))
    width = min(SHINGLE_WORDS, len(hashes))
    n = len(hashes) - width + 1
    combined = np.zeros(n, dtype=np.uint64)
    for offset in range(width):  # polynomial rolling combination; uint64 wraps on purpose
        combined = combined * np.uint64(0x100000001B3) + hashes[offset : offset + n]
    return (combined ^ (combined >> np.uint64(32))).astype(np.uint32)


def permutations(num_perm: int, seed: int) -> tuple[U32, U32]:
    """The (a, b) that ``datasketch.MinHash(num_perm, seed, scheme="affine32")`` draws.

    Drawn here because importing datasketch costs seconds (it pulls in scipy); a test checks
    that the signatures equal datasketch's own.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def minhash_batch(shingles: list[U32], a: U32, b: U32) -> U32:
    """Signatures (len(shingles), len(a)): per document, min of a*fmix32(h)+b mod 2^32."""
    offsets = np.cumsum([0] + [len(s) for s in shingles[:-1]])
    values = _fmix32(np.concatenate(shingles))
    # Permutations as rows: the min runs along contiguous memory (~10x faster than columns).
    permuted = a[:, None] * values[None, :]
    permuted += b[:, None]
    signatures: U32 = np.minimum.reduceat(permuted, offsets, axis=1).T
    return signatures


def _fmix32(h: U32) -> U32:
    """MurmurHash3's finalizer, as datasketch applies it before the affine permutations."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows): the most rows per band that still finds a pair at ``threshold`` with
    probability LSH_RECALL. More rows mean fewer false candidates to verify."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1.0 - (1.0 - threshold**rows) ** bands >= LSH_RECALL:
            return bands, rows
    return num_perm, 1


def candidate_pairs(signatures: U32, bands: int, rows: int) -> set[tuple[int, int]]:
    """Pairs (i < j) of signature rows that agree on all rows of at least one band."""
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        keys = _band_keys(signatures[:, band * rows : (band + 1) * rows])
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            if end - start > 1:
                pairs.update(_bucket_pairs(sorted(order[start:end].tolist())))
    return pairs


def _band_keys(band: U32) -> U64:
    keys = np.zeros(len(band), dtype=np.uint64)
    for column in band.T.astype(np.uint64):
        keys = (keys ^ column) * np.uint64(0x100000001B3)
    return keys


def _bucket_pairs(members: list[int]) -> Iterator[tuple[int, int]]:
    if len(members) <= _ALL_PAIRS_MAX:
        yield from ((a, b) for k, a in enumerate(members) for b in members[k + 1 :])
    else:  # a huge bucket: chain neighbours and star to the first, linear not quadratic
        yield from zip(members, members[1:], strict=False)
        yield from ((members[0], b) for b in members[2:])


def jaccard(a: U32, b: U32) -> float:
    """Exact Jaccard of two sorted unique arrays."""
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared / (len(a) + len(b) - shared)
