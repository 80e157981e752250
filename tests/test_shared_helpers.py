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


def test_the_fast_parser_reads_what_the_plain_one_reads_and_errors_keep_their_words(
    tmp_path: Path,
) -> None:
    """load_yaml parses with libyaml where PyYAML has it; every YAML file tagger ships reads
    the same as with the pure-Python loader, and a broken file is still worded (and its line
    named) as before."""
    import yaml

    root = Path(__file__).resolve().parent.parent
    files = [*root.glob("tagger/data/**/*.yaml"), *root.glob("prompts/**/*.yaml")]
    files += [*root.glob("eval/**/*.yaml")]
    assert len(files) >= 5
    for path in files:
        plain = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        assert load_yaml(path) == plain, path
    with pytest.raises(ConfigError, match="mapping values are not allowed here") as info:
        load_yaml(write(tmp_path, "name: x\ntags: a: b\n"))
    assert info.value.line == 2


@pytest.mark.parametrize(
    "text",
    [
        "- " * 3000 + "a\n",  # block sequences nested on one line
        "".join("  " * i + "a:\n" for i in range(1500)) + "  " * 1500 + "b\n",  # deeper indents
    ],
)
def test_deep_block_nesting_is_one_error_not_a_recursion(tmp_path: Path, text: str) -> None:
    """The parser recurses per level of block nesting: a file nested past Python's recursion
    limit was a RecursionError traceback (`tagger taxonomy validate`), not tagger's one line."""
    with pytest.raises(ConfigError, match="nested more than"):
        load_yaml(write(tmp_path, text))


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
