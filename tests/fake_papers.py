"""Loopback fakes of the arXiv API and the HF daily-papers API, serving recorded responses.

Each route answers from a queue of (status, body, headers); when the queue is down to one
answer, that one repeats. Every request is kept (path, query, headers) for assertions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).parent / "data" / "fetch"
Answer = tuple[int, bytes, dict[str, str]]


def recorded(name: str, status: int = 200, **headers: str) -> Answer:
    return status, (DATA / name).read_bytes(), headers


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeApis:
    """Routes are keyed by path, or by 'path?key=value' for one query value (e.g. a date)."""

    routes: dict[str, list[Answer]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def answer(self, route: str, *answers: Answer) -> None:
        self.routes[route] = list(answers)

    def _next(self, path: str, query: dict[str, str]) -> Answer:
        keys = [f"{path}?{k}={v}" for k, v in sorted(query.items())] + [path]
        for key in keys:
            queue = self.routes.get(key)
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return 404, b"not found", {}


@contextmanager
def serve() -> Iterator[FakeApis]:
    apis = FakeApis()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            apis.seen.append(Seen(parts.path, query, dict(self.headers.items())))
            status, body, headers = apis._next(parts.path, query)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    apis.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield apis
    finally:
        server.shutdown()
        server.server_close()
