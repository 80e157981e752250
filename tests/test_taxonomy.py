from pathlib import Path

import pytest

from tagger.config.taxonomy import load_taxonomy
from tagger.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tax.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_taxonomy_has_25_to_50_described_tags() -> None:
    tax = load_taxonomy()
    assert 25 <= len(tax.tags) <= 50
    assert all(t.description for t in tax.tags)
    assert len(set(tax.ids)) == len(tax.ids)


def test_duplicate_ids_are_rejected_with_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tags:\n  - id: a\n    label: A\n    description: x\n"
        "  - id: a\n    label: A2\n    description: y\n",
    )
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    assert "duplicate tag id 'a'" in str(info.value)
    assert f"{path}:5:" in str(info.value)


def test_empty_description_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "tags:\n  - id: a\n    label: A\n    description: '  '\n")
    with pytest.raises(ConfigError, match="description must not be empty"):
        load_taxonomy(path)


def test_bad_yaml_reports_line(tmp_path: Path) -> None:
    path = write(tmp_path, "tags:\n  - id: a\n    label: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    assert str(path) in str(info.value) and "invalid YAML" in str(info.value)


def test_hash_ignores_comments_but_not_descriptions(tmp_path: Path) -> None:
    base = "tags:\n  - id: a\n    label: A\n    description: first\n"
    h1 = load_taxonomy(write(tmp_path, base)).content_hash
    h2 = load_taxonomy(write(tmp_path, "# a comment\n" + base)).content_hash
    h3 = load_taxonomy(write(tmp_path, base.replace("first", "second"))).content_hash
    assert h1 == h2 != h3
