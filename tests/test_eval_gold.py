"""Loading a gold file: good records load; each kind of bad line is one ConfigError at file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagger.config.taxonomy import Taxonomy, load_taxonomy
from tagger.errors import ConfigError
from tagger.evaluate.gold import load_gold

DATA = Path(__file__).parent / "data" / "eval"


def good(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": "p1",
        "title": "A title",
        "abstract": "An abstract.",
        "tags": ["llm"],
        "summary": "Does a thing.",
        "source": "x.txt:1",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


def write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "gold.jsonl"
    text = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def test_the_test_gold_set_loads() -> None:
    gold = load_gold(DATA / "gold.jsonl", load_taxonomy(DATA / "taxonomy.yaml"))
    assert [i.id for i in gold.items] == ["p1", "p2", "p3", "p4"]
    assert gold.items[1].tags == ["llm", "robotics"]
    assert len(gold.content_hash) == 16


def test_blank_lines_extra_keys_and_missing_source(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    path = write(tmp_path, good(source=None, note="checked twice"), "", good(id="p2", tags=[]))
    gold = load_gold(path, tiny_taxonomy)
    assert [i.id for i in gold.items] == ["p1", "p2"]
    assert gold.items[0].source == f"{path}:1"  # defaults to where it was read
    assert gold.items[1].tags == []  # "no tag applies" is a valid label


def test_hash_changes_with_a_label(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    first = load_gold(write(tmp_path, good()), tiny_taxonomy).content_hash
    second = load_gold(write(tmp_path, good(tags=["robotics"])), tiny_taxonomy).content_hash
    assert first != second


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        ([good(), "{not json"], 2, "invalid JSON"),
        ([good(), "[1, 2]"], 2, "expected a JSON object"),
        ([good(summary=None)], 1, "record: summary: is required"),
        ([good(), good(id="p2", title=None)], 2, "record: title: is required"),
        ([good(tags="llm")], 1, "record: tags: "),
        ([good(id=7)], 1, "record: id: "),
        ([good(tags=["llm", "quantum"])], 1, "unknown tag 'quantum'"),
        ([good(tags=["llm", "llm"])], 1, "listed twice"),
        ([good(), good(title="Other")], 2, "duplicate id 'p1' (first on line 1)"),
    ],
)
def test_bad_lines_name_file_and_line(
    tmp_path: Path, tiny_taxonomy: Taxonomy, lines: list[object], line: int, message: str
) -> None:
    path = write(tmp_path, *lines)
    with pytest.raises(ConfigError) as info:
        load_gold(path, tiny_taxonomy)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert message in str(info.value)


def test_unknown_tag_says_which_taxonomy(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    with pytest.raises(ConfigError, match="not in taxonomy 'tiny'.*--taxonomy"):
        load_gold(write(tmp_path, good(tags=["quantum"])), tiny_taxonomy)


def test_empty_and_missing_files(tmp_path: Path, tiny_taxonomy: Taxonomy) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no records"):
        load_gold(empty, tiny_taxonomy)
    with pytest.raises(ConfigError, match="cannot read the gold file.*--gold"):
        load_gold(tmp_path / "absent.jsonl", tiny_taxonomy)
