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
I64 = npt.NDArray[np.int64]


class Sketches:
    """MinHash signatures (datasketch's affine32 scheme, computed in numpy batches) by record."""

    def __init__(self, threshold: float) -> None:
        self.a, self.b = permutations(NUM_PERM, _SEED)
        self.bands, self.rows = lsh_bands(threshold, NUM_PERM)
        self.indices: list[int] = []
        self._pending: list[str] = []
        self._done: list[U32] = []

    def add(self, index: int, text: str) -> None:
        self.indices.append(index)
        self._pending.append(text)
        if len(self._pending) >= _BATCH:
            self._flush()

    def signatures(self) -> U32:
        self._flush()
        if not self._done:
            return np.zeros((0, NUM_PERM), dtype=np.uint32)
        return np.concatenate(self._done)

    def _flush(self) -> None:
        if self._pending:
            values, starts = shingle_batch(self._pending)
            self._done.append(minhash_batch(values, starts, self.a, self.b))
            self._pending = []


def shingle_hashes(text: str) -> U32:
    """32-bit hashes of the word 3-grams of a normalized text (one shingle if shorter)."""
    return shingle_batch([text])[0]


def shingle_batch(texts: list[str]) -> tuple[U32, I64]:
    """`shingle_hashes` of several texts at once: all of them concatenated, and the index where
    each text's shingles begin.

    Word hashes are CRC-32s; a shingle combines its words' hashes polynomially (uint64 wraps on
    purpose) and folds the result to 32 bits. One pass of numpy over the whole batch instead of
    a dozen small arrays a text (their per-call overhead was most of the cost)."""
    words: list[bytes] = []
    counts: list[int] = []
    for text in texts:
        split = text.encode("utf-8").split() or [b""]
        words += split
        counts.append(len(split))
    hashes = np.fromiter(map(zlib.crc32, words), dtype=np.uint64, count=len(words))
    lengths = np.array(counts, dtype=np.int64)
    first = np.cumsum(lengths) - lengths  # each text's first word
    shingles = np.maximum(lengths - (SHINGLE_WORDS - 1), 1)  # a short text is one shingle
    starts = np.cumsum(shingles) - shingles
    # Each shingle's first word, and how many words it spans (SHINGLE_WORDS, or all of a
    # shorter text).
    begin = np.repeat(first - starts, shingles) + np.arange(int(shingles.sum()))
    width = np.repeat(np.minimum(lengths, SHINGLE_WORDS), shingles)
    combined = hashes[begin]
    prime = np.uint64(0x100000001B3)
    for offset in range(1, SHINGLE_WORDS):
        more = width > offset
        combined[more] = combined[more] * prime + hashes[begin[more] + offset]
    values = (combined ^ (combined >> np.uint64(32))).astype(np.uint32)
    return values, starts


def permutations(num_perm: int, seed: int) -> tuple[U32, U32]:
    """The (a, b) that ``datasketch.MinHash(num_perm, seed, scheme="affine32")`` draws.

    Drawn here because importing datasketch costs seconds (it pulls in scipy); a test checks
    that the signatures equal datasketch's own.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def minhash_batch(values: U32, starts: I64, a: U32, b: U32) -> U32:
    """Signatures (len(starts), len(a)) of the texts whose shingle hashes are `values`, text i's
    beginning at starts[i]: per text, min of a*fmix32(h)+b mod 2^32."""
    mixed = _fmix32(values)
    # Permutations as rows: the min runs along contiguous memory (~10x faster than columns).
    permuted = a[:, None] * mixed[None, :]
    permuted += b[:, None]
    signatures: U32 = np.minimum.reduceat(permuted, starts, axis=1).T
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
