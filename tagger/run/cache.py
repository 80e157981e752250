"""The result cache: validated model outputs on disk (diskcache). The one place the key is made."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from tagger.config.schema import validate_answer
from tagger.errors import CacheError

# `tagger cache clear` needs a readable cache; a damaged one is deleted (it only saves calls).
_DAMAGED_HINT = "If it is damaged, delete that folder (answers are recomputed) or use --no-cache."
# diskcache's default 1 GiB limit evicts silently; entries are ~0.5 KB, so 4 GiB holds millions.
DEFAULT_SIZE_LIMIT = 4 * 1024**3
KEY_VERSION = "k1"  # bump when the key's recipe changes


def tagger_home() -> Path:
    """$TAGGER_HOME, else the platform's user cache dir."""
    env = os.environ.get("TAGGER_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("tagger"))


def default_cache_dir() -> Path:
    return tagger_home() / "cache"


class KeyParts(BaseModel):
    """Exactly what changes the answer; nothing else (no timestamps, no API keys)."""

    title: str
    abstract: str
    prompt: str
    prompt_hash: str
    schema_hash: str
    taxonomy_hash: str
    model: str
    api_base: str | None = None
    sampling: Mapping[str, Any] = {}
    namespace: str = ""  # e.g. eval --repeats run index


def make_key(parts: KeyParts) -> str:
    payload = json.dumps([KEY_VERSION, parts.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class KeyMaker:
    """`make_key` for many papers that share everything but title and abstract.

    The shared parts are serialized once; each key then costs two string encodes and a hash
    (~10x faster). Keys are identical to `make_key`'s, so caches stay valid.
    """

    _TITLE, _ABSTRACT = "\x00title\x00", "\x00abstract\x00"  # JSON-escaped: never in a text

    def __init__(self, shared: KeyParts) -> None:
        parts = shared.model_dump(mode="json") | {"title": self._TITLE, "abstract": self._ABSTRACT}
        payload = json.dumps([KEY_VERSION, parts], sort_keys=True)
        title, abstract = json.dumps(self._TITLE), json.dumps(self._ABSTRACT)
        self._title_first = payload.index(title) < payload.index(abstract)
        first, second = (title, abstract) if self._title_first else (abstract, title)
        head, rest = payload.split(first)
        middle, tail = rest.split(second)
        self._pieces = (head, middle, tail)

    def key(self, title: str, abstract: str) -> str:
        """The key for normalized ``title`` and ``abstract``."""
        first, second = (title, abstract) if self._title_first else (abstract, title)
        head, middle, tail = self._pieces
        payload = head + json.dumps(first) + middle + json.dumps(second) + tail
        return hashlib.sha256(payload.encode()).hexdigest()


class CachedIntro(BaseModel):
    """The digest intro a model wrote for one day's sections: its own record, never read as a
    paper's answer (a CachedAnswer needs tags; this has a `kind` a paper's answer lacks)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["digest-intro"] = "digest-intro"
    text: str
    model: str
    prompt: str
    created: float


class CachedAnswer(BaseModel):
    tags: list[str]
    summary: str
    model: str
    prompt: str
    created: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None: the model's price is unknown
    latency_s: float = 0.0


def valid_hit(answer: CachedAnswer, model: type[BaseModel], title: str) -> bool:
    """Whether a cached answer still passes the run's response model (taxonomy, K, summary
    rules): a damaged or stale entry is a miss, never an answer."""
    try:
        validate_answer(model, {"tags": answer.tags, "summary": answer.summary}, {"title": title})
    except ValueError:
        return False
    return True


_Record = TypeVar("_Record", CachedAnswer, CachedIntro)


class ResultCache:
    """A thin wrapper over diskcache.Cache; safe to share between processes (SQLite + files)."""

    def __init__(self, directory: Path | None = None, size_limit: int = DEFAULT_SIZE_LIMIT) -> None:
        import diskcache

        self.directory = directory or default_cache_dir()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._cache = diskcache.Cache(
                str(self.directory),
                size_limit=size_limit,
                eviction_policy="least-recently-stored",  # reads stay read-only: fast hits
            )
        except (OSError, sqlite3.DatabaseError) as exc:
            raise CacheError(
                f"cannot open the cache ({exc}).", path=str(self.directory), hint=_DAMAGED_HINT
            ) from None

    def get(self, key: str) -> CachedAnswer | None:
        return self._read(key, CachedAnswer)

    def put(self, key: str, answer: CachedAnswer | CachedIntro) -> None:
        try:
            self._cache.set(key, answer.model_dump_json(), tag=answer.prompt)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise CacheError(f"cache write failed ({exc}).", path=str(self.directory)) from None

    def get_intro(self, key: str) -> CachedIntro | None:
        """A digest intro; one an older tagger stored as a tagless CachedAnswer still reads."""
        intro = self._read(key, CachedIntro)
        if intro is not None:
            return intro
        old = self._read(key, CachedAnswer)
        if old is None or old.tags:
            return None
        return CachedIntro(
            text=old.summary, model=old.model, prompt=old.prompt, created=old.created
        )

    def _read(self, key: str, kind: type[_Record]) -> _Record | None:
        try:
            raw = self._cache.get(key)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise CacheError(
                f"cache read failed ({exc}).", path=str(self.directory), hint=_DAMAGED_HINT
            ) from None
        except (pickle.UnpicklingError, EOFError, UnicodeDecodeError):
            return None  # one damaged entry is a miss, never a wrong answer
        if raw is None:
            return None
        try:
            return kind.model_validate_json(raw)
        except ValueError:
            return None  # an unreadable entry (or another kind's) is a miss, never an answer

    def stats(self) -> dict[str, Any]:
        with self._database("read"):
            return {
                "path": str(self.directory),
                "entries": len(self._cache),
                "size_bytes": self._cache.volume(),
                "size_limit_bytes": self._cache.size_limit,
                "eviction_policy": self._cache.eviction_policy,
            }

    def clear(self) -> int:
        with self._database("clear"):
            return int(self._cache.clear())

    def prune(self, *, older_than_s: float | None = None, prompt: str | None = None) -> int:
        """Remove entries older than a duration and/or from one prompt version; returns count."""
        with self._database("prune"):
            return self._prune(older_than_s, prompt)

    @contextmanager
    def _database(self, action: str) -> Iterator[None]:
        """A damaged or unreadable cache database is one CacheError line, never a traceback."""
        try:
            yield
        except (OSError, sqlite3.DatabaseError) as exc:
            raise CacheError(
                f"cache {action} failed ({exc}).", path=str(self.directory), hint=_DAMAGED_HINT
            ) from None

    def _prune(self, older_than_s: float | None, prompt: str | None) -> int:
        removed = 0
        if prompt is not None:
            removed += int(self._cache.evict(prompt))
        if older_than_s is not None:
            cutoff = time.time() - older_than_s
            for key in list(self._cache.iterkeys()):
                entry = self.get(key) or self.get_intro(key)
                if entry is None or entry.created < cutoff:
                    removed += int(self._cache.delete(key))
        self._cache.cull()
        return removed

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
