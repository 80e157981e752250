"""`tagger digest`'s way out: write (file or stdout), send (SMTP), record what was sent, or say
what a real call would do (--dry-run)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tagger.errors import ConfigError

if TYPE_CHECKING:
    from tagger.digest import Digest, Format, RenderOptions
    from tagger.digest.smtp import SmtpSettings
    from tagger.digest.state import SentState


def dry_run(
    result: Digest, fmt: Format, output: Path | None, smtp: SmtpSettings | None, opts: RenderOptions
) -> None:
    """What a real call would write and send, on stdout; no file, no mail, no state."""
    from tagger.digest import render

    click.echo(render(result, fmt, opts), nl=False)
    targets = [f"write {output}"] if output else []
    if smtp is not None:
        targets.append(f"send to {', '.join(opts.recipients)} via {smtp.address}")
    would = " and ".join(targets) or "print it"
    click.echo(
        f"tagger digest: dry run: would {would} ({result.summary_line()}); nothing written, "
        "sent or recorded.",
        err=True,
    )


def check_mail_options(
    fmt: str,
    smtp_server: str | None,
    sender: str,
    recipients: tuple[str, ...],
    security: str,
    user: str | None,
) -> SmtpSettings | None:
    """Fail before any work when the email options cannot work."""
    from tagger.digest.render_eml import check_addresses
    from tagger.digest.smtp import smtp_settings

    if fmt != "eml" and not smtp_server:
        return None
    if not recipients:
        raise ConfigError("--format eml and --smtp need at least one --to ADDRESS.")
    check_addresses([sender], "--from")
    check_addresses(recipients, "--to")
    return smtp_settings(smtp_server, security, user) if smtp_server else None


def deliver(
    result: Digest,
    fmt: Format,
    output: Path | None,
    smtp: SmtpSettings | None,
    opts: RenderOptions,
) -> None:
    """Write (file or stdout), then send: the state is only touched once both succeeded."""
    from tagger.atomic import write_output
    from tagger.digest import render

    text = render(result, fmt, opts)
    if output is not None:
        write_output(output, text)  # `-o -` is stdout
    elif smtp is None:
        click.echo(text, nl=False)
    if smtp is not None:
        _send(result, smtp, opts)


def _send(result: Digest, smtp: SmtpSettings, opts: RenderOptions) -> None:
    from tagger.digest.render_eml import build_message
    from tagger.digest.smtp import send

    message = build_message(result, opts.sender, opts.recipients, unsubscribe=opts.unsubscribe)
    send(message, smtp)
    click.echo(f"tagger digest: sent to {', '.join(opts.recipients)} via {smtp.address}.", err=True)


def mark_sent(path: Path, before: SentState, result: Digest, store_file: Path | None) -> None:
    from tagger.digest.state import save_state, sent_ids
    from tagger.digest.store_source import save_sent, state_in_store

    if state_in_store(path):
        save_sent(store_file, sent_ids(result), result.date)
    else:
        save_state(path, before.with_sent(sent_ids(result), result.date))
