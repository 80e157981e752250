"""Send the digest email to an SMTP server: a local relay, or a provider with TLS and a login.

Security is `auto` unless told otherwise: implicit TLS on port 465, else STARTTLS whenever the
server offers it, else plain (a local relay). Certificates are verified against the system's CA
store (`SSL_CERT_FILE` points elsewhere). A password is never sent unencrypted except to a
loopback address, and it is only read from the environment (TAGGER_SMTP_PASSWORD), never a flag
that shows in the process list or the shell history.
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal

from tagger.errors import ConfigError, OutputError

TIMEOUT_S = 30.0
PASSWORD_ENV = "TAGGER_SMTP_PASSWORD"
Security = Literal["auto", "starttls", "ssl", "none"]
SECURITY_CHOICES = ("auto", "starttls", "ssl", "none")
FLAGS = {"server": "--smtp", "security": "--smtp-security", "user": "--smtp-user"}
DAILY_CONFIG = {"server": "email.smtp", "security": "email.security", "user": "email.user"}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Security = "auto"
    user: str | None = None
    password: str | None = None
    names: dict[str, str] | None = field(default=None, compare=False, hash=False)  # cf. FLAGS

    def name(self, setting: str) -> str:
        return (self.names or FLAGS)[setting]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def parse_hostport(value: str, name: str = FLAGS["server"]) -> tuple[str, int]:
    """'HOST:PORT' (or '[::1]:PORT') to (host, port); a ConfigError names the expected form."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{name} expects HOST:PORT, e.g. 127.0.0.1:25, got '{value}'.")
    return host, int(port)


def smtp_settings(
    server: str,
    security: str = "auto",
    user: str | None = None,
    names: dict[str, str] | None = None,
) -> SmtpSettings:
    """Checked before any work: a login needs its password in the environment. `names` says
    how the user set each setting (the digest's flags, or daily.yaml's keys) for the messages."""
    named = names or FLAGS
    host, port = parse_hostport(server, named["server"])
    password = os.environ.get(PASSWORD_ENV) if user else None
    if user and not password:
        raise ConfigError(
            f"{named['user']} {user} needs its password in the environment variable {PASSWORD_ENV}."
        )
    if security not in SECURITY_CHOICES:
        raise ConfigError(f"{named['security']} must be one of {', '.join(SECURITY_CHOICES)}.")
    return SmtpSettings(host, port, security, user, password, names)  # type: ignore[arg-type]


def send(message: EmailMessage, settings: SmtpSettings) -> None:
    try:
        _send(message, settings)
    except smtplib.SMTPAuthenticationError as exc:
        raise OutputError(
            f"the SMTP server {settings.address} refused the login for {settings.user} "
            f"({exc.smtp_code}).",
            hint=f"Check {settings.name('user')} and {PASSWORD_ENV}.",
        ) from None
    except ssl.SSLError as exc:
        raise OutputError(
            f"TLS with {settings.address} failed ({exc.reason or exc}).",
            hint="Check the host name and its certificate (SSL_CERT_FILE for a private CA), "
            f"or {settings.name('security')}.",
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise OutputError(
            f"cannot send the digest via {settings.address} ({exc}).",
            hint=f"Check {settings.name('server')}, or write the digest as an .eml file and "
            "send that.",
        ) from None


def _send(message: EmailMessage, settings: SmtpSettings) -> None:
    context = ssl.create_default_context()
    implicit = settings.security == "ssl" or (settings.security == "auto" and settings.port == 465)
    client: smtplib.SMTP
    if implicit:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT_S, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S)
    with client:
        encrypted = implicit
        if not implicit and settings.security != "none":
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
                encrypted = True
            elif settings.security == "starttls":
                raise OutputError(
                    f"the SMTP server {settings.address} does not offer STARTTLS.",
                    hint=f"Use {settings.name('security')} ssl (port 465) or none for a local "
                    "relay.",
                )
        if settings.user and settings.password:
            if not encrypted and not _is_loopback(settings.host):
                raise OutputError(
                    f"refusing to send the SMTP password unencrypted to {settings.address}.",
                    hint=f"Use a server with STARTTLS or {settings.name('security')} ssl.",
                )
            client.login(settings.user, settings.password)
        client.send_message(message)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
