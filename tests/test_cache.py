from pathlib import Path

from tagger.run.cache import CachedAnswer, KeyParts, ResultCache, default_cache_dir, make_key


def parts(**changes: object) -> KeyParts:
    base = dict(
        title="a title",
        abstract="an abstract",
        prompt="tag_summarize@v1",
        prompt_hash="p",
        schema_hash="s",
        taxonomy_hash="t",
        model="openai/m",
        api_base=None,
        sampling={"temperature": 0.0},
    )
    base.update(changes)
    return KeyParts.model_validate(base)


def test_key_covers_everything_that_changes_the_answer() -> None:
    key = make_key(parts())
    assert make_key(parts()) == key
    for change in [
        {"abstract": "other"},
        {"title": "other"},
        {"prompt": "tag_summarize@v2"},
        {"prompt_hash": "q"},
        {"schema_hash": "z"},
        {"taxonomy_hash": "u"},
        {"model": "openai/other"},
        {"api_base": "http://127.0.0.1:9/v1"},
        {"sampling": {"temperature": 0.7}},
        {"namespace": "repeat-1"},
    ]:
        assert make_key(parts(**change)) != key, change


def test_cache_lives_under_tagger_home(tagger_home: Path) -> None:
    assert default_cache_dir() == tagger_home / "cache"


def answer(created: float = 1.0) -> CachedAnswer:
    return CachedAnswer(tags=["llm"], summary="S.", model="m", prompt="p@v1", created=created)


def test_round_trip_and_size_limit_is_deliberate(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "c") as cache:
        assert cache.get("k") is None
        cache.put("k", answer())
        assert cache.get("k") == answer()
        stats = cache.stats()
        assert stats["entries"] == 1 and stats["size_limit_bytes"] == 4 * 1024**3
    with ResultCache(tmp_path / "c") as cache:  # persists across processes/opens
        assert cache.get("k") == answer()


def test_corrupt_entry_is_a_miss_not_a_wrong_answer(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "c") as cache:
        cache._cache.set("k", "{not json")
        assert cache.get("k") is None


def test_prune_by_age_and_by_prompt(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "c") as cache:
        cache.put("old", answer(created=0.0))
        cache.put("new", answer(created=9e12))
        assert cache.prune(older_than_s=3600) == 1
        assert cache.get("old") is None and cache.get("new") is not None
        assert cache.prune(prompt="p@v1") == 1
        assert cache.stats()["entries"] == 0
