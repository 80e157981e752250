"""Attacks through the files a user (or a downloaded example) supplies: prompts, taxonomies,
endpoint pools, the cache folder. Each one is a single clear line and a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, invoke
from fake_openai import FakeOpenAI
from tagger.run.cache import CachedAnswer, ResultCache

PROMPT = ROOT / "prompts" / "tag_summarize" / "v1.yaml"


def user_prompt(tmp_path: Path, edit: str, new: str) -> Path:
    """A ./prompts/tag_summarize/v1.yaml in the working folder, which overrides the packaged one."""
    text = PROMPT.read_text(encoding="utf-8")
    assert edit in text
    target = tmp_path / "prompts" / "tag_summarize" / "v1.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(text.replace(edit, new, 1), encoding="utf-8")
    return target


def papers(tmp_path: Path, n: int = 3) -> Path:
    path = tmp_path / "papers.jsonl"
    rows = [
        {"title": f"Paper {i} on topic {i * 7}", "abstract": f"We study {i}."} for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- 6: a prompt file cannot redirect requests (and the key) elsewhere ------------------------


def test_prompt_sampling_cannot_set_api_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI() as real, FakeOpenAI() as other:
        user_prompt(
            tmp_path, "  temperature: 0.0\n", f"  temperature: 0.0\n  api_base: {other.base_url}\n"
        )
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("TAGGER_API_KEY", "sk-test-secret-value")
        args = ["run", str(papers(tmp_path)), "-o", str(tmp_path / "o.jsonl")]
        result = invoke(capsys, *args, "--model", "openai/fake", "--api-base", real.base_url)
        assert result.code == 2
        line = one_line(result.err)
        assert "v1.yaml" in line and "'api_base' is not a sampling parameter" in line
        assert not other.requests and not real.requests
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("key", ["api_key", "base_url", "extra_headers", "model", "timeout"])
def test_prompt_sampling_refuses_anything_but_sampling(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user_prompt(tmp_path, "  temperature: 0.0\n", f"  temperature: 0.0\n  {key}: x\n")
    monkeypatch.chdir(tmp_path)
    result = invoke(capsys, "prompts", "show", "tag_summarize@v1")
    assert result.code == 2 and f"'{key}' is not a sampling parameter" in one_line(result.err)


def test_real_sampling_parameters_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user_prompt(tmp_path, "  temperature: 0.0\n", "  temperature: 0.0\n  top_p: 0.9\n  seed: 7\n")
    monkeypatch.chdir(tmp_path)
    from tagger.config.prompts import load_prompt

    sampling = load_prompt("tag_summarize@v1").sampling.model_dump()
    assert sampling == {"temperature": 0.0, "max_tokens": 300, "top_p": 0.9, "seed": 7}


# --- 12 and 14: YAML that explodes or nests without end ---------------------------------------

BOMB = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "tags: [{id: x, label: X, description: '*i'}]\n",
    ]
)


@pytest.mark.parametrize("command", [("taxonomy", "validate"), ("taxonomy", "show")])
def test_taxonomy_alias_bomb_is_refused(
    command: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB, encoding="utf-8")
    assert len(BOMB) < 600
    result = invoke(capsys, *command, str(bomb))
    assert result.code == 2
    assert f"{bomb}:1:" in one_line(result.err) and "aliases" in result.err


def test_endpoints_and_prompt_alias_bombs_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = tmp_path / "pool.yaml"
    pool.write_text(BOMB.replace("tags:", "endpoints:"), encoding="utf-8")
    result = invoke(capsys, "run", str(papers(tmp_path)), "-o", "o.jsonl", "--endpoints", str(pool))
    assert result.code == 2 and "aliases" in one_line(result.err)
    user_prompt(tmp_path, "description:", "x: &x [1, 2]\ny: *x\ndescription:")
    monkeypatch.chdir(tmp_path)
    result = invoke(capsys, "prompts", "show", "tag_summarize@v1")
    assert result.code == 2 and "aliases" in one_line(result.err)


@pytest.mark.parametrize("kind", ["taxonomy", "endpoints"])
def test_deeply_nested_yaml_is_one_line(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("tags: " + "[" * 20_000 + "\n", encoding="utf-8")
    if kind == "taxonomy":
        result = invoke(capsys, "taxonomy", "validate", str(deep))
    else:
        args = ["run", str(papers(tmp_path)), "-o", str(tmp_path / "o.jsonl")]
        result = invoke(capsys, *args, "--endpoints", str(deep))
    assert result.code == 2 and "nested more than" in one_line(result.err)


# --- 17: a key written twice --------------------------------------------------------------------


def test_taxonomy_with_tags_twice_names_both_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taxonomy = tmp_path / "t.yaml"
    taxonomy.write_text(
        "name: t\ntags:\n  - {id: a, label: A, description: First.}\n"
        "tags:\n  - {id: b, label: B, description: Second.}\n",
        encoding="utf-8",
    )
    result = invoke(capsys, "taxonomy", "validate", str(taxonomy))
    assert result.code == 2
    assert "'tags' is written twice (lines 2 and 4)" in one_line(result.err)


def test_prompt_with_a_key_twice_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user_prompt(tmp_path, "  temperature: 0.0\n", "  temperature: 0.0\n  temperature: 1.5\n")
    monkeypatch.chdir(tmp_path)
    result = invoke(capsys, "prompts", "show", "tag_summarize@v1")
    assert result.code == 2 and "'temperature' is written twice" in one_line(result.err)


# --- 18: a prompt that never shows the model the abstract -------------------------------------


@pytest.mark.parametrize(
    ("edit", "new", "says"),
    [
        ("  {abstract}\n", "  (abstract goes here)\n", "never shows the model the abstract"),
        ("  {abstract}\n", "  {abstract\n", "'{abstract' is not closed"),
        ("  {abstract}\n", "  {abstarct}\n", "'{abstarct}' is not a known placeholder"),
        ("Title: {title}", "Title:", "never shows the model the title"),
    ],
)
def test_prompt_must_render_every_required_field(
    edit: str,
    new: str,
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = user_prompt(tmp_path, edit, new)
    monkeypatch.chdir(tmp_path)
    with FakeOpenAI() as server:
        args = ["run", str(papers(tmp_path, 20)), "-o", str(tmp_path / "o.jsonl")]
        result = invoke(capsys, *args, "--model", "openai/fake", "--api-base", server.base_url)
        assert not server.requests
    assert result.code == 2
    line = one_line(result.err)
    assert says in line and str(target) in line
    if "closed" in says or "known" in says:
        expected = target.read_text().splitlines().index(new.rstrip("\n")) + 1
        assert f"v1.yaml:{expected}:" in line


# --- 15: a cache with zeroed pages --------------------------------------------------------------


def test_prune_on_a_cache_with_zeroed_pages_is_one_line(
    tagger_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ResultCache() as cache:
        for n in range(400):
            answer = CachedAnswer(
                tags=["llm"], summary=f"Studies {n}.", prompt="p@v1", model="m", created=1.0
            )
            cache.put(f"key-{n}", answer)
    database = tagger_home / "cache" / "cache.db"
    data = bytearray(database.read_bytes())
    assert len(data) > 3 * 4096
    data[4096:8192] = bytes(4096)  # the second page: the cache still opens, a full scan fails
    database.write_bytes(bytes(data))
    result = invoke(capsys, "cache", "prune", "--older-than", "1d")
    assert result.code == 2
    line = one_line(result.err)
    assert str(tagger_home / "cache") in line and "delete that folder" in line


# --- small untruths in the cache commands ------------------------------------------------------


def test_answering_no_to_cache_clear_exits_1_and_keeps_entries(
    tagger_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with ResultCache() as cache:
        cache.put(
            "k", CachedAnswer(tags=["llm"], summary="S.", prompt="p@v1", model="m", created=1.0)
        )
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    result = invoke(capsys, "cache", "clear")
    assert result.code == 1
    with ResultCache() as cache:
        assert cache.stats()["entries"] == 1


@pytest.mark.parametrize("ref", ["nope", "tag_summarize@", "tag_summarize@latest"])
def test_prune_with_a_malformed_prompt_says_so(
    ref: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = invoke(capsys, "cache", "prune", "--prompt", ref)
    assert result.code == 2
    assert "is not a prompt reference" in result.err and "removed" not in result.out


def test_prune_with_nothing_to_remove_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke(capsys, "cache", "prune")
    assert result.code == 2 and "--older-than" in result.err


# --- pydantic's wording never reaches the user ------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "says"),
    [
        (
            "{id: 'Bad Id', label: B, description: D.}",
            "tag #1: id: does not have the expected form",
        ),
        ("{id: ok, description: D.}", "tag #1: label: is required"),
        ("{id: ok, label: L, description: D., colour: red}", "colour: is not a field"),
    ],
)
def test_taxonomy_errors_are_in_taggers_words(
    tag: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taxonomy = tmp_path / "t.yaml"
    taxonomy.write_text(f"name: t\ntags:\n  - {tag}\n", encoding="utf-8")
    result = invoke(capsys, "taxonomy", "validate", str(taxonomy))
    line = one_line(result.err)
    assert result.code == 2 and says in line and f"{taxonomy}:3:" in line
    for pydantic_words in ("Value error", "String should", "Field required", "Extra inputs"):
        assert pydantic_words not in line


def test_endpoint_pool_errors_are_in_taggers_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = tmp_path / "pool.yaml"
    pool.write_text(
        "model: openai/x\nendpoints:\n  - {api_base: 'http://a'}\n  - {api_base: 'http://a'}\n",
        encoding="utf-8",
    )
    result = invoke(capsys, "run", str(papers(tmp_path)), "-o", "o.jsonl", "--endpoints", str(pool))
    line = one_line(result.err)
    assert result.code == 2 and "each api_base may appear once" in line
    assert "Value error" not in line


def test_format_help_lists_its_choices(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("run", "dedup"):
        result = invoke(capsys, command, "--help")
        text = " ".join(result.out.split())
        assert all(name in text for name in ("auto", "jsonl", "csv", "dailypapers")), command


def test_install_hint_for_the_llm_extra_names_this_project() -> None:
    from tagger.embedded.llm import INSTALL_HINT

    assert "pip install 'tagger[llm]'" not in INSTALL_HINT
    assert "-e '.[llm]'" in INSTALL_HINT


def test_packaged_prompts_still_load_unchanged() -> None:
    """The sampling whitelist keeps existing prompt files (and so cache keys) as they were."""
    from tagger.config.prompts import list_prompts

    specs = {s.ref: s for s in list_prompts()}
    assert specs["tag_summarize@v1"].sampling.model_dump() == {
        "temperature": 0.0,
        "max_tokens": 300,
    }
