"""`tagger daily`: the whole newsletter in one command, for cron or a systemd timer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click


class DailyGroup(click.Group):
    """`tagger daily --config F` runs the job; `tagger daily init` writes an example config."""


@click.group(name="daily", cls=DailyGroup, invoke_without_command=True)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The daily.yaml (`tagger daily init` writes one).",
)
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Fetch and tag, then print the digest that would be sent; send and record nothing.",
)
@click.pass_context
def daily(
    ctx: click.Context, config_path: Path | None, day: dt.datetime | None, dry_run: bool
) -> None:
    """Fetch -> run -> digest -> write/send for DATE (default: today), once per date.

    Each step's files go to OUTPUT_DIR/DATE/; a failed step leaves the earlier ones, and the
    same command run again continues from the failed step. A second call the same day sends
    nothing new and says so.
    """
    if ctx.invoked_subcommand is not None:
        return
    from tagger.daily import DailyJob, load_config
    from tagger.errors import ConfigError

    if config_path is None:
        raise ConfigError("tagger daily needs --config daily.yaml; `tagger daily init` writes one.")
    config = load_config(config_path)
    date = (day or dt.datetime.now()).date()
    job = DailyJob(
        config,
        date,
        lambda line: click.echo(f"tagger daily: {line}", err=True),
        dry_run,
        run_tagger=_run_tagger,
    )
    job.run()


def _run_tagger(args: list[str]) -> object:
    """`tagger run ARGS` in this process; its exit code (None or 0 when it succeeded)."""
    from tagger.cli.run import run

    try:
        return run.main(args=args, prog_name="tagger run", standalone_mode=False)
    except SystemExit as exc:
        return exc.code


@daily.command(name="init")
@click.argument("path", default="daily.yaml", type=click.Path(dir_okay=False, path_type=Path))
def init(path: Path) -> None:
    """Write a commented example config to PATH (default: daily.yaml); never overwrites."""
    from tagger.daily.config import EXAMPLE
    from tagger.errors import ConfigError

    if path.exists():
        raise ConfigError(f"{path} exists; not overwriting it.", hint="Pick another PATH.")
    path.write_text(EXAMPLE, encoding="utf-8")
    click.echo(
        f"tagger daily: wrote {path}; edit it, then `tagger daily --config {path}`.", err=True
    )
