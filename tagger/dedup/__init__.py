"""Exact and near-duplicate detection (MinHash LSH) over papers, streaming, with a merge report.

The package's public names; see grouping (the Deduplicator), source (inputs -> unique papers).
"""

from __future__ import annotations

from tagger.dedup.grouping import (
    DEFAULT_MEMORY_MB,
    DEFAULT_THRESHOLD,
    LSH_RECALL,
    NUM_PERM,
    REASONS,
    SHINGLE_WORDS,
    DedupCounts,
    DedupGroup,
    Deduplicator,
    DedupReport,
    DedupResult,
    Merge,
    ReportGroup,
    dedup,
    lsh_bands,
    memory_budget,
    merged_metadata,
    minhash_batch,
    permutations,
    shingle_hashes,
)

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_THRESHOLD",
    "LSH_RECALL",
    "NUM_PERM",
    "REASONS",
    "SHINGLE_WORDS",
    "DedupCounts",
    "DedupGroup",
    "DedupReport",
    "DedupResult",
    "Deduplicator",
    "Merge",
    "ReportGroup",
    "dedup",
    "lsh_bands",
    "memory_budget",
    "merged_metadata",
    "minhash_batch",
    "permutations",
    "shingle_hashes",
]
