"""Bad input through the real CLI: one clear line naming the file (and line), never a traceback.

Files nothing can be read from stop the run (exit 2, one `tagger: error:` line); single bad
records are skipped with one `tagger: warning: FILE:LINE:` line each and the run goes on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import CliResult, invoke
from fake_openai import FakeOpenAI
from tagger.ingest import MAX_ABSTRACT_CHARS

ABSTRACT = "We study a problem and propose a method that improves results on three benchmarks."


Result = CliResult


Tagger = Callable[..., Result]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def tagger(server: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Tagger:
    def run(*inputs: str | Path, extra: tuple[str, ...] = ()) -> Result:
        args = ["run", *map(str, inputs), "-o", str(tmp_path / "out.jsonl"), "--overwrite"]
        args += ["--model", "openai/fake", "--api-base", server.base_url, *extra]
        return invoke(capsys, *args)

    return run


def output(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]


def assert_one_line_error(result: Result, where: str) -> str:
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("tagger: error: ") and where in line, line
    return line


def assert_ran_with_one_warning(result: Result, where: str) -> str:
    """Exit 0; stderr is exactly one warning naming FILE:LINE, then the run's summary line."""
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert len(result.warnings) == 1, result.err
    assert len(result.err_lines) == 2 and "unique" in result.err_lines[-1], result.err
    assert f"tagger: warning: {where}: " in result.warnings[0], result.warnings[0]
    return result.warnings[0]


def jsonl(path: Path, *records: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def paper(n: int) -> dict[str, str]:
    return {"title": f"Paper number {n} about topic {n * 7}", "abstract": f"{ABSTRACT} Case {n}."}


def test_empty_file(tagger: Tagger, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    line = assert_one_line_error(tagger(empty), f"{empty}: ")
    assert "empty" in line


def test_whitespace_only_file(tagger: Tagger, tmp_path: Path) -> None:
    blank = tmp_path / "blank.txt"
    blank.write_text("\n   \n\t\n")
    assert "empty" in assert_one_line_error(tagger(blank), f"{blank}: ")


def test_binary_file(tagger: Tagger, tmp_path: Path) -> None:
    binary = tmp_path / "figure.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert "binary" in assert_one_line_error(tagger(binary), f"{binary}: ")


def test_non_utf8_text_names_the_line(tagger: Tagger, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.jsonl"
    good = json.dumps(paper(1)) + "\n"
    latin1.write_bytes(
        (good * 2).encode() + '{"title": "Caf\xe9", "abstract": "x"}\n'.encode("latin-1")
    )
    line = assert_one_line_error(tagger(latin1), f"{latin1}:3: ")
    assert "UTF-8" in line


def test_utf8_bom_is_ignored(tagger: Tagger, tmp_path: Path) -> None:
    bom_jsonl = tmp_path / "bom.jsonl"
    bom_jsonl.write_bytes(b"\xef\xbb\xbf" + (json.dumps(paper(1)) + "\n").encode())
    bom_csv = tmp_path / "bom.csv"
    bom_csv.write_bytes(b"\xef\xbb\xbftitle,abstract\r\nA CSV paper title,Some abstract text.\r\n")
    result = tagger(bom_jsonl, bom_csv)
    assert result.code == 0 and result.warnings == [], result.err
    titles = sorted(str(r["title"]) for r in output(tmp_path))
    assert titles == ["A CSV paper title", paper(1)["title"]]


def test_crlf_page_dump(tagger: Tagger, tmp_path: Path) -> None:
    dump = tmp_path / "dump.txt"
    blocks = ["Daily Papers", "First title here", "First abstract\r\nwraps here.", "Second title"]
    blocks.append("Second abstract.")
    dump.write_bytes("\r\n\r\n".join(blocks).encode() + b"\r\n")
    result = tagger(dump)
    assert result.code == 0 and result.warnings == [], result.err
    rows = output(tmp_path)
    assert [r["title"] for r in rows] == ["First title here", "Second title"]
    assert not any("\r" in json.dumps(r) for r in rows)


def test_100kb_abstract_is_truncated_with_a_warning(tagger: Tagger, tmp_path: Path) -> None:
    huge = tmp_path / "huge.jsonl"
    long_abstract = ("A sentence about learning systems and their data. " * 2100)[:100_000]
    jsonl(huge, paper(1), {"title": "A very long abstract", "abstract": long_abstract})
    warning = assert_ran_with_one_warning(tagger(huge), f"{huge}:2")
    assert "truncated" in warning
    rows = {str(r["title"]): r for r in output(tmp_path)}
    assert rows["A very long abstract"]["truncated"] is True
    assert rows[paper(1)["title"]]["truncated"] is False
    manifest = json.loads((tmp_path / "out.run.json").read_text())
    assert manifest["counts"]["truncated"] == 1
    assert any(f"{huge}:2" in w for w in manifest["warnings"])


def test_truncated_abstract_is_what_the_model_sees(
    tagger: Tagger, server: FakeOpenAI, tmp_path: Path
) -> None:
    huge = jsonl(tmp_path / "huge.jsonl", {"title": "Long one", "abstract": "word " * 30_000})
    before = len(server.requests)
    assert tagger(huge, extra=("--no-cache",)).code == 0
    (request,) = server.requests[before:]
    user = request["body"]["messages"][-1]["content"]
    assert MAX_ABSTRACT_CHARS <= len(user) < MAX_ABSTRACT_CHARS + 1_000


@pytest.mark.parametrize("missing", ["title", "abstract"])
def test_record_missing_a_field_is_skipped(tagger: Tagger, tmp_path: Path, missing: str) -> None:
    broken = paper(2)
    broken[missing] = "  "
    source = jsonl(tmp_path / "papers.jsonl", paper(1), broken, paper(3))
    warning = assert_ran_with_one_warning(tagger(source), f"{source}:2")
    assert f"no {missing}" in warning
    assert [r["title"] for r in output(tmp_path)] == [paper(1)["title"], paper(3)["title"]]


def test_malformed_jsonl_line_is_skipped(tagger: Tagger, tmp_path: Path) -> None:
    source = tmp_path / "papers.jsonl"
    source.write_text(json.dumps(paper(1)) + '\n{"title": "cut off\n' + json.dumps(paper(3)) + "\n")
    warning = assert_ran_with_one_warning(tagger(source), f"{source}:2")
    assert "not valid JSON" in warning
    assert len(output(tmp_path)) == 2


def test_malformed_first_jsonl_line_is_an_error(tagger: Tagger, tmp_path: Path) -> None:
    source = tmp_path / "papers.jsonl"
    source.write_text('{"title": \n' + json.dumps(paper(1)) + "\n")
    assert_one_line_error(tagger(source), f"{source}:1: ")


def test_csv_with_wrong_headers(tagger: Tagger, tmp_path: Path) -> None:
    source = tmp_path / "papers.csv"
    source.write_text("name,text\nA paper,An abstract.\n")
    line = assert_one_line_error(tagger(source), f"{source}: ")
    assert "'name', 'text'" in line


def test_page_dump_with_a_dangling_title(tagger: Tagger, tmp_path: Path) -> None:
    dump = tmp_path / "dump.txt"
    dump.write_text("Daily Papers\n\nA title\n\nIts abstract.\n\nA title with no abstract\n")
    warning = assert_ran_with_one_warning(tagger(dump), f"{dump}:7")
    assert "no abstract" in warning
    assert [r["title"] for r in output(tmp_path)] == ["A title"]


def test_no_record_survives_is_an_error(tagger: Tagger, tmp_path: Path) -> None:
    source = jsonl(tmp_path / "papers.jsonl", {"title": "only a title", "abstract": ""})
    result = tagger(source)
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err_lines[-1].startswith(f"tagger: error: {source}: no papers found")


def test_unknown_format(tagger: Tagger, tmp_path: Path) -> None:
    source = jsonl(tmp_path / "papers.jsonl", paper(1))
    line = assert_one_line_error(tagger(source, extra=("--format", "xml")), "'xml'")
    assert "jsonl" in line and "csv" in line


def test_missing_input_file(tagger: Tagger, tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    assert_one_line_error(tagger(missing), f"{missing}: ")


def test_taxonomy_with_duplicate_ids(tagger: Tagger, tmp_path: Path) -> None:
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text(
        "tags:\n"
        "  - {id: vision, label: Vision, description: Images.}\n"
        "  - {id: text, label: Text, description: Language.}\n"
        "  - {id: vision, label: Vision again, description: Pictures.}\n"
    )
    source = jsonl(tmp_path / "papers.jsonl", paper(1))
    line = assert_one_line_error(
        tagger(source, extra=("--taxonomy", str(taxonomy))), f"{taxonomy}:4: "
    )
    assert "duplicate tag id 'vision'" in line and "line 2" in line
