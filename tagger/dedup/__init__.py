"""Dedup: exact and near-duplicate papers (MinHash LSH) grouped, streaming, with a merge report.

grouping (the Deduplicator), minhash (signatures, LSH), spill (records beyond memory), report
(groups, counts, UniquePaper), source (inputs -> unique papers, for a run).
"""
