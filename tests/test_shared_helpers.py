"""The strict YAML reader and the LaTeX-to-Unicode display helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.errors import ConfigError, InputError
from tagger.jsonio import has_surrogates, parse_json_line, replace_surrogates
from tagger.latex import latex_to_text
from tagger.yamlfile import load_yaml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_yaml_loads(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "name: x\ntags:\n  - {id: a}\n")) == {
        "name": "x",
        "tags": [{"id": "a"}],
    }


def test_alias_bomb_is_refused_with_its_line(tmp_path: Path) -> None:
    text = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: [*c,*c]\n'
    with pytest.raises(ConfigError, match="aliases") as info:
        load_yaml(write(tmp_path, text))
    assert info.value.line == 1


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'tags' is written twice \(lines 1 and 3\)"):
        load_yaml(write(tmp_path, "tags:\n  - id: a\ntags:\n  - id: b\n"))


def test_deep_nesting_is_one_error_not_a_recursion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nested more than"):
        load_yaml(write(tmp_path, "x: " + "[" * 20000 + "\n"))


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Bounds for $\\ell_p$ embeddings", "Bounds for ℓ_p embeddings"),
        ("{\\it no extra price}", "no extra price"),
        ('Schr\\"odinger bridges', "Schrödinger bridges"),
        ("a 100% gain and $x^2$", "a 100% gain and x^2"),
        ("no latex here", "no latex here"),
    ],
)
def test_latex_becomes_readable_text(raw: str, shown: str) -> None:
    assert latex_to_text(raw) == shown


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("[" * 100_000, "nested too deeply"),
        ('{"n": ' + "9" * 5000 + "}", "digits"),
        ("{bad", "Expecting property name"),
    ],
)
def test_bad_json_lines_are_one_input_error(line: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as info:
        parse_json_line(line, path="f.jsonl", line=3)
    assert str(info.value).startswith("f.jsonl:3: ")


def test_lone_surrogates_become_replacement_characters() -> None:
    value = parse_json_line('{"t": "Surrogate \\ud83d title"}', path="f", line=1)
    assert has_surrogates(value["t"])
    assert replace_surrogates(value["t"]) == "Surrogate \ufffd title"
    assert replace_surrogates(value["t"]).encode("utf-8")
