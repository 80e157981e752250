"""One entry point for every output format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tagger.digest.models import Digest
from tagger.digest.render_eml import DEFAULT_SENDER, render_eml
from tagger.digest.render_html import render_html
from tagger.digest.render_json import render_json
from tagger.digest.render_md import render_md
from tagger.digest.render_rss import DEFAULT_LINK, render_rss
from tagger.digest.render_txt import render_txt

Format = Literal["md", "html", "txt", "rss", "json", "eml"]
FORMATS: tuple[Format, ...] = ("md", "html", "txt", "rss", "json", "eml")


@dataclass(frozen=True)
class RenderOptions:
    """What some formats need beyond the digest: the feed's link, the email's addresses."""

    link: str = DEFAULT_LINK
    sender: str = DEFAULT_SENDER
    recipients: Sequence[str] = ()
    unsubscribe: str | None = None


def render(digest: Digest, fmt: Format, options: RenderOptions | None = None) -> str:
    opts = options or RenderOptions()
    if fmt == "rss":
        return render_rss(digest, opts.link)
    if fmt == "eml":
        return render_eml(digest, opts.sender, opts.recipients, opts.unsubscribe)
    plain = {"md": render_md, "html": render_html, "txt": render_txt, "json": render_json}
    return plain[fmt](digest)
