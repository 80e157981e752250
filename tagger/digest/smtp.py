"""Send the digest email to an SMTP server (a local relay; no login or TLS)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from tagger.errors import ConfigError, OutputError

TIMEOUT_S = 30.0


def parse_hostport(value: str) -> tuple[str, int]:
    """'HOST:PORT' (or '[::1]:PORT') to (host, port); a ConfigError names the expected form."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--smtp expects HOST:PORT, e.g. 127.0.0.1:25, got '{value}'.")
    return host, int(port)


def send(message: EmailMessage, server: str) -> None:
    host, port = parse_hostport(server)
    try:
        with smtplib.SMTP(host, port, timeout=TIMEOUT_S) as client:
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise OutputError(
            f"cannot send the digest via {host}:{port} ({exc}).",
            hint="Check --smtp, or write it with --format eml -o FILE and send that.",
        ) from None
