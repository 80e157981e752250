"""`tagger view`: the local web app over the history, driven over HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from view_server import build_history, serving


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_history(tmp_path_factory.mktemp("view"))


@pytest.fixture(scope="module")
def site(store: Path) -> Iterator[httpx.Client]:
    with serving(store) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def count(page: str) -> int:
    match = re.search(r'class="count">(\d+) paper', page)
    assert match, page[:500]
    return int(match.group(1))


def test_papers_page_lists_the_latest_answer_per_paper(site: httpx.Client) -> None:
    first = site.get("/papers")
    assert first.status_code == 200 and "text/html" in first.headers["content-type"]
    assert count(first.text) == 271 + 3
    assert first.text.count('<article class="paper">') == 50
    assert "page 1 of 6" in first.text
    last = site.get("/papers", params={"page": 6})
    assert last.text.count('<article class="paper">') == 274 - 5 * 50
    assert "← newer" in last.text and "older →" not in last.text


def test_filters_narrow_the_list(site: httpx.Client) -> None:
    all_papers = count(site.get("/papers").text)
    chips = re.findall(
        r'href="/papers\?tag=([a-z0-9-]+)"><span class="chip[^"]*"[^>]*>\1 (\d+)<',
        site.get("/papers").text,
    )
    assert chips, "tag chips with counts"
    tag, n = chips[0]
    tagged = site.get("/papers", params={"tag": tag}).text
    assert count(tagged) == int(n) < all_papers
    assert 'class="chip on"' in tagged
    search = site.get("/papers", params={"q": "Hostile"}).text
    assert count(search) == 1 and "Hostile title" in search
    dated = site.get("/papers", params={"since": "2024-03-15", "until": "2024-03-15"}).text
    assert "Hostile title" in dated
    nothing = site.get("/papers", params={"q": "zzzqqq-no-such-word"}).text
    assert count(nothing) == 0 and "No paper matches" in nothing
    junk = site.get("/papers", params={"since": "'; DROP TABLE papers;--", "page": "x"})
    assert junk.status_code == 200 and count(junk.text) == all_papers
    model = site.get("/papers", params={"model": "openai/fake"}).text
    assert count(model) == 3


def test_untrusted_text_is_escaped_everywhere(site: httpx.Client) -> None:
    page = site.get("/papers", params={"q": "Hostile"}).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror" in page
    assert "<b onmouseover" not in page
    assert "javascript:alert" not in page  # the paper's url is not made a link
    assert "A. One, B. Two, C. Three et al." in page
    paper_no = re.search(r'href="/papers/(\d+)"', page)
    assert paper_no
    detail = site.get(f"/papers/{paper_no.group(1)}").text
    assert "<script>alert" not in detail and "&lt;script&gt;" in detail
    csp = site.get("/papers").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp


def test_sort_by_date_and_links_to_the_paper(site: httpx.Client) -> None:
    def dates(page: str) -> list[str]:
        metas = re.findall(r'<p class="meta">(.*?)</p>', page)
        return [m.group(0) for m in map(re.compile(r"\d{4}-\d{2}-\d{2}").search, metas) if m]

    newest, oldest = dates(site.get("/papers").text), dates(site.get("/papers?sort=old").text)
    assert newest and oldest and newest == sorted(newest, reverse=True)
    assert oldest == sorted(oldest) and oldest[0] <= newest[-1]
    from tagger.view.pages import paper_url

    assert paper_url({"arxiv_id": "2401.00001"}) == "https://arxiv.org/abs/2401.00001"
    assert paper_url({"url": "https://x.org/p", "arxiv_id": "2401.00001"}) == "https://x.org/p"


def test_a_paper_shows_every_answer_it_got(site: httpx.Client) -> None:
    page = site.get("/papers", params={"q": "Hostile"}).text
    paper_no = re.search(r'href="/papers/(\d+)"', page)
    assert paper_no
    detail = site.get(f"/papers/{paper_no.group(1)}")
    assert detail.status_code == 200 and "Every answer it got" in detail.text
    assert "local/keyword" in detail.text
    assert site.get("/papers/999999").status_code == 404
    huge = "99999999999999999999"  # past SQLite's 64-bit integers: not found, never a 500
    for path in (f"/papers/{huge}", f"/runs/{huge}", f"/evals/{huge}"):
        assert site.get(path).status_code == 404, path
    for path in (f"/papers?page={huge}", f"/runs?page={huge}"):
        assert site.get(path).status_code == 200, path


def test_runs_and_a_failed_run(site: httpx.Client) -> None:
    runs = site.get("/runs").text
    assert "local/keyword" in runs and "openai/fake" in runs
    run_ids = [int(n) for n in re.findall(r'href="/runs/(\d+)"', runs)]
    pages = {n: site.get(f"/runs/{n}").text for n in run_ids}
    failed = [p for p in pages.values() if "openai/fake" in p]
    assert len(failed) == 1
    assert "Failures (3)" in failed[0] and "Broken paper 0" in failed[0]
    assert "not-a-tag" in failed[0]  # the reason names the invalid answer
    raw = re.findall(r"<summary>raw response</summary><pre>(.*?)</pre>", failed[0], re.S)
    assert len(raw) == 3 and all("not-a-tag" in r and "summary" in r for r in raw)  # the answer
    assert "sk-test-view" not in failed[0]
    big = next(p for p in pages.values() if "Papers per tag" in p and "Failures (0)" in p)
    assert big.count('class="bar"') >= 5  # the tag distribution chart drew bars
    assert site.get("/runs/999999").status_code == 404


def test_evals_history_chart_and_a_comparison(site: httpx.Client) -> None:
    evals = site.get("/evals").text
    assert "<svg" in evals and "<polyline" in evals and evals.count('class="point"') >= 2
    ids = sorted({int(n) for n in re.findall(r'href="/evals/(\d+)"', evals)})
    assert len(ids) == 2
    single = site.get(f"/evals/{ids[0]}").text
    assert "Per tag (by gold support)" in single and single.count('class="bar"') >= 3
    assert re.search(r"micro_f1</td><td>[\d.]+ <span class=\"ci\">95% interval [\d.]+–", single)
    confusion = re.search(r'<table class="confusion">(.*?)</table>', single, re.S)
    assert confusion and "chip missed" in confusion.group(1) and "chip wrong" in confusion.group(1)
    compare = site.get(f"/evals/{ids[1]}").text
    assert "B vs A" in compare and 'class="side-by-side"' in compare
    rows = re.findall(r'<tr class="[^"]*" data-differ="(\d)" data-bworse="(\d)">', compare)
    assert len(rows) == 12
    assert 'data-filter="differ"' in compare and 'data-filter="bworse"' in compare
    assert "chip right" in compare or "chip wrong" in compare
    assert site.get("/evals/999999").status_code == 404


def test_read_only_and_static_files(site: httpx.Client, store: Path) -> None:
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    for path in ("/papers", "/runs", "/evals", "/papers?q=diffusion"):
        assert site.get(path).status_code == 200
        assert site.post(path).status_code == 405
        assert site.delete(path).status_code == 405
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
    css = site.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert site.get("/static/app.js").status_code == 200
    assert site.get("/static/..%2F..%2Fstore%2F__init__.py").status_code == 404
    assert site.get("/static/app.py").status_code == 404
    home = site.get("/", follow_redirects=True)
    assert home.status_code == 200 and str(home.url).endswith("/papers")


def test_host_choice_stays_on_loopback_unless_told(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tagger.cli.view import choose_host
    from tagger.errors import ConfigError

    assert choose_host(None, None) == "127.0.0.1"
    assert choose_host(None, "::1") == "::1"
    with pytest.raises(ConfigError, match="would serve the history to the network"):
        choose_host(None, "0.0.0.0")
    assert choose_host("0.0.0.0", None) == "0.0.0.0"
    assert "anyone who can reach this address" in capsys.readouterr().err
    assert choose_host("127.0.0.1", None) == "127.0.0.1"
    assert capsys.readouterr().err == ""


def test_view_without_a_store_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import invoke

    result = invoke(capsys, "view", "--no-open", "--store", str(tmp_path / "none.db"))
    assert result.code == 2 and len(result.err_lines) == 1 and "no store here yet" in result.err


def test_a_port_in_use_is_one_line_before_anything_is_served(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    from conftest import invoke

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = invoke(capsys, "view", "--no-open", "--store", str(store), "--port", str(port))
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert f"cannot serve on 127.0.0.1:{port}" in result.err and "serving" not in result.err


def test_tag_labels_come_from_the_taxonomy_the_run_used(tmp_path: Path) -> None:
    import json

    from view_server import cli

    taxonomy = Path(__file__).parent / "data" / "daily" / "taxonomy.yaml"
    papers = tmp_path / "p.jsonl"
    row = {"title": "Tool-using agents", "abstract": "We build tool-using agents with memory."}
    papers.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TAGGER_HOME", str(tmp_path / "home"))
        args = ["--model", "local/keyword", "--taxonomy", str(taxonomy)]
        assert cli("run", str(papers), "-o", str(tmp_path / "o.jsonl"), *args) == 0
    store = tmp_path / "home" / "store.db"
    with serving(store) as url, httpx.Client(base_url=url, timeout=30) as client:
        page = client.get("/papers").text
    # the run's own label ("Agents"), not the packaged taxonomy's ("Agents and tool use")
    assert 'title="Agents">agents' in page and "Agents and tool use" not in page
