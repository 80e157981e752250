"""Serve `tagger view`'s app on a loopback port the test owns; stop it afterwards."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import SAMPLES, invoke
from fake_openai import FakeOpenAI


@contextmanager
def serving(store: Path) -> Iterator[str]:
    """Yields the base URL (http://127.0.0.1:PORT) of the real uvicorn server."""
    import uvicorn

    from tagger.view.app import make_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(store), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the view server did not start")
        time.sleep(0.01)  # waiting for a thread to bind, not for time to pass
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


HOSTILE_TITLE = '<script>alert("t")</script><img src=x onerror=alert(1)> Hostile title'
HOSTILE_ABSTRACT = "We show <b onmouseover=alert(2)>bold</b> claims about diffusion models."


def cli(*args: str) -> int:
    """The real CLI in-process (sys.argv too: the store records it as the command line)."""
    return invoke(None, *args).code


def wrong_tags(body: dict[str, object]) -> dict[str, object]:
    return {"content": json.dumps({"tags": ["not-a-tag"], "summary": "Claims an answer."})}


def build_history(root: Path) -> Path:
    """A history with a 271-paper run, a run where every paper failed, and two evals (one a
    comparison), made by the real commands; returns the store's path."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TAGGER_HOME", str(root / "home"))
        hostile = root / "hostile.jsonl"
        row = {
            "title": HOSTILE_TITLE,
            "abstract": HOSTILE_ABSTRACT,
            "url": "javascript:alert(3)",
            "authors": ["A. One", "B. Two", "C. Three", "D. Four"],
            "date": "2024-03-15",
        }
        hostile.write_text(json.dumps(row) + "\n", encoding="utf-8")
        out = root / "out.jsonl"
        assert (
            cli("run", str(SAMPLES), str(hostile), "-o", str(out), "--model", "local/keyword") == 0
        )
        broken = root / "broken.jsonl"
        broken.write_text(
            "".join(
                json.dumps({"title": f"Broken paper {n}", "abstract": f"About {n}."}) + "\n"
                for n in range(3)
            )
        )
        with FakeOpenAI(default=wrong_tags) as server:
            patch.setenv("TAGGER_API_KEY", "sk-test-view")
            args = ["--model", "openai/fake", "--api-base", server.base_url]
            cli("run", str(broken), "-o", str(root / "broken-out.jsonl"), *args)
        gold = ["--limit", "12", "--model", "local/keyword"]
        assert cli("eval", *gold, "-o", str(root / "e1.json")) in (0, 1)
        assert cli("eval", *gold, "--compare", "local/minilm", "-o", str(root / "e2.json")) in (
            0,
            1,
        )
        return root / "home" / "store.db"
