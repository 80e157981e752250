"""Grouping duplicate papers: exact normalized title or abstract, arXiv id, MinHash near-duplicates.

Records are linked by union-find; every link that joins two groups is kept, so the report can say
which record each duplicate matched and why. Near-duplicates are found with MinHash LSH over word
3-gram shingles of the normalized title + abstract, then confirmed by their exact shingle Jaccard.

Two records with different arXiv ids (versions ignored) are different papers: a link between
their groups is made only when the two linked records also have the same normalized title and the
same (or near-duplicate) abstract, i.e. one paper submitted twice. So series papers sharing an
abstract ("Part II", "Part III") and unrelated papers sharing a title stay apart, and a record
without an id cannot bridge two ids.

The representative of a group is its record with an arXiv id and the highest version, else the
first seen; it keeps the union of its versions' authors and categories, and takes a url, authors
or date from another member when it has none. Groups come out in the order of their first-seen
record.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import zlib
from array import array
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from tagger.errors import ConfigError, OutputError
from tagger.ingest.ids import version_number
from tagger.normalize import normalize_text
from tagger.records import Paper

DEFAULT_THRESHOLD = 0.8
DEFAULT_MEMORY_MB = 16.0  # records held as objects before dedup spills the rest to disk
NUM_PERM = 64
SHINGLE_WORDS = 3
LSH_RECALL = 0.999  # chance that a pair exactly at the threshold becomes a candidate
_BATCH = 128  # documents per vectorized MinHash batch (~6 MB of temporaries)
_ALL_PAIRS_MAX = 32  # larger LSH buckets are linked as chains, not all pairs
_SEED = 1
REASONS = ("exact-title", "exact-abstract", "arxiv-id", "near-duplicate")

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]


class Merge(BaseModel):
    """One record folded into a group's representative."""

    id: str
    source: str
    reason: str = Field(description="exact-title, exact-abstract, arxiv-id or near-duplicate (...)")
    matched: str = Field(description="source of the record it matched")
    ref: str = Field(
        description="id; for another version of the representative's id, id+version when known, "
        "else source"
    )


class DedupGroup(BaseModel):
    paper: Paper
    duplicates: list[Merge] = Field(default_factory=list)

    @property
    def duplicate_refs(self) -> list[str]:
        return [m.ref for m in self.duplicates]


class DedupCounts(BaseModel):
    records: int
    unique: int
    merged: int
    by_reason: dict[str, int] = Field(description="merged records per reason kind")


class ReportGroup(BaseModel):
    id: str
    source: str
    title: str
    duplicates: list[Merge]


class DedupReport(BaseModel):
    threshold: float
    counts: DedupCounts
    groups: list[ReportGroup] = Field(description="only groups that merged something")
    warnings: list[str] = Field(default_factory=list)


class DedupResult(BaseModel):
    threshold: float
    groups: list[DedupGroup]

    @property
    def papers(self) -> list[Paper]:
        return [g.paper for g in self.groups]

    def counts(self) -> DedupCounts:
        kinds = Counter(m.reason.split(" ", 1)[0] for g in self.groups for m in g.duplicates)
        merged = sum(kinds.values())
        return DedupCounts(
            records=len(self.groups) + merged,
            unique=len(self.groups),
            merged=merged,
            by_reason={kind: kinds[kind] for kind in REASONS},
        )

    def report(self, warnings: list[str] | None = None) -> DedupReport:
        groups = [
            ReportGroup(id=g.paper.id, source=g.paper.source, title=g.paper.title, duplicates=d)
            for g in self.groups
            if (d := g.duplicates)
        ]
        return DedupReport(
            threshold=self.threshold, counts=self.counts(), groups=groups, warnings=warnings or []
        )

    def summary(self) -> str:
        return _summary(self.counts())


def _summary(c: DedupCounts) -> str:
    """'310 records -> 270 unique (40 merged: 40 exact-title)'."""
    parts = ", ".join(f"{n} {kind}" for kind, n in c.by_reason.items() if n)
    merged = f"{c.merged} merged: {parts}" if c.merged else "none merged"
    return f"{c.records} records -> {c.unique} unique ({merged})"


def dedup(papers: Iterable[Paper], threshold: float = DEFAULT_THRESHOLD) -> DedupResult:
    """Group duplicates among ``papers`` and pick representatives, all in one result. For large
    inputs use `Deduplicator`, which hands the groups out one at a time."""
    with Deduplicator(threshold) as finder:
        finder.add_all(papers)
        return DedupResult(threshold=threshold, groups=list(finder.groups()))


class Deduplicator:
    """Streaming dedup with memory that grows by ~1 KB a record, not by its text.

    The first records are held as they are (up to TAGGER_DEDUP_MEMORY_MB, 16 by default); the
    rest are spilled to a temporary file (TMPDIR) as they arrive. Beyond that, memory holds only
    the exact-match digests, the MinHash signatures, the union-find arrays and the links that
    merged something. `groups()` reads each representative back when it is handed out.
    """

    def __init__(
        self, threshold: float = DEFAULT_THRESHOLD, *, memory_bytes: int | None = None
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ConfigError(f"The near-duplicate threshold must be in (0, 1], not {threshold}.")
        self.threshold = threshold
        self._state = _Grouping(memory_budget() if memory_bytes is None else memory_bytes)
        self._sketches = _Sketches(threshold)
        self._linked = False

    def __enter__(self) -> Deduplicator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._state.records.close()

    def add(self, paper: Paper) -> None:
        if self._linked:
            raise RuntimeError("add() after groups(): create a new Deduplicator")
        title, abstract = normalize_text(paper.title), normalize_text(paper.abstract)
        if self._state.add(paper, title, abstract):
            self._sketches.add(len(self._state) - 1, f"{title} {abstract}")

    def add_all(self, papers: Iterable[Paper]) -> Deduplicator:
        for paper in papers:
            self.add(paper)
        return self

    def _link(self) -> None:
        if not self._linked:
            _link_near_duplicates(self._state, self._sketches, self.threshold)
            self._sketches = _Sketches(self.threshold)  # signatures are no longer needed
            self._linked = True

    def groups(self, merged_only: bool = False) -> Iterator[DedupGroup]:
        """Groups in the order of their first-seen record (only those that merged something,
        with ``merged_only``)."""
        self._link()
        return self._state.groups(merged_only)

    def counts(self) -> DedupCounts:
        self._link()
        state = self._state
        merged = sum(state.merges.values())
        return DedupCounts(
            records=len(state),
            unique=len(state) - merged,
            merged=merged,
            by_reason={kind: state.merges[kind] for kind in REASONS},
        )

    def report(self, warnings: list[str] | None = None) -> DedupReport:
        groups = [
            ReportGroup(id=g.paper.id, source=g.paper.source, title=g.paper.title, duplicates=d)
            for g in self.groups(merged_only=True)
            if (d := g.duplicates)
        ]
        return DedupReport(
            threshold=self.threshold, counts=self.counts(), groups=groups, warnings=warnings or []
        )

    def summary(self) -> str:
        return _summary(self.counts())


@dataclass
class _Edge:
    other: int
    reason: str


class _Spill:
    """Records by index: the first ones held as objects while they fit `memory_bytes`, the rest
    appended to a temporary file (pickles) and read back on demand. Small inputs never touch
    the disk (pickling costs ~0.08 ms a record); large ones stay within the budget."""

    _FLUSH = 1 << 20

    def __init__(self, memory_bytes: int) -> None:
        self._held: list[Paper] = []
        self._budget = memory_bytes
        self._file: Any = None
        self._offsets = array("q", [0])  # spilled record i is bytes offsets[i]:offsets[i + 1]
        self._flushed = 0
        self._buffer = bytearray()

    def __len__(self) -> int:
        return len(self._held) + len(self._offsets) - 1

    def append(self, paper: Paper) -> None:
        if len(self._offsets) == 1 and self._budget > 0:
            self._held.append(paper)
            self._budget -= _approx_bytes(paper)
            return
        self._buffer += pickle.dumps(paper, protocol=pickle.HIGHEST_PROTOCOL)
        self._offsets.append(self._flushed + len(self._buffer))
        if len(self._buffer) >= self._FLUSH:
            self._flush()

    def __getitem__(self, index: int) -> Paper:
        if index < len(self._held):
            return self._held[index]
        index -= len(self._held)
        start, end = self._offsets[index], self._offsets[index + 1]
        if start >= self._flushed:  # still in the buffer (a record is never split)
            data = bytes(self._buffer[start - self._flushed : end - self._flushed])
        else:
            self._file.seek(start)
            data = self._file.read(end - start)
        paper: Paper = pickle.loads(data)
        return paper

    def _flush(self) -> None:
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="tagger-dedup-")
            self._file.seek(self._flushed)
            self._file.write(self._buffer)
        except OSError as exc:
            raise OutputError(
                f"cannot spill records to a temporary file ({exc.strerror or exc}).",
                hint="Set TMPDIR to a folder with room (about 2 KB a record).",
            ) from None
        self._flushed += len(self._buffer)
        self._buffer = bytearray()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._held, self._buffer = [], bytearray()


def _approx_bytes(paper: Paper) -> int:
    """What a held record costs in memory, roughly: its text plus the objects around it."""
    text = len(paper.title) + len(paper.abstract) + sum(len(a) for a in paper.authors)
    return 1200 + text


def memory_budget() -> int:
    """Bytes of records dedup holds in memory before spilling: TAGGER_DEDUP_MEMORY_MB (16)."""
    raw = os.environ.get("TAGGER_DEDUP_MEMORY_MB", "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_MEMORY_MB
    except ValueError:
        raise ConfigError(
            f"TAGGER_DEDUP_MEMORY_MB must be a number of megabytes, not '{raw}'."
        ) from None
    return max(int(megabytes * 2**20), 0)


class _Grouping:
    """Union-find over record indices, the exact-key tables, and the links that joined groups.
    Per record in memory: its parent, its representative preference, three 16-byte digests."""

    def __init__(self, memory_bytes: int) -> None:
        self.records = _Spill(memory_bytes)
        self.parent = array("q")
        self.has_arxiv = array("b")
        self.version = array("q")
        self.group_id = array("q")  # at a root: first record index with the group's arXiv id
        self.links: dict[int, list[_Edge]] = {}
        self.merges: Counter[str] = Counter()  # joins by reason kind
        self.tables: dict[str, dict[bytes, int]] = {
            r: {} for r in ("arxiv-id", "exact-title", "exact-abstract")
        }

    def __len__(self) -> int:
        return len(self.parent)

    def add(self, paper: Paper, title: str, abstract: str) -> bool:
        """Record ``paper``; False when an earlier record has its exact title and abstract, so
        its text needs no MinHash sketch of its own."""
        index = len(self.parent)
        self.records.append(paper)
        self.parent.append(index)
        self.has_arxiv.append(paper.arxiv_id is not None)
        self.version.append(version_number(paper.version))
        self.group_id.append(-1)
        keys = (("arxiv-id", paper.arxiv_id), ("exact-title", title), ("exact-abstract", abstract))
        matched = set()
        for reason, key in keys:
            if key:  # an empty normalized text matches nothing
                # 16-byte digests keep the tables small for large inputs.
                digest = hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()
                first = self.tables[reason].setdefault(digest, index)
                if reason == "arxiv-id":
                    self.group_id[index] = first
                if first != index and self.union(index, first, reason):
                    matched.add(reason)
        return not {"exact-title", "exact-abstract"} <= matched

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving
            i = parent[i]
        return i

    def union(self, a: int, b: int, reason: str) -> bool:
        """Join the groups of a and b; False when they hold different arXiv ids and a, b are
        not the same paper twice (see the module docstring)."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        id_a, id_b = self.group_id[root_a], self.group_id[root_b]
        if id_a >= 0 and id_b >= 0 and id_a != id_b and not self._same_paper(a, b, reason):
            return False
        self.parent[max(root_a, root_b)] = min(root_a, root_b)  # root = first seen
        self.group_id[min(root_a, root_b)] = id_a if id_a >= 0 else id_b
        self.links.setdefault(a, []).append(_Edge(b, reason))
        self.links.setdefault(b, []).append(_Edge(a, reason))
        self.merges[reason.split(" ", 1)[0]] += 1
        return True

    def _same_paper(self, a: int, b: int, reason: str) -> bool:
        """Records linked for ``reason`` that also agree on title and abstract (rare: read back)."""
        pa, pb = self.records[a], self.records[b]
        if normalize_text(pa.title) != normalize_text(pb.title):
            return False
        # A near-duplicate link already compared the abstracts; an exact-abstract one is equal.
        return reason != "exact-title" or normalize_text(pa.abstract) == normalize_text(pb.abstract)

    def groups(self, merged_only: bool = False) -> Iterator[DedupGroup]:
        """Roots ascend, so groups come out in input order; members are found by sorting the
        records by root (two int64 arrays), not by building a list per group."""
        n = len(self.parent)
        if n == 0:
            return
        roots = np.fromiter((self.find(i) for i in range(n)), dtype=np.int64, count=n)
        order = np.argsort(roots, kind="stable")
        sorted_roots = roots[order]
        changes = np.flatnonzero(np.r_[True, sorted_roots[1:] != sorted_roots[:-1]])
        bounds: list[int] = [*changes.tolist(), n]
        del roots, sorted_roots, changes
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            if end - start == 1:
                if not merged_only:
                    yield DedupGroup(paper=self.records[int(order[start])])
                continue
            yield self._group(order[start:end].tolist())

    def _group(self, members: list[int]) -> DedupGroup:
        rep = max(members, key=self._preference)
        papers = {i: self.records[i] for i in members}
        tree = sorted(self._tree(rep))  # duplicates listed in input order
        merges = [_merge(papers[i], papers[via], reason, papers[rep]) for i, via, reason in tree]
        others = [papers[i] for i in members if i != rep]
        return DedupGroup(paper=merged_metadata(papers[rep], others), duplicates=merges)

    def _preference(self, i: int) -> tuple[bool, int, int]:
        return (bool(self.has_arxiv[i]), self.version[i], -i)

    def _tree(self, root: int) -> Iterator[tuple[int, int, str]]:
        """(member, neighbour it was linked to, reason), walking the links outward from root."""
        seen = {root}
        queue = deque([root])
        while queue:
            node = queue.popleft()
            for edge in self.links.get(node, []):
                if edge.other not in seen:
                    seen.add(edge.other)
                    queue.append(edge.other)
                    yield edge.other, node, edge.reason


def _merge(paper: Paper, via: Paper, reason: str, rep: Paper) -> Merge:
    ref = paper.id
    if paper.id == rep.id:  # another copy or version of the representative
        versioned = paper.arxiv_id and paper.version and paper.version != rep.version
        ref = f"{paper.arxiv_id}{paper.version}" if versioned else paper.source
    return Merge(id=paper.id, source=paper.source, reason=reason, matched=via.source, ref=ref)


def merged_metadata(rep: Paper, others: list[Paper]) -> Paper:
    """``rep`` with its versions' authors and categories added, and a url, authors or date
    from another member where it has none."""
    versions = [p for p in others if rep.arxiv_id and p.arxiv_id == rep.arxiv_id]
    authors = _union(rep.authors, *(p.authors for p in versions))
    dated = next((p for p in [rep, *others] if p.date or p.date_text), rep)
    update: dict[str, Any] = {
        "authors": authors or next((p.authors for p in others if p.authors), ()),
        "categories": _union(rep.categories, *(p.categories for p in versions)),
        "url": rep.url or next((p.url for p in others if p.url), None),
        "date": dated.date,
        "date_text": dated.date_text,
    }
    changed = {k: v for k, v in update.items() if v != getattr(rep, k)}
    return rep.model_copy(update=changed) if changed else rep


def _union(*lists: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for items in lists for item in items))


class _Sketches:
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


def _link_near_duplicates(state: _Grouping, sketches: _Sketches, threshold: float) -> None:
    shingles = _ShingleCache(state.records)
    for i, j in sorted(_candidate_pairs(sketches.signatures(), sketches.bands, sketches.rows)):
        a, b = sketches.indices[i], sketches.indices[j]
        if state.find(a) != state.find(b):
            similarity = _jaccard(shingles.get(a), shingles.get(b))
            if similarity >= threshold:
                state.union(b, a, f"near-duplicate (jaccard={similarity:.2f})")


def _candidate_pairs(signatures: U32, bands: int, rows: int) -> set[tuple[int, int]]:
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


class _ShingleCache:
    """Exact shingle sets for verifying candidates, recomputed on demand; the LRU bounds memory."""

    def __init__(self, papers: _Spill, size: int = 4096) -> None:
        self.papers = papers
        self.size = size
        self._cache: OrderedDict[int, U32] = OrderedDict()

    def get(self, index: int) -> U32:
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        paper = self.papers[index]
        shingles = np.unique(shingle_hashes(_matching_text(paper)))
        self._cache[index] = shingles
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return shingles


def _matching_text(paper: Paper) -> str:
    return f"{normalize_text(paper.title)} {normalize_text(paper.abstract)}"


def _jaccard(a: U32, b: U32) -> float:
    """Exact Jaccard of two sorted unique arrays."""
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return shared / (len(a) + len(b) - shared)
