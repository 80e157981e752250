"""`tagger fetch`: recorded arXiv / HF responses from loopback servers; no real waiting."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_papers import FakeApis, recorded, serve

from conftest import invoke
from tagger.errors import TaggerError
from tagger.fetch import FetchError, Http
from tagger.fetch.arxiv import ArxivQuery
from tagger.fetch.run import arxiv_to, hf_daily_to


@pytest.fixture
def apis() -> Iterator[FakeApis]:
    with serve() as fake:
        yield fake


class Clock:
    """A fake clock that sleep() advances: waits are recorded, never spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def polite(clock: Clock, interval: float = 3.0) -> Http:
    return Http(interval_s=interval, sleep=clock.sleep, clock=clock)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


QUERY = ArxivQuery(["cs.LG", "cs.CL"], page_size=2)


def test_arxiv_pages_politely_and_writes_records(apis: FakeApis, tmp_path: Path) -> None:
    apis.answer("/api/query?start=0", recorded("arxiv_page1.xml"))
    apis.answer("/api/query?start=2", recorded("arxiv_page2.xml"))
    clock, out = Clock(), tmp_path / "papers.jsonl"
    result = arxiv_to(QUERY, out, None, apis.url + "/api/query", polite(clock))
    assert (result.written, result.listed) == (3, 3)
    assert [s.query["start"] for s in apis.seen] == ["0", "2"]
    assert apis.seen[0].query["search_query"] == "(cat:cs.LG OR cat:cs.CL)"
    assert apis.seen[0].query["max_results"] == "2"
    assert all("tagger/" in s.headers["User-Agent"] for s in apis.seen)
    assert clock.sleeps == [3.0]  # one gap between the two requests, none before the first
    first = lines(out)[0]
    assert first["id"] == "2403.09611v2" and first["arxiv_id"] == "2403.09611"
    assert first["version"] == "v2" and first["categories"] == ["cs.CL", "cs.LG"]
    assert first["authors"][:2] == ["Ada Lovelace", "Kurt Gödel"]
    assert first["title"] == r"Sparse $\ell_p$ Attention for Long-Context Language Models"
    assert first["published"].startswith("2024-03-14") and first["url"].endswith("/2403.09611")


def test_since_asks_for_the_submission_window(apis: FakeApis, tmp_path: Path) -> None:
    apis.answer("/api/query", recorded("arxiv_empty.xml"))
    query = ArxivQuery(["cs.LG"], since=dt.date(2024, 3, 14), until=dt.date(2024, 3, 15))
    arxiv_to(query, tmp_path / "o.jsonl", None, apis.url + "/api/query", polite(Clock()))
    assert apis.seen[0].query["search_query"] == (
        "cat:cs.LG AND submittedDate:[202403140000 TO 202403152359]"
    )


def test_an_empty_day_writes_an_empty_file(apis: FakeApis, tmp_path: Path) -> None:
    apis.answer("/api/query", recorded("arxiv_empty.xml"))
    out = tmp_path / "o.jsonl"
    result = arxiv_to(QUERY, out, None, apis.url + "/api/query", polite(Clock()))
    assert result.written == 0 and out.read_text() == ""


def test_503_then_success_backs_off_and_honours_retry_after(apis: FakeApis, tmp_path: Path) -> None:
    apis.answer(
        "/api/query",
        (503, b"busy", {}),
        (429, b"slow down", {"Retry-After": "7"}),
        recorded("arxiv_page2.xml"),
    )
    clock = Clock()
    result = arxiv_to(QUERY, tmp_path / "o.jsonl", None, apis.url + "/api/query", polite(clock))
    assert result.written == 1
    assert clock.sleeps[0] == 3.0 and 7.0 in clock.sleeps  # backoff, then the server's wish
    assert [s.query["start"] for s in apis.seen][:3] == ["0", "0", "0"]


def test_interrupted_fetch_keeps_the_first_page_and_resumes_without_duplicates(
    apis: FakeApis, tmp_path: Path
) -> None:
    apis.answer("/api/query?start=0", recorded("arxiv_page1.xml"))
    apis.answer("/api/query?start=2", (500, b"oops", {}))
    out, state = tmp_path / "o.jsonl", tmp_path / "state.json"
    url = apis.url + "/api/query"
    with pytest.raises(FetchError) as failed:
        arxiv_to(QUERY, out, state, url, polite(Clock()))
    message = str(failed.value)
    assert "\n" not in message and "start=2" in message and "HTTP 500" in message
    assert "2 new papers written" in message
    assert [r["arxiv_id"] for r in lines(out)] == ["2403.09611", "2403.09612"]

    apis.answer("/api/query?start=2", recorded("arxiv_page2.xml"))
    again = arxiv_to(QUERY, out, state, url, polite(Clock()))
    assert (again.written, again.skipped_known) == (1, 2)
    assert [r["arxiv_id"] for r in lines(out)] == ["2403.09611", "2403.09612", "2403.08001"]


@pytest.mark.parametrize("name", ["arxiv_malformed.xml", "arxiv_error.xml"])
def test_malformed_or_error_feed_is_one_line(
    capsys: pytest.CaptureFixture[str], apis: FakeApis, tmp_path: Path, name: str
) -> None:
    apis.answer("/api/query", recorded(name))
    out = tmp_path / "o.jsonl"
    args = ["--category", "cs.LG", "-o", str(out), "--api-url", apis.url + "/api/query"]
    result = invoke(capsys, "fetch", "arxiv", *args)
    assert result.code == 2 and len(result.err_lines) == 1
    assert result.err.startswith("tagger: error: ") and "Traceback" not in result.err
    assert not out.exists() or out.read_text() == ""


def test_http_error_names_the_url_and_what_to_do(
    capsys: pytest.CaptureFixture[str], apis: FakeApis, tmp_path: Path
) -> None:
    apis.answer("/api/daily_papers", (404, b"no", {}))
    args = ["--date", "2024-03-14", "-o", str(tmp_path / "o.jsonl"), "--api-url", apis.url + "/api"]
    result = invoke(capsys, "fetch", "hf-daily", *args)
    assert result.code == 2 and len(result.err_lines) == 1
    assert "/api/daily_papers?date=2024-03-14" in result.err and "HTTP 404" in result.err
    assert "run the same command again" in result.err


def test_hf_daily_with_state_fetches_only_new_papers(
    capsys: pytest.CaptureFixture[str],
    apis: FakeApis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    apis.answer("/api/daily_papers?date=2024-03-14", recorded("hf_2024-03-14.json"))
    apis.answer("/api/daily_papers?date=2024-03-15", recorded("hf_2024-03-15.json"))
    monkeypatch.setenv("TAGGER_HF_API_URL", apis.url + "/api")
    state = tmp_path / "state.json"
    day1, day2 = tmp_path / "d1.jsonl", tmp_path / "d2.jsonl"
    one = invoke(
        capsys, "fetch", "hf-daily", "--date", "2024-03-14", "-o", str(day1), "--state", str(state)
    )
    assert one.code == 0 and "2 new papers" in one.err
    two = invoke(
        capsys, "fetch", "hf-daily", "--date", "2024-03-15", "-o", str(day2), "--state", str(state)
    )
    assert two.code == 0 and "1 new papers" in two.err and "1 already fetched" in two.err
    assert [(r["arxiv_id"], r["upvotes"]) for r in lines(day2)] == [("2403.10001", 77)]
    assert set(json.loads(state.read_text())["seen"]) == {"2403.09611", "2403.09700", "2403.10001"}


@pytest.mark.parametrize("body", [b"{not json", b'{"error": "x"}'])
def test_hf_malformed_json_is_one_line(apis: FakeApis, tmp_path: Path, body: bytes) -> None:
    apis.answer("/api/daily_papers", (200, body, {}))
    with pytest.raises(TaggerError) as failed:
        hf_daily_to(dt.date(2024, 3, 14), tmp_path / "o.jsonl", None, apis.url + "/api", Http())
    assert "\n" not in str(failed.value) and "daily_papers" in str(failed.value)


def test_fetched_file_is_what_tagger_run_reads(
    capsys: pytest.CaptureFixture[str], apis: FakeApis, tmp_path: Path
) -> None:
    apis.answer("/api/daily_papers", recorded("hf_2024-03-14.json"))
    papers = tmp_path / "p.jsonl"
    hf_daily_to(dt.date(2024, 3, 14), papers, None, apis.url + "/api", Http())
    out = tmp_path / "out.jsonl"
    result = invoke(capsys, "run", str(papers), "-o", str(out), "--model", "local/keyword")
    assert result.code == 0, result.err
    records = {r["id"]: r for r in lines(out)}
    assert records["2403.09611"]["upvotes"] == 41
    assert records["2403.09611"]["authors"][1] == "Kurt Gödel"
    assert records["2403.09611"]["date"].startswith("2024-03-14")


def test_o_dash_writes_papers_to_stdout_and_special_files_are_refused(
    capsys: pytest.CaptureFixture[str], apis: FakeApis, tmp_path: Path
) -> None:
    import os

    apis.answer("/api/daily_papers?date=2024-03-14", recorded("hf_2024-03-14.json"))
    args = ["hf-daily", "--date", "2024-03-14", "--api-url", apis.url + "/api"]
    result = invoke(capsys, "fetch", *args, "-o", "-")
    assert result.code == 0, result.err
    assert [json.loads(line)["arxiv_id"] for line in result.out.splitlines()]  # JSONL on stdout
    assert "written to stdout" in result.err and not (tmp_path / "-").exists()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/full")):
        refused = invoke(capsys, "fetch", *args, "-o", str(target))  # never blocks or reads it
        assert refused.code == 2 and len(refused.err_lines) == 1, refused.err
    real, link = tmp_path / "real.jsonl", tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert invoke(capsys, "fetch", *args, "-o", str(link)).code == 0
    assert link.is_symlink() and len(lines(real)) == len(result.out.splitlines())


def test_arxiv_without_a_bound_fetches_the_last_day_not_the_whole_category(
    capsys: pytest.CaptureFixture[str], apis: FakeApis, tmp_path: Path
) -> None:
    apis.answer("/api/query", recorded("arxiv_empty.xml"))
    args = ["--category", "cs.LG", "-o", str(tmp_path / "o.jsonl")]
    result = invoke(capsys, "fetch", "arxiv", *args, "--api-url", apis.url + "/api/query")
    assert result.code == 0, result.err
    since = (dt.date.today() - dt.timedelta(days=1)).strftime("%Y%m%d")
    assert f"submittedDate:[{since}0000 TO " in apis.seen[0].query["search_query"]


def test_a_url_without_a_scheme_fails_at_once(tmp_path: Path) -> None:
    clock = Clock()
    with pytest.raises(FetchError, match=r"\(1 attempt\): not a URL it can fetch") as caught:
        polite(clock).get("export.arxiv.org/api/query")
    assert clock.sleeps == [] and "Traceback" not in str(caught.value)


def test_lines_fetch_did_not_write_are_passed_over_even_nested_too_deeply(tmp_path: Path) -> None:
    """OUT may hold lines another tool wrote: they are not fetch's, so they are passed over; one
    nested past the recursion limit was a RecursionError traceback."""
    from tagger.fetch.sink import ids_in

    out = tmp_path / "papers.jsonl"
    out.write_text('{"arxiv_id": "2403.10001"}\n' + "[" * 100_000 + "\n{}\n", encoding="utf-8")
    assert ids_in(out) == {"2403.10001"}
