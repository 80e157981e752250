"""Reading run files: failed records skipped, repeats merged, bad input named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.digest.load import load_runs
from tagger.errors import InputError

DATA = Path(__file__).parent / "data" / "digest"
RUN1, RUN2 = DATA / "run1.jsonl", DATA / "run2.jsonl"


def test_failed_records_are_skipped_and_counted() -> None:
    loaded = load_runs([RUN1])
    ids = [p.id for p in loaded.papers]
    assert "2401.00005" not in ids
    assert loaded.failed == 1
    assert len(ids) == 6


def test_a_paper_in_two_files_appears_once_with_its_first_record() -> None:
    loaded = load_runs([RUN1, RUN2])
    ids = [p.id for p in loaded.papers]
    assert ids.count("2401.00001") == 1
    first = next(p for p in loaded.papers if p.id == "2401.00001")
    assert "(again)" not in first.title


def test_a_record_that_merged_an_already_seen_id_is_a_repeat() -> None:
    # run2's 2401.00008 lists 2401.00002 (from run1) among its duplicates.
    loaded = load_runs([RUN1, RUN2])
    ids = [p.id for p in loaded.papers]
    assert "2401.00008" not in ids
    assert loaded.duplicates == 2


def test_missing_file_is_an_input_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(InputError) as err:
        load_runs([missing])
    assert str(missing) in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [("bad_json.jsonl", 2, "not valid JSON"), ("bad_record.jsonl", 1, "tags")],
)
def test_bad_line_names_file_and_line(name: str, line: int, words: str) -> None:
    with pytest.raises(InputError) as err:
        load_runs([DATA / name])
    message = str(err.value)
    assert message.startswith(f"{DATA / name}:{line}: ")
    assert words in message


def test_non_utf8_line_is_an_input_error(tmp_path: Path) -> None:
    run = tmp_path / "latin1.jsonl"
    run.write_bytes(b"\n\xff\xfe not text\n")
    with pytest.raises(InputError, match=r"latin1.jsonl:2: line is not UTF-8"):
        load_runs([run])
