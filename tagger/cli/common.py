"""Options and helpers shared by several commands (one place, not near-copies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_MODEL_HELP = "litellm model string, or an embedded one (local/minilm, the default)"


def model_options(func: F) -> F:
    """--model/--api-base/--api-key/--taxonomy/--prompt/--max-tags/--mode, used by run and eval."""
    options = [
        click.option("--model", "-m", default=None, help=DEFAULT_MODEL_HELP + "."),
        click.option("--api-base", default=None, help="Base URL of an OpenAI-compatible server."),
        click.option(
            "--api-key",
            default=None,
            envvar="TAGGER_API_KEY",
            show_envvar=True,
            help="API key (else the provider's usual env var). Never stored or logged.",
        ),
        click.option("--taxonomy", "taxonomy_path", default=None, help="Taxonomy YAML file."),
        click.option("--prompt", "prompt_ref", default=None, help="Prompt NAME@vN or a YAML path."),
        click.option(
            "--max-tags", default=3, show_default=True, type=click.IntRange(1, 20), help="K."
        ),
        click.option(
            "--mode",
            type=click.Choice(["json", "json_schema", "md_json", "tools"]),
            default=None,
            help="instructor mode (default: the prompt file's).",
        ),
        click.option("--threads", type=int, default=None, help="CPU threads for embedded models."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def format_option(func: F) -> F:
    """`--format`, with the readers' names listed in --help (checked by ingest, so a wrong name
    is one error line naming the choices, not click's usage block)."""
    from tagger.ingest.detect import FORMATS

    return click.option(
        "--format",
        "fmt",
        default="auto",
        show_default=True,
        help=f"Input format: {', '.join(FORMATS)} (auto detects each file's).",
    )(func)


pack_option = click.option(
    "--pack",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Abstracts per request (remote models; embedded ones answer one paper at a time).",
)

head_option = click.option(
    "--head",
    default=None,
    metavar="HEAD.json",
    help="A head from `tagger train` (local/minilm only): adds its tag scores to zero-shot.",
)


def echo_err(message: str) -> None:
    click.echo(message, err=True)


MAX_PRINTED_WARNINGS = 20


class WarningPrinter:
    """Collects ingest warnings and echoes the first few to stderr, so a bad file can't flood it."""

    def __init__(self, limit: int = MAX_PRINTED_WARNINGS) -> None:
        self.limit = limit
        self.messages: list[str] = []

    def __call__(self, message: str) -> None:
        self.messages.append(message)
        if len(self.messages) <= self.limit:
            click.echo(f"tagger: warning: {message}", err=True)

    def finish(self, where: str = "") -> None:
        hidden = len(self.messages) - self.limit
        if hidden > 0:
            click.echo(f"tagger: warning: ... and {hidden} more warnings{where}.", err=True)
