"""The .eml a mail program takes as it is, and --smtp against a server the test starts."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from conftest import invoke

DATA = Path(__file__).parent / "data" / "digest"
RUN1, RUN2 = str(DATA / "run1.jsonl"), str(DATA / "run2.jsonl")
BASE = [RUN1, RUN2, "--taxonomy", str(DATA / "taxonomy.yaml"), "--date", "2024-03-15"]
ADDRESSES = ["--from", "Digest Bot <bot@example.org>", "--to", "reader@example.org"]


def run(*args: str) -> int:
    return invoke(None, "digest", *args).code


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def test_eml_is_multipart_alternative_with_headers(tmp_path: Path) -> None:
    out = tmp_path / "digest.eml"
    assert run(*BASE, "--format", "eml", *ADDRESSES, "-o", str(out)) == 0
    raw = out.read_bytes()
    assert raw.isascii()  # 7-bit: any MTA or `sendmail -t < digest.eml` accepts it
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert str(message["From"]) == "Digest Bot <bot@example.org>"
    assert str(message["To"]) == "reader@example.org"
    assert str(message["Subject"]) == "Papers digest — 2024-03-15: 8 papers"
    assert parsedate_to_datetime(str(message["Date"])) is not None
    assert message["Message-ID"]
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]


def test_eml_parts_carry_the_digest_with_input_escaped(tmp_path: Path) -> None:
    out = tmp_path / "digest.eml"
    run(*BASE, "--format", "eml", *ADDRESSES, "-o", str(out))
    message = parse(out.read_bytes())
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    plain, markup = text.get_content(), html.get_content()
    assert "8 papers in 6 sections" in plain and "2024-03-15" in plain
    assert '<script>alert("title")</script>' in plain  # plain text shows it verbatim
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in markup
    assert "<script" not in markup and "<img" not in markup


def test_a_title_with_a_newline_cannot_inject_headers(tmp_path: Path) -> None:
    out = tmp_path / "digest.eml"
    title = "Digest\nBcc: victim@example.org"
    run(*BASE, "--format", "eml", *ADDRESSES, "--title", title, "-o", str(out))
    message = parse(out.read_bytes())
    assert message["Bcc"] is None
    assert str(message["Subject"]).startswith("Digest Bcc: victim@example.org")


@dataclass
class Inbox:
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def test_smtp_sends_the_digest_and_then_marks_it_sent(
    smtp_server: tuple[str, Inbox], tmp_path: Path
) -> None:
    address, inbox = smtp_server
    state = tmp_path / "sent.json"
    code = run(*BASE, *ADDRESSES, "--smtp", address, "--exclude-sent", str(state))
    assert code == 0
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "bot@example.org"
    assert envelope.rcpt_tos == ["reader@example.org"]
    received = parse(envelope.original_content)
    assert received.get_content_type() == "multipart/alternative"
    assert "Papers digest — 2024-03-15" in str(received["Subject"])
    assert state.exists()


def test_failed_send_is_one_line_and_leaves_the_state_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "sent.json"
    code = run(
        *BASE, *ADDRESSES, "--smtp", f"127.0.0.1:{free_port()}", "--exclude-sent", str(state)
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot send the digest via 127.0.0.1:" in err and err.count("\n") == 1
    assert not state.exists()
