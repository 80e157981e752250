"""`tagger store`, and the --store/--no-store options that run and eval share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    import sqlite3

    from tagger.evaluate.models import EvalReport
    from tagger.store.writer import RunRecorder

F = TypeVar("F", bound=Callable[..., Any])
_META = "tagger.store"


def store_options(func: F) -> F:
    """--store FILE / --no-store; the chosen store is kept on the click context."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        chosen = (kwargs.pop("store_file"), kwargs.pop("no_store"))
        click.get_current_context().meta[_META] = chosen
        return func(*args, **kwargs)

    wrapper = click.option(
        "--no-store", is_flag=True, help="Do not record this in the run history."
    )(wrapper)
    wrapper = click.option(
        "--store",
        "store_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Run history SQLite file [default: $TAGGER_STORE, else $TAGGER_HOME/store.db].",
    )(wrapper)
    return wrapper  # type: ignore[return-value]


def chosen_store() -> Path | None:
    """The store this command records into; None with --no-store."""
    from tagger.store import store_path

    ctx = click.get_current_context(silent=True)
    store_file, no_store = ctx.meta.get(_META, (None, False)) if ctx else (None, False)
    return None if no_store else store_path(store_file)


def run_recorder(warn: Callable[[str], None]) -> RunRecorder | None:
    from tagger.store.writer import RunRecorder

    path = chosen_store()
    return None if path is None else RunRecorder(path, warn=warn)


def record_eval_report(report: EvalReport, warn: Callable[[str], None]) -> None:
    """Keep the eval's scores in the store; a store that fails costs a warning, not the eval."""
    import sqlite3

    from tagger.errors import TaggerError
    from tagger.store import not_recording
    from tagger.store.evals import record_eval

    path = chosen_store()
    if path is None:
        return
    try:
        record_eval(path, report)
    except (sqlite3.Error, TaggerError) as exc:
        warn(not_recording(path, exc))


def open_for_reading(store_file: Path | None) -> sqlite3.Connection:
    from tagger.store import connect, store_path

    return connect(store_path(store_file), create=False)


read_store_option = click.option(
    "--store",
    "store_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Run history SQLite file [default: $TAGGER_STORE, else $TAGGER_HOME/store.db].",
)


@click.group()
def store() -> None:
    """The run history: a SQLite file of every run and eval (docs/store.md)."""


@store.command("path")
@read_store_option
def path_(store_file: Path | None) -> None:
    """Print where the store is."""
    from tagger.store import store_path

    click.echo(str(store_path(store_file)))
