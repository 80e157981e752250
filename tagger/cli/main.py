"""The `tagger` entry point. Commands load lazily so `tagger --help` imports no model runtime."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from tagger import __version__
from tagger.errors import TaggerError

# command name -> (module, attribute, one-line help shown by `tagger --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("tagger.cli.run", "run", "Tag and summarize abstracts (dedup, cache, resume)."),
    "dedup": ("tagger.cli.dedup", "dedup", "Deduplicate inputs and report merged records."),
    "eval": ("tagger.cli.eval", "eval_", "Score a model/prompt on the gold set; gate regressions."),
    "train": ("tagger.cli.train", "train", "Learn a tagging head for local/minilm from labels."),
    "digest": ("tagger.cli.digest", "digest", "Render a newsletter from run outputs."),
    "fetch": ("tagger.cli.fetch", "fetch", "Fetch papers from arXiv or HF daily papers."),
    "daily": ("tagger.cli.daily", "daily", "Fetch, tag and send the daily digest (cron job)."),
    "cache": ("tagger.cli.cache", "cache", "Inspect and manage the result cache."),
    "taxonomy": ("tagger.cli.taxonomy", "taxonomy", "Show or validate a taxonomy file."),
    "prompts": ("tagger.cli.prompts", "prompts", "List and show versioned prompts."),
    "runs": ("tagger.cli.runs", "runs", "List and reopen past runs from the store."),
    "papers": ("tagger.cli.papers", "papers", "Every paper seen, latest answer; filter, search."),
    "store": ("tagger.cli.store", "store", "Where the run history (SQLite) is."),
    "view": ("tagger.cli.view", "view", "Browse the run history in a local web app."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, _, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tagger")
def cli() -> None:
    """Deduplicate, tag and one-line-summarize research-paper abstracts.

    Runs offline on an embedded local model by default; any litellm model string
    (openai/..., anthropic/..., ollama/...) is one --model flag away.
    """


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; a TaggerError becomes one line on stderr and exit code 2."""
    try:
        return cli.main(args=argv, prog_name="tagger", standalone_mode=False)
    except TaggerError as exc:
        click.echo(f"tagger: error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("tagger: aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("tagger: interrupted.", err=True)
        sys.exit(130)
