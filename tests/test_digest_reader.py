"""The digest a reader gets: Unicode, authors, ranking, true counts, no CLI flags, ids in state."""

from __future__ import annotations

import email
import json
import re
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from conftest import invoke

DATA = Path(__file__).parent / "data" / "digest"
FORMATS = ["md", "html", "txt", "rss", "eml"]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def record(paper_id: str, title: str, **extra: Any) -> dict[str, Any]:
    base = {
        "id": paper_id,
        "title": title,
        "summary": f"About {title}.",
        "tags": ["diffusion-models"],
        "model": "local/keyword",
        "prompt": "tag_summarize@v1",
        "source": "day.jsonl:1",
    }
    return {**base, **extra}


def write_run(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def run_file(tmp_path: Path) -> Path:
    return write_run(
        tmp_path / "run.jsonl",
        [
            record("2403.00001", "Old and quiet", date="2024-03-01", upvotes=1),
            record(
                "2403.00002",
                r"Sparse $\ell_p$ embeddings via $\mathcal{O}(n)$ sketches",
                date="2024-03-02",
                upvotes=40,
                authors=["Ada Lovelace", 'Kurt G\\"odel', "Alan Turing", "Emmy Noether"],
                summary=r"Cuts the cost to $\mathcal{O}(n)$.",
            ),
            record("2403.00003", "Middle", date="2024-03-03", upvotes=7, authors=["Solo Author"]),
            record("2403.00004", "Newest, no votes", date="2024-03-04"),
        ],
    )


def digest(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    return invoke(capsys, "digest", *args, "--taxonomy", str(DATA / "taxonomy.yaml"))


def rendered(capsys: pytest.CaptureFixture[str], run: Path, fmt: str, *args: str) -> str:
    extra = ["--to", "r@example.org"] if fmt == "eml" else []
    result = digest(capsys, str(run), "--format", fmt, "--date", "2024-03-05", *extra, *args)
    assert result.code == 0, result.err
    if fmt == "md":
        return str(result.out).replace("\\_", "_")  # Markdown escapes '_'; a reader sees '_'
    if fmt != "eml":
        return str(result.out)
    message = email.message_from_string(result.out, policy=default)
    assert isinstance(message, EmailMessage)
    parts = [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
    return str(message["Subject"]) + "\n" + "\n".join(parts)


@pytest.mark.parametrize("fmt", FORMATS)
def test_latex_titles_and_summaries_read_as_unicode(
    capsys: pytest.CaptureFixture[str], run_file: Path, fmt: str
) -> None:
    text = rendered(capsys, run_file, fmt)
    assert "ℓ_p" in text and "𝒪(n)" in text
    assert "\\ell" not in text and "mathcal" not in text and "$" not in text


def test_json_keeps_the_original_latex(capsys: pytest.CaptureFixture[str], run_file: Path) -> None:
    data = json.loads(rendered(capsys, run_file, "json"))
    entry = next(e for e in data["sections"][0]["entries"] if e["id"] == "2403.00002")
    assert entry["title"].startswith("Sparse ℓ_p embeddings")
    assert entry["title_source"] == r"Sparse $\ell_p$ embeddings via $\mathcal{O}(n)$ sketches"


@pytest.mark.parametrize("fmt", ["md", "html", "txt", "rss"])
def test_authors_first_three_then_et_al_and_upvotes(
    capsys: pytest.CaptureFixture[str], run_file: Path, fmt: str
) -> None:
    text = rendered(capsys, run_file, fmt)
    assert "Ada Lovelace, Kurt Gödel, Alan Turing et al." in text
    assert "Noether" not in text
    assert "40 upvotes" in text and "Solo Author · 7 upvotes" in text
    assert "https://arxiv.org/abs/2403.00002" in text


def order(capsys: pytest.CaptureFixture[str], run: Path, *args: str) -> list[str]:
    data = json.loads(rendered(capsys, run, "json", *args))
    return [e["id"] for e in data["sections"][0]["entries"]]


def test_ranked_by_upvotes_then_date_and_top_keeps_the_best(
    capsys: pytest.CaptureFixture[str], run_file: Path
) -> None:
    assert order(capsys, run_file) == ["2403.00002", "2403.00003", "2403.00001", "2403.00004"]
    assert order(capsys, run_file, "--top", "2") == ["2403.00002", "2403.00003"]


def test_without_upvotes_the_newest_comes_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run = write_run(
        tmp_path / "r.jsonl",
        [record(f"2403.0000{i}", f"Paper {i}", date=f"2024-03-0{i}") for i in (2, 1, 3)],
    )
    assert order(capsys, run) == ["2403.00003", "2403.00002", "2403.00001"]


def test_without_upvotes_the_paper_that_fits_the_section_comes_before_a_newer_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    records = [
        record("2403.00001", "A study of office chairs", date="2024-03-03"),
        record("2403.00002", "Faster diffusion sampling with fewer denoising steps",
               date="2024-03-01"),
        record("2403.00003", "Another study of office chairs", date="2024-03-02"),
    ]  # fmt: skip
    run = write_run(tmp_path / "r.jsonl", records)  # all under diffusion-models, no upvotes
    assert order(capsys, run) == ["2403.00002", "2403.00001", "2403.00003"]


def test_interests_rank_by_similarity(
    capsys: pytest.CaptureFixture[str], run_file: Path, tmp_path: Path
) -> None:
    likes = tmp_path / "likes.txt"
    likes.write_text("quiet old papers\n", encoding="utf-8")
    ranked = order(capsys, run_file, "--interests", str(likes))
    assert ranked[0] == "2403.00001"


def test_empty_interests_file_is_one_line(
    capsys: pytest.CaptureFixture[str], run_file: Path, tmp_path: Path
) -> None:
    likes = tmp_path / "likes.txt"
    likes.write_text("\n", encoding="utf-8")
    result = digest(capsys, str(run_file), "--interests", str(likes))
    assert result.code == 2 and len(result.err_lines) == 1 and "likes.txt" in result.err


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_cli_flag_and_counts_match_what_is_shown(
    capsys: pytest.CaptureFixture[str], run_file: Path, fmt: str
) -> None:
    text = rendered(capsys, run_file, fmt, "--top", "2", "--tags", "diffusion-models")
    assert FLAG.findall(text) == []
    if fmt != "rss":
        assert "2 more in this section" in text
    assert "4 papers" not in text.replace("2 of 4 papers", "")
    if fmt == "eml":
        assert text.splitlines()[0].endswith(": 2 papers")


def test_more_links_to_the_archive_page(capsys: pytest.CaptureFixture[str], run_file: Path) -> None:
    url = "https://example.org/digest/2024-03-05.html"
    html = rendered(capsys, run_file, "html", "--top", "1", "--archive-url", url)
    assert f'<a href="{url}"' in html and "3 more in this section" in html
    assert f"3 more in this section](<{url}>)" in rendered(
        capsys, run_file, "md", "--top", "1", "--archive-url", url
    )


def test_state_stores_paper_ids_not_sources(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dup = record("2403.00009", "Merged", duplicates=["day.jsonl:7", "2403.00010"])
    run = write_run(tmp_path / "r.jsonl", [dup])
    state = tmp_path / "sent.json"
    result = digest(capsys, str(run), "--exclude-sent", str(state), "-o", str(tmp_path / "d.md"))
    assert result.code == 0
    assert sorted(json.loads(state.read_text())["sent"]) == ["2403.00009", "2403.00010"]


def test_old_state_with_sources_loads_and_sources_match_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "sent.json"
    state.write_text(json.dumps({"version": 1, "sent": {"day.jsonl:7": "2024-03-01"}}))
    run = write_run(tmp_path / "r.jsonl", [record("2403.00011", "New", duplicates=["day.jsonl:7"])])
    result = digest(capsys, str(run), "--exclude-sent", str(state), "--format", "json")
    assert result.code == 0 and "2403.00011" in result.out


def test_dry_run_prints_and_records_nothing(
    capsys: pytest.CaptureFixture[str], run_file: Path, tmp_path: Path
) -> None:
    state, out = tmp_path / "sent.json", tmp_path / "d.html"
    args = ["--exclude-sent", str(state), "-o", str(out), "--format", "html", "--dry-run"]
    result = digest(capsys, str(run_file), *args)
    assert result.code == 0 and "<html" in result.out and "dry run" in result.err
    assert not state.exists() and not out.exists()


def test_eml_list_unsubscribe(capsys: pytest.CaptureFixture[str], run_file: Path) -> None:
    args = ["--format", "eml", "--to", "r@example.org", "--unsubscribe", "mailto:u@example.org"]
    result = digest(capsys, str(run_file), *args)
    message = email.message_from_string(result.out, policy=default)
    assert message["List-Unsubscribe"] == "<mailto:u@example.org>"
    bad = digest(capsys, str(run_file), *args[:-1], "javascript:alert(1)")
    assert bad.code == 2 and "--unsubscribe" in bad.err


def manifest(run: Path, taxonomy: str, digest_hash: str) -> None:
    data = {"taxonomy": taxonomy, "taxonomy_hash": digest_hash}
    run.with_name(run.name.removesuffix(".jsonl") + ".run.json").write_text(json.dumps(data))


def test_digest_uses_the_taxonomy_the_run_recorded(
    capsys: pytest.CaptureFixture[str], run_file: Path
) -> None:
    from tagger.config.taxonomy import load_taxonomy

    custom = load_taxonomy(DATA / "taxonomy.yaml")
    manifest(run_file, str(DATA / "taxonomy.yaml"), custom.content_hash)
    result = invoke(capsys, "digest", str(run_file), "--group-by", "group", "--format", "json")
    assert [s["label"] for s in json.loads(result.out)["sections"]] == ["Generative models"]

    manifest(run_file, str(DATA / "taxonomy.yaml"), "0" * 16)
    changed = invoke(capsys, "digest", str(run_file))
    assert changed.code == 2 and "changed" in changed.err and "--taxonomy" in changed.err
