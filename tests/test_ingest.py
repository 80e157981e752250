"""Reading papers from every supported format, and the errors and warnings bad input gets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tagger.errors import InputError
from tagger.ingest import MAX_ABSTRACT_CHARS, iter_papers
from tagger.ingest.ids import parse_arxiv_id
from tagger.records import Paper

DATA = Path(__file__).parent / "data" / "ingest"
SAMPLES = Path(__file__).parent.parent / "samples"
CONTENT_ID = re.compile(r"h[0-9a-f]{12}")


def read(*paths: Path | str, fmt: str = "auto") -> tuple[list[Paper], list[str]]:
    warnings: list[str] = []
    papers = list(iter_papers([str(p) for p in paths], fmt, warnings.append))
    return papers, warnings


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


DUMP = (
    "new\n\nSubscribe\n\nDaily Papers\n\n"
    "First Title\n\nFirst abstract.\n\nSecond\nTitle\n\nSecond abstract.\n"
)


# --- Daily Papers page dumps ---------------------------------------------------------------


def test_page_dump_skips_header_and_pairs_titles_with_abstracts() -> None:
    papers, warnings = read(DATA / "dailypapers.txt")
    assert warnings == []
    assert [p.title for p in papers] == [
        "Sharper Bounds for $\\ell_p$ Sensitivity Sampling",
        "Attention Is All You Need",  # a title wrapped over two lines is joined
        "Sharper Bounds for ell_p Sensitivity Sampling",
    ]
    assert papers[1].abstract.startswith("The dominant sequence transduction models")
    assert [p.source for p in papers] == [f"{DATA / 'dailypapers.txt'}:{n}" for n in (11, 15, 20)]


def test_page_dump_ids_are_content_ids_shared_by_latex_spellings() -> None:
    papers, _ = read(DATA / "dailypapers.txt")
    assert all(CONTENT_ID.fullmatch(p.id) for p in papers)
    assert papers[0].id == papers[2].id != papers[1].id
    assert papers[0].url is None and papers[0].arxiv_id is None


def test_bom_and_crlf_read_like_plain_utf8(tmp_path: Path) -> None:
    plain, _ = read(write(tmp_path / "plain.txt", DUMP))
    windows, _ = read(write(tmp_path / "win.txt", "\ufeff" + DUMP.replace("\n", "\r\n")))
    assert [(p.title, p.abstract, p.source.rsplit(":", 1)[1]) for p in windows] == [
        (p.title, p.abstract, p.source.rsplit(":", 1)[1]) for p in plain
    ]
    assert [p.title for p in plain] == ["First Title", "Second Title"]


def test_dangling_title_at_end_warns_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "cut.txt", DUMP + "\nCut Off Title\n")
    papers, warnings = read(path)
    assert len(papers) == 2
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}:16: title has no abstract")


def test_missing_block_that_shifts_titles_and_abstracts_is_warned(tmp_path: Path) -> None:
    abstract = "A long abstract sentence that goes on. " * 12
    path = write(tmp_path / "shifted.txt", f"Title One\n\n{abstract}\n\n{abstract}\n\nTitle Two\n")
    _, warnings = read(path)
    assert warnings[0].startswith(f"{path}:5: a 467-character block stands where a title should")


def test_concatenated_dumps_skip_the_second_header(tmp_path: Path) -> None:
    papers, warnings = read(write(tmp_path / "two.txt", DUMP + "\n" + DUMP))
    assert [p.title for p in papers] == ["First Title", "Second Title"] * 2
    assert warnings == []


def test_bundled_samples_hold_310_records() -> None:
    papers, warnings = read(SAMPLES)
    assert len(papers) == 310 and warnings == []
    assert papers[0].source == f"{SAMPLES / '000_07316d513b3739f7.txt'}:11"


# --- JSON lines -------------------------------------------------------------------------------


def test_jsonl_fields_any_case_and_arxiv_ids_from_id_or_url() -> None:
    papers, warnings = read(DATA / "papers.jsonl")
    assert warnings == []
    resnet, attention, note, old = papers
    assert (resnet.id, resnet.version, resnet.arxiv_id) == ("1512.03385", "v1", "1512.03385")
    assert resnet.url == "https://arxiv.org/abs/1512.03385"
    assert resnet.abstract == "Deeper neural networks are more difficult to train."
    assert resnet.authors == ("Kaiming He", "Xiangyu Zhang")
    assert resnet.categories == ("cs.CV", "cs.LG")
    assert (attention.id, attention.version) == ("1706.03762", "v7")
    assert attention.authors == ("Ashish Vaswani", "Noam Shazeer", "Niki Parmar")
    assert attention.date == "2017-06-12"
    assert CONTENT_ID.fullmatch(note.id) and note.url == "https://example.org/note"
    assert (old.id, old.version) == ("hep-th/9901001", "v2")
    assert note.source.endswith("papers.jsonl:4")  # the blank line 3 still counts


def test_malformed_jsonl_line_is_skipped_with_its_line_number(tmp_path: Path) -> None:
    good = json.dumps({"title": "T", "abstract": "A."})
    path = write(tmp_path / "p.jsonl", f"{good}\n{{broken\n[1, 2]\n{good}\n")
    papers, warnings = read(path)
    assert len(papers) == 2
    assert warnings[0].startswith(f"{path}:2: line is not valid JSON")
    assert warnings[1].startswith(f"{path}:3: line is a JSON list, not an object")


def test_jsonl_whose_first_line_is_not_json_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", '{"title": "T", "abstract": \n')
    with pytest.raises(InputError, match=r"p\.jsonl:1: line is not valid JSON"):
        read(path)


def test_record_without_abstract_is_skipped_with_a_warning(tmp_path: Path) -> None:
    lines = [{"title": "Has both", "abstract": "Yes."}, {"title": "No abstract"}, {"abstract": "x"}]
    path = write(tmp_path / "p.jsonl", "\n".join(json.dumps(obj) for obj in lines))
    papers, warnings = read(path)
    assert [p.title for p in papers] == ["Has both"]
    assert warnings == [
        f"{path}:2: record has no abstract; skipped.",
        f"{path}:3: record has no title; skipped.",
    ]


def test_long_abstract_is_truncated_and_flagged(tmp_path: Path) -> None:
    abstract = "w" * 25_000
    path = write(tmp_path / "p.jsonl", json.dumps({"title": "Long", "abstract": abstract}))
    (paper,), warnings = read(path)
    assert paper.truncated and len(paper.abstract) <= MAX_ABSTRACT_CHARS
    assert warnings == [f"{path}:1: abstract is 25,000 characters; truncated to 20,000."]


# --- CSV ----------------------------------------------------------------------------------


def test_csv_with_header_case_quoted_newlines_and_row_start_lines() -> None:
    papers, warnings = read(DATA / "papers.csv")
    assert warnings == []
    assert [p.title for p in papers] == [
        "Deep Residual Learning",
        "Multi-line Abstract",
        "Third Paper",
    ]
    assert papers[0].id == "1512.03385" and papers[0].authors == ("He, Kaiming", "Zhang, Xiangyu")
    assert papers[1].abstract == "First line of the abstract second line of the abstract."
    assert [p.source.rsplit(":", 1)[1] for p in papers] == ["2", "3", "5"]


def test_tsv_is_read_by_its_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "p.tsv", "TITLE\tABSTRACT\nA title, with comma\tAn abstract.\n")
    (paper,), _ = read(path)
    assert (paper.title, paper.abstract) == ("A title, with comma", "An abstract.")


def test_csv_without_title_and_abstract_columns_lists_the_headers(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "name,text\nx,y\n")
    with pytest.raises(InputError) as err:
        read(path)
    assert str(err.value).startswith(f"{path}: CSV header has no title and abstract columns")
    assert "'name', 'text'" in str(err.value)


# --- arXiv metadata snapshot ----------------------------------------------------------------


def test_arxiv_snapshot_versions_dates_authors_and_old_ids() -> None:
    papers, warnings = read(DATA / "arxiv_snapshot.jsonl")
    assert warnings == []
    first, old = papers
    assert (first.id, first.version, first.date) == ("0704.0001", "v2", "2007-04-02")
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.authors[0] == "C. Balázs" and len(first.authors) == 4
    assert first.categories == ("hep-ph",) and first.url == "https://arxiv.org/abs/0704.0001"
    assert (old.id, old.categories) == ("math/0501001", ("math.AG", "math.NT"))
    assert old.abstract == "First paragraph of an old abstract.\n\nSecond paragraph."


def test_directory_reads_each_file_in_name_order_with_its_own_format(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a.txt", "c.csv"):
        (tmp_path / name).write_bytes((DATA / _fixture_for(name)).read_bytes())
    (tmp_path / ".hidden").write_text("ignored")
    papers, _ = read(tmp_path)
    files = [p.source.rsplit(":", 1)[0] for p in papers]
    assert sorted(set(files)) == [str(tmp_path / n) for n in ("a.txt", "b.jsonl", "c.csv")]
    assert files == sorted(files)


def _fixture_for(name: str) -> str:
    return {"a.txt": "dailypapers.txt", "b.jsonl": "papers.jsonl", "c.csv": "papers.csv"}[name]


def test_format_override_reads_a_txt_file_as_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path / "papers.txt", json.dumps({"title": "T", "abstract": "A."}))
    auto, warnings = read(path)  # auto-detection looks at content, not the extension
    forced, _ = read(path, fmt="jsonl")
    assert [p.title for p in auto] == [p.title for p in forced] == ["T"]
    with pytest.raises(InputError, match="no papers found"):
        read(path, fmt="dailypapers")


# --- unusable input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\n  \n\t\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "looks like a binary file"),
        ("title,abstract\n".encode("utf-16"), "is UTF-16 encoded"),
        (b"\x1f\x8b\x08\x00", "is gzip-compressed"),
        (b'[{"title": "T", "abstract": "A"}]', "holds a JSON array"),
    ],
)
def test_unusable_files_raise_one_line_errors_naming_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = write(tmp_path / "input.json", content)
    with pytest.raises(InputError) as err:
        read(path)
    assert str(err.value).startswith(f"{path}: {message}")
    assert "\n" not in str(err.value)


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.txt", DUMP.encode() + "Caf\u00e9 Title\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.txt:15: is not valid UTF-8 \(byte 0xe9"):
        read(path)


def test_records_stream_before_a_later_line_fails(tmp_path: Path) -> None:
    good = json.dumps({"title": "T", "abstract": "A."}).encode()
    path = write(tmp_path / "p.jsonl", good + b"\n" + b'{"title": "\xff"}\n')
    papers = iter_papers([str(path)])
    assert next(papers).title == "T"  # yielded before the bad line was read
    with pytest.raises(InputError, match=":2: is not valid UTF-8"):
        next(papers)


def test_unknown_format_lists_the_valid_ones() -> None:
    with pytest.raises(InputError, match="Use one of: auto, dailypapers, jsonl, csv, arxiv"):
        read(DATA / "papers.csv", fmt="xml")


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        read(tmp_path / "nope.txt")


# --- arXiv ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2101.00001", ("2101.00001", None)),
        ("arXiv:2101.00001v3", ("2101.00001", "v3")),
        ("https://arxiv.org/abs/2101.00001v2", ("2101.00001", "v2")),
        ("http://arxiv.org/pdf/0704.0001v1.pdf", ("0704.0001", "v1")),
        ("https://huggingface.co/papers/2403.08295", ("2403.08295", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("math.AG/0501001v2", ("math/0501001", "v2")),
        ("https://arxiv.org/abs/cond-mat/0102536v1", ("cond-mat/0102536", "v1")),
        ("2113.00001", None),  # month 13
        ("12345", None),
        ("https://example.org/2101.00001", None),
        ("doi:10.1000/182", None),
    ],
)
def test_parse_arxiv_id(text: str, expected: tuple[str, str | None] | None) -> None:
    ref = parse_arxiv_id(text)
    assert (tuple(ref) if ref else None) == expected


# --- Kaggle-style float ids and dates ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("704.0026", "0704.0026"),
        ("704.001", "0704.0010"),
        ("1501.0001", "1501.00010"),
        ("1412.999", "1412.9990"),
        ("2101.1", "2101.10000"),
        ("1234.5", None),  # month 34
    ],
)
def test_float_ids_are_recovered_by_the_yymm_rule(text: str, expected: str | None) -> None:
    ref = parse_arxiv_id(text)
    assert (ref.id if ref else None) == expected


def test_csv_float_ids_and_dates_keep_the_text_and_gain_an_iso_date(tmp_path: Path) -> None:
    path = write(
        tmp_path / "k.csv",
        "id,title,abstract,update_date\n"
        "704.001,A,First.,2008-11-13 19:18:42\n"
        '1501.0001,B,Second.,"Mon, 2 Apr 2007 19:18:42 GMT"\n'
        "1502.00002,C,Third.,sometime in spring\n",
    )
    papers, warnings = read(path)
    assert warnings == []
    assert [p.id for p in papers] == ["0704.0010", "1501.00010", "1502.00002"]
    assert [(p.date, p.date_text) for p in papers] == [
        ("2008-11-13", "2008-11-13 19:18:42"),
        ("2007-04-02", "Mon, 2 Apr 2007 19:18:42 GMT"),
        (None, "sometime in spring"),
    ]


# --- a directory holding tagger's own files ---------------------------------------------------


def folder_of_three_papers(tmp_path: Path) -> Path:
    folder = tmp_path / "papers"
    folder.mkdir()
    lines = [json.dumps({"title": f"Paper {i}", "abstract": f"About topic {i}."}) for i in range(3)]
    write(folder / "in.jsonl", "\n".join(lines) + "\n")
    return folder


def test_run_and_dedup_of_a_folder_skip_the_files_tagger_wrote_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import invoke

    folder = folder_of_three_papers(tmp_path)
    keyword = ["--model", "local/keyword"]
    assert invoke(capsys, "run", str(folder), "-o", str(folder / "out.jsonl"), *keyword).code == 0
    dedup_args = ["-o", str(folder / "u.jsonl"), "--report", str(folder / "groups.json")]
    assert invoke(capsys, "dedup", str(folder), *dedup_args).code == 0
    write(folder / "report.md", "# tagger eval\n\n- gold: eval/gold.jsonl\n")
    write(folder / "report.json", '{\n  "format": "tagger-eval/1",\n  "tagger_version": "0"\n}\n')
    result = invoke(capsys, "run", str(folder), "-o", str(tmp_path / "again.jsonl"), *keyword)
    assert result.code == 0, result.err
    assert "3 records -> 3 unique" in result.err
    for name in ("out.jsonl", "out.run.json", "u.jsonl", "groups.json", "report.md"):
        assert f"{folder / name}: skipped, tagger wrote it" in result.err
    result = invoke(capsys, "dedup", str(folder), "-o", str(tmp_path / "u2.jsonl"))
    assert result.code == 0 and "3 records -> 3 unique" in result.err


def test_a_folder_with_digests_in_it_reads_only_the_papers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import invoke

    folder = folder_of_three_papers(tmp_path)
    out = tmp_path / "out.jsonl"
    assert invoke(capsys, "run", str(folder), "-o", str(out), "--model", "local/keyword").code == 0
    formats = ("md", "txt", "html", "rss", "json")
    for fmt in formats:
        made = invoke(capsys, "digest", str(out), "--format", fmt, "-o", str(folder / f"d.{fmt}"))
        assert made.code == 0, made.err
    result = invoke(capsys, "dedup", str(folder), "-o", str(tmp_path / "u.jsonl"))
    assert result.code == 0 and "3 records -> 3 unique" in result.err, result.err
    for fmt in formats:
        assert f"{folder / f'd.{fmt}'}: skipped, tagger wrote it (a digest)" in result.err


def test_a_file_named_directly_is_read_even_if_tagger_wrote_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import invoke

    src = write(tmp_path / "in.jsonl", json.dumps({"title": "T", "abstract": "A."}) + "\n")
    assert invoke(capsys, "dedup", str(src), "-o", str(tmp_path / "u.jsonl")).code == 0
    result = invoke(capsys, "dedup", str(tmp_path / "u.jsonl"), "-o", str(tmp_path / "u2.jsonl"))
    assert result.code == 0 and "1 records -> 1 unique" in result.err


# --- records dropped at ingest are counted -----------------------------------------------------


def test_dropped_records_are_counted_with_where_and_an_untitled_one_with_an_id_is_kept(
    tmp_path: Path,
) -> None:
    from tagger.records import SkippedRecords

    lines = [
        {"title": "Has both", "abstract": "Yes."},
        {"title": "No abstract"},
        {"id": "2101.00001v2", "abstract": "An abstract without a title."},
        {"abstract": "No title and no id."},
    ]
    text = "\n".join(json.dumps(obj) for obj in lines) + "\n{broken\n"
    path = write(tmp_path / "p.jsonl", text)
    skipped = SkippedRecords()
    warnings: list[str] = []
    papers = list(iter_papers([str(path)], on_warning=warnings.append, skipped=skipped))
    assert [p.title for p in papers] == ["Has both", "arXiv:2101.00001"]
    assert (skipped.count, skipped.at) == (3, [f"{path}:2", f"{path}:4", f"{path}:5"])
    assert f"{path}:3: record has no title; titled 'arXiv:2101.00001' from its id." in warnings


def test_run_and_dedup_report_dropped_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import invoke

    good = json.dumps(  # a paper local/keyword can tag (one it cannot would fail: exit 1)
        {"title": "Diffusion models", "abstract": "We train a diffusion model on images."}
    )
    path = write(tmp_path / "p.jsonl", good + '\n{"title": "No abstract"}\n')
    out = tmp_path / "o.jsonl"
    result = invoke(capsys, "run", str(path), "-o", str(out), "--model", "local/keyword")
    assert result.code == 0
    assert "1 invalid record skipped" in result.err.splitlines()[-1]
    manifest = json.loads(out.with_suffix(".run.json").read_text())
    assert manifest["skipped_invalid"] == {"count": 1, "at": [f"{path}:2"]}
    result = invoke(capsys, "dedup", str(path), "-o", str(tmp_path / "u.jsonl"), "--json")
    assert "1 invalid record skipped" in result.err.splitlines()[-1]
    assert json.loads(result.out)["skipped_invalid"] == {"count": 1, "at": [f"{path}:2"]}
