"""`tagger daily` end to end: fake arXiv + HF + SMTP on 127.0.0.1, two overlapping days."""

from __future__ import annotations

import email
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from fake_papers import DATA as FETCH_DATA
from fake_papers import FakeApis, serve
from test_digest_smtp_tls import Mailroom, free_port, mail_server

from conftest import CliResult, invoke
from fake_openai import FakeOpenAI, first_tag_answer

DAILY = FETCH_DATA.parent / "daily"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
READER_FORMATS = ["html", "md", "txt", "rss"]


def day_file(name: str) -> tuple[int, bytes, dict[str, str]]:
    return 200, (DAILY / name).read_bytes(), {}


@pytest.fixture
def arxiv() -> Iterator[FakeApis]:
    with serve() as fake:
        yield fake


@pytest.fixture
def hf() -> Iterator[FakeApis]:
    with serve() as fake:
        yield fake


@pytest.fixture
def mailroom() -> Iterator[tuple[str, Mailroom]]:
    with mail_server() as served:
        yield served


def write_config(tmp_path: Path, arxiv: FakeApis, hf: FakeApis, smtp: str) -> Path:
    config = {
        "output_dir": "out",
        "sources": [
            {"hf-daily": {"api_url": hf.url + "/api"}},
            {"arxiv": {"categories": ["cs.LG", "cs.CL"], "api_url": arxiv.url + "/api/query"}},
        ],
        "taxonomy": str(DAILY / "taxonomy.yaml"),
        "model": "local/keyword",
        "top": 2,
        "archive_url": "https://example.org/digest/",
        "formats": READER_FORMATS,
        "email": {"smtp": smtp, "security": "none", "from": "bot@example.org",
                  "to": ["r@example.org"], "unsubscribe": "mailto:leave@example.org"},
    }  # fmt: skip
    path = tmp_path / "daily.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    return path


INVALID = {"content": json.dumps({"tags": ["no-such-tag"], "summary": "Bad."})}


@contextmanager
def day_with_remote_model(
    config: Path, arxiv: FakeApis, hf: FakeApis, answer: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeOpenAI]:
    """Day 2024-03-14 served, and the daily config pointed at a fake OpenAI-compatible server
    answering with `answer` instead of local/keyword."""
    data = json.loads(config.read_text())
    with FakeOpenAI(default=answer) as server:
        config.write_text(
            json.dumps({**data, "model": "openai/fake", "api_base": server.base_url}),
            encoding="utf-8",
        )
        monkeypatch.setenv("TAGGER_API_KEY", "sk-test-daily")
        serve_day(arxiv, hf, "2024-03-14")
        yield server


def serve_day(arxiv: FakeApis, hf: FakeApis, day: str) -> None:
    arxiv.answer("/api/query", day_file(f"arxiv_{day}.xml"))
    hf.answer(f"/api/daily_papers?date={day}", day_file(f"hf_{day}.json"))


def daily(capsys: pytest.CaptureFixture[str], config: Path, day: str, *args: str) -> CliResult:
    return invoke(capsys, "daily", "--config", str(config), "--date", day, *args)


def mail(room: Mailroom, index: int) -> tuple[EmailMessage, str]:
    message = email.message_from_bytes(room.envelopes[index].original_content, policy=default)
    assert isinstance(message, EmailMessage)
    texts = [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
    return message, str(message["Subject"]) + "\n" + "\n".join(texts)


def sections(out: Path, day: str) -> list[tuple[str, list[str]]]:
    digest = (out / day / "digest.md").read_text(encoding="utf-8")
    found: list[tuple[str, list[str]]] = []
    for line in digest.splitlines():
        if line.startswith("## "):
            found.append((line[3:].rsplit(" (", 1)[0], []))
        elif line.startswith("- [**") and found:
            found[-1][1].append(line.split("**")[1])
    return found


def test_two_days_send_only_new_papers_ranked_in_the_taxonomy_sections(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    arxiv: FakeApis,
    hf: FakeApis,
    mailroom: tuple[str, Mailroom],
) -> None:
    address, room = mailroom
    config = write_config(tmp_path, arxiv, hf, address)
    out = tmp_path / "out"

    serve_day(arxiv, hf, "2024-03-14")
    first = daily(capsys, config, "2024-03-14")
    assert first.code == 0, first.err
    assert len(room.envelopes) == 1
    one = sections(out, "2024-03-14")
    assert [label for label, _ in one] == ["Generative", "Language & agents"]
    # Ranked by upvotes (90, 12; the arXiv-only paper has none), not by listing order.
    assert one[0][1] == [
        "Image Diffusion Distillation in One Step",
        "Video Diffusion Transformers at Scale",
    ]
    assert "Sparse ℓ\\_p Attention for Long-Context Language Models" in one[1][1]
    message, text = mail(room, 0)
    assert message["List-Unsubscribe"] == "<mailto:leave@example.org>"
    assert "Sparse ℓ_p Attention" in text and "$" not in text
    assert "1 more in this section" in text and "https://example.org/digest/" in text
    assert str(message["Subject"]).endswith(": 4 papers")  # what is shown, not the 5 fetched

    serve_day(arxiv, hf, "2024-03-15")
    second = daily(capsys, config, "2024-03-15")
    assert second.code == 0, second.err
    assert len(room.envelopes) == 2
    _, text2 = mail(room, 1)
    titles2 = [t for _, entries in sections(out, "2024-03-15") for t in entries]
    assert sorted(titles2) == [
        "Fast α-Diffusion Samplers",
        "Robots Learn Grasping From Diffusion Policies",
    ]
    assert "Sparse" not in text2 and "Protein" not in text2
    assert [label for label, _ in sections(out, "2024-03-15")] == ["Generative", "Robotics"]

    for day in ("2024-03-14", "2024-03-15"):
        for fmt in READER_FORMATS:
            assert FLAG.findall((out / day / f"digest.{fmt}").read_text(encoding="utf-8")) == []
    assert FLAG.findall(text + text2) == []

    again = daily(capsys, config, "2024-03-15")
    assert again.code == 0 and "already done" in again.err and len(room.envelopes) == 2
    sent = json.loads((out / "sent.json").read_text())["sent"]
    assert "2403.10001" in sent and all(":" not in paper_id for paper_id in sent)


def test_a_failed_step_keeps_earlier_files_and_the_next_call_continues(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    arxiv: FakeApis,
    hf: FakeApis,
    mailroom: tuple[str, Mailroom],
) -> None:
    address, room = mailroom
    closed = f"127.0.0.1:{free_port()}"
    config = write_config(tmp_path, arxiv, hf, closed)
    serve_day(arxiv, hf, "2024-03-14")
    failed = daily(capsys, config, "2024-03-14")
    errors = [line for line in failed.err_lines if line.startswith("tagger: error: ")]
    assert failed.code == 2 and errors == failed.err_lines[-1:], failed.err
    assert "step 'digest' failed" in failed.err and "run the same command again" in failed.err
    day = tmp_path / "out" / "2024-03-14"
    assert set(json.loads((day / "steps.json").read_text())) == {"fetch", "run"}
    assert not (tmp_path / "out" / "sent.json").exists()
    requests = len(arxiv.seen) + len(hf.seen)

    config = write_config(tmp_path, arxiv, hf, address)
    again = daily(capsys, config, "2024-03-14")
    assert again.code == 0, again.err
    assert len(arxiv.seen) + len(hf.seen) == requests  # fetch was not repeated
    assert len(room.envelopes) == 1


def test_a_damaged_steps_file_redoes_the_steps_instead_of_a_traceback(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    arxiv: FakeApis,
    hf: FakeApis,
    mailroom: tuple[str, Mailroom],
) -> None:
    """steps.json nested past the recursion limit was a RecursionError traceback; unreadable
    marks mean "redo the steps" (each is safe to redo), as for any other damage."""
    address, room = mailroom
    config = write_config(tmp_path, arxiv, hf, f"127.0.0.1:{free_port()}")
    serve_day(arxiv, hf, "2024-03-14")
    assert daily(capsys, config, "2024-03-14").code == 2  # SMTP down: fetch and run are marked
    steps = tmp_path / "out" / "2024-03-14" / "steps.json"
    steps.write_text("[" * 100_000, encoding="utf-8")
    again = daily(capsys, write_config(tmp_path, arxiv, hf, address), "2024-03-14")
    assert again.code == 0, again.err
    assert len(room.envelopes) == 1


def test_fetch_failure_names_the_step(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, arxiv: FakeApis, hf: FakeApis
) -> None:
    config = write_config(tmp_path, arxiv, hf, "127.0.0.1:1")
    hf.answer("/api/daily_papers", (404, b"gone", {}))
    result = daily(capsys, config, "2024-03-14")
    assert result.code == 2 and "step 'fetch' failed" in result.err
    assert "daily_papers?date=2024-03-14" in result.err


def test_dry_run_prints_and_records_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    arxiv: FakeApis,
    hf: FakeApis,
    mailroom: tuple[str, Mailroom],
) -> None:
    address, room = mailroom
    config = write_config(tmp_path, arxiv, hf, address)
    serve_day(arxiv, hf, "2024-03-14")
    result = daily(capsys, config, "2024-03-14", "--dry-run")
    assert result.code == 0 and "Image Diffusion Distillation" in result.out
    assert "dry run" in result.err and room.envelopes == []
    assert not (tmp_path / "out" / "sent.json").exists()
    assert not (tmp_path / "out" / "2024-03-14" / "digest.html").exists()


def test_init_writes_a_config_that_loads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tagger.daily import load_config

    path = tmp_path / "daily.yaml"
    assert invoke(capsys, "daily", "init", str(path)).code == 0
    config = load_config(path)
    assert config.model == "local/minilm" and config.output_dir == tmp_path / "daily"
    assert invoke(capsys, "daily", "init", str(path)).code == 2  # never overwrites


def test_bad_config_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "daily.yaml"
    path.write_text("sources:\n  - rss: {}\n", encoding="utf-8")
    result = invoke(capsys, "daily", "--config", str(path))
    assert result.code == 2 and len(result.err_lines) == 1 and "daily.yaml" in result.err


def test_smtp_user_without_password_fails_before_fetching(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, arxiv: FakeApis, hf: FakeApis
) -> None:
    data: dict[str, Any] = json.loads(write_config(tmp_path, arxiv, hf, "127.0.0.1:25").read_text())
    data["email"]["user"] = "bot"
    (tmp_path / "daily.yaml").write_text(json.dumps(data))
    result = invoke(capsys, "daily", "--config", str(tmp_path / "daily.yaml"))
    assert result.code == 2 and "TAGGER_SMTP_PASSWORD" in result.err
    assert "email.user bot" in result.err and "--smtp" not in result.err  # daily.yaml's words
    assert arxiv.seen == [] and hf.seen == []


def test_an_smtp_server_that_is_down_is_named_as_daily_yaml_names_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, arxiv: FakeApis, hf: FakeApis
) -> None:
    config = write_config(tmp_path, arxiv, hf, f"127.0.0.1:{free_port()}")  # nobody listens
    serve_day(arxiv, hf, "2024-03-14")
    result = daily(capsys, config, "2024-03-14")
    assert result.code != 0 and "cannot send the digest via 127.0.0.1:" in result.err
    assert "Check email.smtp" in result.err and "--smtp" not in result.err


def test_an_empty_day_sends_nothing_and_says_so(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    arxiv: FakeApis,
    hf: FakeApis,
    mailroom: tuple[str, Mailroom],
) -> None:
    address, room = mailroom
    config = write_config(tmp_path, arxiv, hf, address)
    arxiv.answer("/api/query", (200, (FETCH_DATA / "arxiv_empty.xml").read_bytes(), {}))
    hf.answer("/api/daily_papers", (200, b"[]", {}))
    result = daily(capsys, config, "2024-03-16")
    assert result.code == 0, result.err
    assert "no new papers for 2024-03-16" in result.err and room.envelopes == []


def test_papers_that_fail_are_left_out_and_the_rest_is_sent(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    arxiv: FakeApis,
    hf: FakeApis,
    mailroom: tuple[str, Mailroom],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`tagger run` exits 1 when some papers failed; the daily job still sends the others."""

    def fails_on_video(body: dict[str, Any]) -> dict[str, Any]:
        if any("Video Diffusion" in str(m.get("content")) for m in body["messages"]):
            return INVALID
        return first_tag_answer(body)

    address, room = mailroom
    config = write_config(tmp_path, arxiv, hf, address)
    with day_with_remote_model(config, arxiv, hf, fails_on_video, monkeypatch):
        result = daily(capsys, config, "2024-03-14")
    assert result.code == 0, result.err
    assert "1 of" in result.err and "left out of this digest" in result.err
    assert len(room.envelopes) == 1
    _, text = mail(room, 0)
    assert "Video Diffusion Transformers" not in text and "Image Diffusion" in text


def test_a_day_whose_papers_all_failed_is_redone_once_the_model_works(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    arxiv: FakeApis,
    hf: FakeApis,
    mailroom: tuple[str, Mailroom],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run step failed (every answer invalid): the next call redoes those papers."""
    broken = True

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        return INVALID if broken else first_tag_answer(body)

    address, room = mailroom
    config = write_config(tmp_path, arxiv, hf, address)
    with day_with_remote_model(config, arxiv, hf, answer, monkeypatch) as server:
        first = daily(capsys, config, "2024-03-14")
        assert first.code != 0 and not room.envelopes
        assert "the next `tagger daily` call keeps its answers and redoes" in first.err
        asked, broken = len(server.requests), False
        second = daily(capsys, config, "2024-03-14")
        assert second.code == 0, second.err
        assert len(server.requests) > asked  # the failed papers were asked again
    assert len(room.envelopes) == 1 and "left out" not in second.err
