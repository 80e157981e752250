"""The digest step: build from DATE/tagged.jsonl, write every format, send, then record as sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagger.daily.config import DailyConfig

if TYPE_CHECKING:
    from collections.abc import Collection

    from tagger.digest import Digest, RenderOptions


class DigestStep:
    def __init__(
        self,
        config: DailyConfig,
        day: dt.date,
        folder: Path,
        echo: Callable[[str], None],
        dry_run: bool,
    ) -> None:
        self.config, self.day, self.folder, self.echo, self.dry_run = (
            config,
            day,
            folder,
            echo,
            dry_run,
        )
        self.state_path = config.output_dir / "sent.json"

    def deliver(self, tagged: Path, smtp: Any) -> int:
        """Papers sent (or, dry run: that would be sent)."""
        from tagger.digest.state import load_state, save_state, sent_ids

        state = load_state(self.state_path)
        digest = self._build(tagged, state.sent)
        if digest.counts.shown == 0:
            self.echo(f"digest: no new papers for {self.day}; nothing sent.")
            return 0
        if self.dry_run:
            self._preview(digest)
            return digest.counts.shown
        self._write(digest)
        if smtp is not None:
            self._send(digest, smtp)
        save_state(self.state_path, state.with_sent(sent_ids(digest), digest.date))
        self.echo(f"digest: {digest.summary_line()} for {self.day}; recorded as sent.")
        return digest.counts.shown

    def _build(self, tagged: Path, sent: Collection[str]) -> Digest:
        from tagger.config.taxonomy import load_taxonomy
        from tagger.digest import DigestOptions, Placement, build_digest, load_runs
        from tagger.digest.rank import read_interests
        from tagger.digest.taxonomy import run_taxonomy
        from tagger.digest.text import safe_url

        c = self.config
        taxonomy = load_taxonomy(c.taxonomy) if c.taxonomy else run_taxonomy([tagged])
        archive = safe_url(c.archive_url)
        placement = Placement(c.group_by, False, (), c.top, archive_url=archive)
        interests = read_interests(c.interests) if c.interests else []
        options = DigestOptions(self.day, c.title, placement, sent, interests)
        return build_digest(load_runs([tagged]), taxonomy, options)

    def _options(self) -> RenderOptions:
        from tagger.digest import RenderOptions
        from tagger.digest.render_eml import check_unsubscribe

        email = self.config.email
        if email is None:
            return RenderOptions()
        unsubscribe = check_unsubscribe(email.unsubscribe) if email.unsubscribe else None
        return RenderOptions(sender=email.sender, recipients=email.to, unsubscribe=unsubscribe)

    def _write(self, digest: Digest) -> None:
        from tagger.atomic import write_atomic
        from tagger.digest import render

        for fmt in self.config.formats:
            path = self.folder / f"digest.{fmt}"
            write_atomic(path, render(digest, fmt, self._options()))
            self.echo(f"digest: wrote {path}")

    def _send(self, digest: Digest, smtp: Any) -> None:
        from tagger.digest.render_eml import build_message
        from tagger.digest.smtp import send

        opts = self._options()
        send(
            build_message(digest, opts.sender, opts.recipients, unsubscribe=opts.unsubscribe), smtp
        )
        self.echo(f"digest: sent to {', '.join(opts.recipients)} via {smtp.address}.")

    def _preview(self, digest: Digest) -> None:
        import click

        from tagger.digest import render

        click.echo(render(digest, "txt", self._options()), nl=False)
        self.echo(
            f"dry run: would send {digest.summary_line()} for {self.day}; "
            "nothing written, sent or recorded."
        )
