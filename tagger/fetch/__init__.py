"""Paper sources: the arXiv API and Hugging Face daily papers, written as JSONL `tagger run` reads.

http (polite client: interval, retries, one-line errors) -> arxiv / hf_daily (parse a listing)
-> sink (append new papers to OUT, remember them in the --state file).
"""

from __future__ import annotations

from tagger.fetch.http import FetchError, Http
from tagger.fetch.records import FetchedPaper
from tagger.fetch.sink import FetchResult, Sink

__all__ = ["FetchError", "FetchResult", "FetchedPaper", "Http", "Sink"]
