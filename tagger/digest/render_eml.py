"""A complete email (.eml): multipart/alternative with the text and HTML renderings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from tagger.digest.models import Digest, plural
from tagger.digest.render_html import render_html
from tagger.digest.render_txt import render_txt
from tagger.digest.text import safe_url
from tagger.errors import ConfigError

DEFAULT_SENDER = "tagger <tagger@localhost>"


def build_message(
    digest: Digest,
    sender: str,
    recipients: Sequence[str],
    now: dt.datetime | None = None,
    unsubscribe: str | None = None,
) -> EmailMessage:
    """The digest as an email a mail program or `sendmail -t` takes as it is."""
    sent_at = now or dt.datetime.now(dt.UTC).astimezone()
    message = EmailMessage()
    message["From"] = check_addresses([sender], "--from")[0]
    message["To"] = ", ".join(check_addresses(recipients, "--to"))
    message["Subject"] = subject(digest)
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = make_msgid(domain=_domain(message["From"]))
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        _add_unsubscribe(message, unsubscribe)
    # Quoted-printable keeps the file 7-bit ASCII with short lines: any MTA or client accepts it.
    message.set_content(render_txt(digest), cte="quoted-printable")
    message.add_alternative(render_html(digest), subtype="html", cte="quoted-printable")
    return message


def render_eml(
    digest: Digest, sender: str, recipients: Sequence[str], unsubscribe: str | None = None
) -> str:
    return build_message(digest, sender, recipients, unsubscribe=unsubscribe).as_string()


def check_unsubscribe(value: str) -> str:
    """An https/http URL or a mailto: address, as RFC 2369 List-Unsubscribe takes them."""
    value = value.strip()
    if (
        value.lower().startswith("mailto:")
        and "@" in value
        and not any(c in value for c in " \r\n<>")
    ):
        return value
    url = safe_url(value)
    if url is None:
        raise ConfigError(
            f"--unsubscribe needs an http(s) URL or a mailto: address, got '{value}'."
        )
    return url


def _add_unsubscribe(message: EmailMessage, target: str) -> None:
    target = check_unsubscribe(target)
    # No RFC 8058 List-Unsubscribe-Post: we cannot know the page accepts a one-click POST.
    message["List-Unsubscribe"] = f"<{target}>"


def subject(digest: Digest) -> str:
    return f"{digest.title} — {digest.date}: {plural(digest.counts.shown, 'paper')}"


def check_addresses(values: Sequence[str], option: str) -> list[str]:
    """Each address as 'Name <user@host>' or 'user@host'; anything else is a ConfigError."""
    if any("\n" in v or "\r" in v for v in values):
        raise ConfigError(f"{option} must not contain line breaks.")
    pairs = getaddresses(list(values))
    if not pairs or any("@" not in addr or " " in addr for _, addr in pairs):
        shown = ", ".join(values) or "(none)"
        raise ConfigError(
            f"{option} needs email addresses like 'Name <you@example.org>', got '{shown}'."
        )
    return [f"{name} <{addr}>" if name else addr for name, addr in pairs]


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].rstrip(">").strip() or "localhost"
