"""`tagger digest`: render a newsletter from the JSONL files `tagger run` wrote."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

if TYPE_CHECKING:
    from tagger.config.taxonomy import Taxonomy
    from tagger.digest import Digest, Format, IntroWriter, LoadedRuns
    from tagger.digest.group import GroupBy
    from tagger.digest.state import SentState

FORMAT_CHOICES = ["md", "html", "txt", "rss", "json", "eml"]


@click.command(name="digest")
@click.argument("runs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--from-store", is_flag=True, help="Read papers from the run history, not RUNS.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="--from-store: papers dated on or after this day.",
)
@click.option(
    "--store",
    "store_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Run history file [default: $TAGGER_STORE, else $TAGGER_HOME/store.db].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    default="md",
    show_default=True,
    help="md, html (email-safe), txt, rss (RSS 2.0), json (the sections), eml (email file).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (atomically) instead of stdout.",
)
@click.option("--title", default="Papers digest", show_default=True, help="Heading and subject.")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The digest's date.  [default: today]",
)
@click.option("--top", type=click.IntRange(min=1), help="At most N papers per section.")
@click.option(
    "--group-by",
    type=click.Choice(["tag", "group"]),
    default="tag",
    show_default=True,
    help="One section per tag, or per taxonomy group.",
)
@click.option(
    "--tags",
    "tag_args",
    multiple=True,
    metavar="IDS",
    help="Only papers with these tag ids (comma-separated; repeatable).",
)
@click.option(
    "--all-sections", is_flag=True, help="Show a paper under each of its tags, not only its first."
)
@click.option(
    "--exclude-sent",
    "state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="State file of ids already sent: skip them, then add today's ('store': keep them in "
    "the run history).",
)
@click.option(
    "--taxonomy",
    "taxonomy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Taxonomy for labels and groups.  [default: the packaged one]",
)
@click.option("--intro", is_flag=True, help="Open with a short paragraph on the day's themes.")
@click.option(
    "--model",
    default=None,
    help="Model that writes the --intro: a litellm string, local/smollm2, or 'extractive' (a "
    "counted sentence, no model).  [default: local/smollm2, offline, when tagger[llm] is "
    "installed]",
)
@click.option("--api-base", default=None, help="Base URL of an OpenAI-compatible server.")
@click.option("--api-key", default=None, envvar="TAGGER_API_KEY", help="API key; never stored.")
@click.option(
    "--from",
    "sender",
    default="tagger <tagger@localhost>",
    show_default=True,
    metavar="ADDRESS",
    help="From address (eml, --smtp).",
)
@click.option(
    "--to",
    "recipients",
    multiple=True,
    metavar="ADDRESS",
    help="To address (eml, --smtp; repeatable).",
)
@click.option(
    "--smtp",
    "smtp_server",
    metavar="HOST:PORT",
    help="Send it as email via this SMTP server; prints nothing unless -o.",
)
@click.option(
    "--smtp-security",
    type=click.Choice(["auto", "starttls", "ssl", "none"]),
    default="auto",
    show_default=True,
    help="auto: TLS on port 465, else STARTTLS when the server offers it.",
)
@click.option(
    "--smtp-user",
    default=None,
    envvar="TAGGER_SMTP_USER",
    help="SMTP login; the password is read from TAGGER_SMTP_PASSWORD.",
)
@click.option(
    "--link",
    default="https://arxiv.org/",
    show_default=True,
    metavar="URL",
    help="The RSS channel's link.",
)
@click.option(
    "--interests",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rank each section by TF-IDF similarity to the lines of FILE (titles, abstracts or "
    "keywords a reader likes).",
)
@click.option(
    "--archive-url",
    metavar="URL",
    help="Web page with the full list: the 'N more in this section' lines link to it.",
)
@click.option(
    "--unsubscribe",
    metavar="URL|mailto:ADDRESS",
    help="Add a List-Unsubscribe header to the email (eml, --smtp).",
)
@click.option(
    "--dry-run", is_flag=True, help="Print what would be sent; write, send and record nothing."
)
def digest(
    runs: tuple[Path, ...],
    from_store: bool,
    since: dt.datetime | None,
    store_file: Path | None,
    fmt: str,
    output: Path | None,
    title: str,
    day: dt.datetime | None,
    top: int | None,
    group_by: str,
    tag_args: tuple[str, ...],
    all_sections: bool,
    state: Path | None,
    taxonomy_path: Path | None,
    intro: bool,
    model: str | None,
    api_base: str | None,
    api_key: str | None,
    sender: str,
    recipients: tuple[str, ...],
    smtp_server: str | None,
    smtp_security: str,
    smtp_user: str | None,
    link: str,
    interests: Path | None,
    archive_url: str | None,
    unsubscribe: str | None,
    dry_run: bool,
) -> None:
    """Render a newsletter from RUNS (JSONL files written by `tagger run`).

    Failed records are skipped and a paper in several files appears once. With
    --exclude-sent, papers listed in the state file are left out and the state is
    updated only after the digest was written (and sent). Nothing new: says so,
    writes nothing, exits 0.
    """
    from tagger.cli.digest_delivery import check_mail_options, deliver, mark_sent
    from tagger.cli.digest_delivery import dry_run as dry_run_digest
    from tagger.digest import DigestOptions, Placement, RenderOptions, build_digest, load_runs
    from tagger.digest.state import SentState

    if not runs and not from_store:
        raise click.UsageError("Missing argument 'RUNS...' (or --from-store).")
    taxonomy = _taxonomy(taxonomy_path, runs)
    reader = _reader_options(interests, archive_url, unsubscribe)
    loaded = _load(runs, from_store, since, store_file) if from_store or since else load_runs(runs)
    only = _tag_ids(tag_args, taxonomy, loaded)
    smtp = check_mail_options(fmt, smtp_server, sender, recipients, smtp_security, smtp_user)
    sent_state = _load_sent(state, store_file) if state else SentState()
    date = (day or dt.datetime.now()).date()
    placement = Placement(
        cast("GroupBy", group_by), all_sections, only, top, archive_url=reader.archive_url
    )
    options = DigestOptions(
        date=date,
        title=title,
        placement=placement,
        sent=sent_state.sent,
        interests=reader.interests,
    )
    writer = intro_writer(intro, model, taxonomy, api_base, api_key)
    result = build_digest(loaded, taxonomy, options, writer)
    if result.counts.shown == 0:
        click.echo(f"tagger digest: {_nothing_new(result)}", err=True)
        return
    _warn_intro(result)
    opts = RenderOptions(link, sender, recipients, reader.unsubscribe)
    if dry_run:
        dry_run_digest(result, cast("Format", fmt), output, smtp, opts)
        return
    deliver(result, cast("Format", fmt), output, smtp, opts)
    if state:
        mark_sent(state, sent_state, result, store_file)
    click.echo(f"tagger digest: {result.summary_line()} for {result.date}.", err=True)


@dataclass(frozen=True)
class ReaderOptions:
    interests: tuple[str, ...] = ()
    archive_url: str | None = None
    unsubscribe: str | None = None


def _taxonomy(path: Path | None, runs: tuple[Path, ...]) -> Taxonomy:
    """--taxonomy when given, else the one the runs recorded in their manifests."""
    from tagger.config.taxonomy import load_taxonomy
    from tagger.digest.taxonomy import run_taxonomy

    return load_taxonomy(path) if path else run_taxonomy(runs)


def _reader_options(
    interests: Path | None, archive_url: str | None, unsubscribe: str | None
) -> ReaderOptions:
    """Check --interests, --archive-url and --unsubscribe before any work."""
    from tagger.digest.rank import read_interests
    from tagger.digest.render_eml import check_unsubscribe
    from tagger.digest.text import safe_url

    if archive_url is not None and safe_url(archive_url) is None:
        _config_error(f"--archive-url needs an http(s) URL, got '{archive_url}'.")
    return ReaderOptions(
        interests=tuple(read_interests(interests)) if interests else (),
        archive_url=safe_url(archive_url),
        unsubscribe=check_unsubscribe(unsubscribe) if unsubscribe else None,
    )


def intro_writer(
    enabled: bool,
    model: str | None,
    taxonomy: Taxonomy,
    api_base: str | None,
    api_key: str | None,
) -> IntroWriter | None:
    """The writer behind --intro: a model through the gateway and cache (the embedded SmolLM2
    unless --model says otherwise), or the extractive intro (counted from the sections)."""
    if not enabled:
        return None
    from tagger.digest.model_intro import model_intro_writer

    return model_intro_writer(model, taxonomy, api_base=api_base, api_key=api_key)


def _tag_ids(args: tuple[str, ...], taxonomy: Taxonomy, loaded: LoadedRuns) -> frozenset[str]:
    wanted = frozenset(t.strip() for arg in args for t in arg.split(",") if t.strip())
    known = set(taxonomy.ids) | {t for p in loaded.papers for t in p.tags}
    unknown = sorted(wanted - known)
    if unknown:
        _config_error(
            f"--tags: unknown tag id '{unknown[0]}'; see `tagger taxonomy show` for the ids."
        )
    return wanted


def _load(
    runs: tuple[Path, ...], from_store: bool, since: dt.datetime | None, store: Path | None
) -> LoadedRuns:
    """--from-store [--since DATE]: the run history instead of RUNS files."""
    from tagger.digest.store_source import load_from_store

    if runs or not from_store:
        _config_error("pass RUNS files, or --from-store [--since DATE] for the run history.")
    return load_from_store(store, since.date().isoformat() if since else None)


def _load_sent(state: Path, store: Path | None) -> SentState:
    from tagger.digest.state import load_state
    from tagger.digest.store_source import load_sent, state_in_store

    return load_sent(store) if state_in_store(state) else load_state(state)


def _nothing_new(result: Digest) -> str:
    skipped = result.skipped_line()
    return f"no new papers for {result.date}. {skipped} Nothing written.".replace("  ", " ")


def _warn_intro(result: Digest) -> None:
    if result.intro is not None and result.intro.fallback_reason:
        click.echo(
            f"tagger digest: warning: {result.intro.fallback_reason}; using the extractive intro.",
            err=True,
        )


def _config_error(message: str) -> None:
    from tagger.errors import ConfigError

    raise ConfigError(message)
