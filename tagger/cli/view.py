"""`tagger view`: browse the run history in a local web app."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import click

from tagger.errors import ConfigError

HOST_ENV = "TAGGER_VIEW_HOST"


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option(
    "--host",
    default=None,
    help="Address to bind [default: 127.0.0.1]. Anything but loopback serves the history to "
    "the network: only when you say so here.",
)
@click.option("--open/--no-open", "open_browser", default=True, help="Open a browser tab.")
@click.option(
    "--store",
    "store_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Run history SQLite file [default: $TAGGER_STORE, else $TAGGER_HOME/store.db].",
)
def view(port: int, host: str | None, open_browser: bool, store_file: Path | None) -> None:
    """Browse papers, runs and evals from the history (read-only, offline)."""
    from tagger.store import store_path
    from tagger.view.app import make_app

    bind = choose_host(host, os.environ.get(HOST_ENV))
    app = make_app(store_path(store_file))
    sock = listen(bind, port)  # before saying where: a port in use is one line, no browser tab
    port = sock.getsockname()[1]  # --port 0: the free port the system chose
    url = f"http://{bind if ':' not in bind else f'[{bind}]'}:{port}/papers"
    click.echo(f"tagger view: serving {store_path(store_file)} at {url} (Ctrl-C stops)", err=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    import uvicorn

    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot serve on {host}:{port} ({exc.strerror or exc}).",
            hint="Another program may be using that port: choose one with --port "
            "(--port 0 takes any free port).",
        ) from None
    return sock


def choose_host(explicit: str | None, from_env: str | None) -> str:
    """Loopback unless --host says otherwise; a non-loopback address from anywhere else is
    refused, and an explicit one is served with a warning."""
    if explicit is None:
        if from_env and not is_loopback(from_env):
            raise ConfigError(
                f"{HOST_ENV}={from_env} would serve the history to the network.",
                hint="Pass --host explicitly if that is what you want.",
            )
        return from_env or "127.0.0.1"
    if not is_loopback(explicit):
        click.echo(
            f"tagger: warning: serving on {explicit}: anyone who can reach this address can read "
            "the run history (titles, answers, raw model responses).",
            err=True,
        )
    return explicit


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
