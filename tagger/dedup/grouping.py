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
from array import array
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tagger.dedup.minhash import U32, Sketches, candidate_pairs, jaccard, shingle_hashes
from tagger.dedup.report import (
    REASONS,
    DedupCounts,
    DedupGroup,
    DedupReport,
    MatchKind,
    Merge,
    ReportGroup,
    reason_text,
    summary_line,
)
from tagger.dedup.spill import Spill, memory_budget
from tagger.errors import ConfigError
from tagger.ingest.ids import version_number
from tagger.records import Paper

DEFAULT_THRESHOLD = 0.8


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
        self._sketches = Sketches(threshold)
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
        title, abstract = paper.matching
        if self._state.add(paper, title, abstract):
            self._sketches.add(len(self._state) - 1, f"{title} {abstract}")

    def add_all(self, papers: Iterable[Paper]) -> Deduplicator:
        for paper in papers:
            self.add(paper)
        return self

    def _link(self) -> None:
        if not self._linked:
            _link_near_duplicates(self._state, self._sketches, self.threshold)
            self._sketches = Sketches(self.threshold)  # signatures are no longer needed
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
        return summary_line(self.counts())


@dataclass
class _Edge:
    other: int
    match: MatchKind
    score: float | None = None  # a near-duplicate's Jaccard similarity


class _Grouping:
    """Union-find over record indices, the exact-key tables, and the links that joined groups.
    Per record in memory: its parent, its representative preference, three 16-byte digests."""

    def __init__(self, memory_bytes: int) -> None:
        self.records = Spill(memory_bytes)
        self.parent = array("q")
        self.has_arxiv = array("b")
        self.version = array("q")
        self.group_id = array("q")  # at a root: first record index with the group's arXiv id
        self.links: dict[int, list[_Edge]] = {}
        self.merges: Counter[str] = Counter()  # joins by reason kind
        self.tables: dict[MatchKind, dict[bytes, int]] = {
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
        keys: tuple[tuple[MatchKind, str | None], ...] = (
            ("arxiv-id", paper.arxiv_id),
            ("exact-title", title),
            ("exact-abstract", abstract),
        )
        matched = set()
        for match, key in keys:
            if key:  # an empty normalized text matches nothing
                # 16-byte digests keep the tables small for large inputs.
                digest = hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()
                first = self.tables[match].setdefault(digest, index)
                if match == "arxiv-id":
                    self.group_id[index] = first
                if first != index and self.union(index, first, match):
                    matched.add(match)
        return not {"exact-title", "exact-abstract"} <= matched

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving
            i = parent[i]
        return i

    def union(self, a: int, b: int, match: MatchKind, score: float | None = None) -> bool:
        """Join the groups of a and b; False when they hold different arXiv ids and a, b are
        not the same paper twice (see the module docstring)."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        id_a, id_b = self.group_id[root_a], self.group_id[root_b]
        if id_a >= 0 and id_b >= 0 and id_a != id_b and not self._same_paper(a, b, match):
            return False
        self.parent[max(root_a, root_b)] = min(root_a, root_b)  # root = first seen
        self.group_id[min(root_a, root_b)] = id_a if id_a >= 0 else id_b
        self.links.setdefault(a, []).append(_Edge(b, match, score))
        self.links.setdefault(b, []).append(_Edge(a, match, score))
        self.merges[match] += 1
        return True

    def _same_paper(self, a: int, b: int, match: MatchKind) -> bool:
        """Records linked by ``match`` that also agree on title and abstract (rare: read back)."""
        pa, pb = self.records[a], self.records[b]
        if pa.matching[0] != pb.matching[0]:
            return False
        # A near-duplicate link already compared the abstracts; an exact-abstract one is equal.
        return match != "exact-title" or pa.matching[1] == pb.matching[1]

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
        merges = [_merge(papers[i], papers[via], edge, papers[rep]) for i, via, edge in tree]
        others = [papers[i] for i in members if i != rep]
        return DedupGroup(paper=merged_metadata(papers[rep], others), duplicates=merges)

    def _preference(self, i: int) -> tuple[bool, int, int]:
        return (bool(self.has_arxiv[i]), self.version[i], -i)

    def _tree(self, root: int) -> Iterator[tuple[int, int, _Edge]]:
        """(member, neighbour it was linked to, the link), walking the links outward from root."""
        seen = {root}
        queue = deque([root])
        while queue:
            node = queue.popleft()
            for edge in self.links.get(node, []):
                if edge.other not in seen:
                    seen.add(edge.other)
                    queue.append(edge.other)
                    yield edge.other, node, edge


def _merge(paper: Paper, via: Paper, link: _Edge, rep: Paper) -> Merge:
    ref = paper.id
    if paper.id == rep.id:  # another copy or version of the representative
        versioned = paper.arxiv_id and paper.version and paper.version != rep.version
        ref = f"{paper.arxiv_id}{paper.version}" if versioned else paper.source
    return Merge(
        id=paper.id,
        source=paper.source,
        reason=reason_text(link.match, link.score),
        matched=via.source,
        ref=ref,
        match=link.match,
        score=link.score,
    )


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


def _link_near_duplicates(state: _Grouping, sketches: Sketches, threshold: float) -> None:
    shingles = _ShingleCache(state.records)
    for i, j in sorted(candidate_pairs(sketches.signatures(), sketches.bands, sketches.rows)):
        a, b = sketches.indices[i], sketches.indices[j]
        if state.find(a) != state.find(b):
            similarity = jaccard(shingles.get(a), shingles.get(b))
            if similarity >= threshold:
                state.union(b, a, "near-duplicate", similarity)


class _ShingleCache:
    """Exact shingle sets for verifying candidates, recomputed on demand; the LRU bounds memory."""

    def __init__(self, papers: Spill, size: int = 4096) -> None:
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
    title, abstract = paper.matching
    return f"{title} {abstract}"
