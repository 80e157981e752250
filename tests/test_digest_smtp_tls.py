"""--smtp with TLS and a login, against aiosmtpd servers the tests start on 127.0.0.1 (a
certificate for 127.0.0.1 from a throwaway CA made by trustme)."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import invoke

DATA = Path(__file__).parent / "data" / "digest"
BASE = [str(DATA / "run1.jsonl"), "--taxonomy", str(DATA / "taxonomy.yaml")]
ADDRESSES = ["--from", "bot@example.org", "--to", "reader@example.org"]
PASSWORD = "correct horse battery"


@dataclass
class Mailroom:
    envelopes: list[Any] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        """The authenticator: one user, one password."""
        ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # the client trusts only this CA
    monkeypatch.setenv("TAGGER_SMTP_PASSWORD", PASSWORD)
    return authority


def server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@contextlib.contextmanager
def mail_server(room: Mailroom | None = None, **options: Any) -> Iterator[tuple[str, Mailroom]]:
    """An aiosmtpd server on 127.0.0.1 (`options` go to its Controller), and what it received."""
    room, port = room or Mailroom(), free_port()
    controller = Controller(room, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield f"127.0.0.1:{port}", room
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(ca: trustme.CA) -> Iterator[tuple[str, Mailroom]]:
    room = Mailroom()
    with mail_server(room, tls_context=server_context(ca), require_starttls=True,
                     authenticator=room, auth_require_tls=True) as served:  # fmt: skip
        yield served


def test_starttls_then_login_then_send(
    starttls_server: tuple[str, Mailroom], capsys: pytest.CaptureFixture[str]
) -> None:
    address, room = starttls_server
    result = invoke(capsys, "digest", *BASE, *ADDRESSES, "--smtp", address, "--smtp-user", "bot")
    assert result.code == 0, result.err
    assert room.logins == ["bot"] and len(room.envelopes) == 1
    assert room.envelopes[0].rcpt_tos == ["reader@example.org"]


def test_implicit_tls(ca: trustme.CA, capsys: pytest.CaptureFixture[str]) -> None:
    with mail_server(ssl_context=server_context(ca)) as (address, room):
        result = invoke(capsys, "digest", *BASE, *ADDRESSES, "--smtp", address,
                        "--smtp-security", "ssl")  # fmt: skip
    assert result.code == 0, result.err
    assert len(room.envelopes) == 1


def test_a_wrong_password_is_one_line_without_the_password(
    starttls_server: tuple[str, Mailroom],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TAGGER_SMTP_PASSWORD", "wrong password 123")
    address, room = starttls_server
    result = invoke(capsys, "digest", *BASE, *ADDRESSES, "--smtp", address, "--smtp-user", "bot")
    assert result.code == 2 and len(result.err_lines) == 1
    assert "refused the login for bot" in result.err and "wrong password" not in result.err
    assert room.envelopes == []


def test_an_untrusted_certificate_is_refused(
    starttls_server: tuple[str, Mailroom],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    address, room = starttls_server
    result = invoke(capsys, "digest", *BASE, *ADDRESSES, "--smtp", address, "--smtp-user", "bot")
    assert result.code == 2 and "TLS with 127.0.0.1" in result.err
    assert "certificate" in result.err.lower() and room.envelopes == []


def test_starttls_required_but_not_offered(capsys: pytest.CaptureFixture[str]) -> None:
    with mail_server() as (address, room):
        result = invoke(capsys, "digest", *BASE, *ADDRESSES, "--smtp", address,
                        "--smtp-security", "starttls")  # fmt: skip
    assert result.code == 2 and "does not offer STARTTLS" in result.err
    assert room.envelopes == []


def test_a_login_without_its_password_fails_before_any_work(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAGGER_SMTP_PASSWORD", raising=False)
    result = invoke(capsys, "digest", *BASE, *ADDRESSES, "--smtp", "127.0.0.1:25",
                    "--smtp-user", "bot")  # fmt: skip
    assert result.code == 2 and "TAGGER_SMTP_PASSWORD" in result.err
