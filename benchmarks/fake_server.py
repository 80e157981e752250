"""A minimal OpenAI-compatible chat server for benchmarks, run in its own process.

It answers every request with the same valid tag/summary after ``--latency`` seconds, so the
client's cost is all that is measured. A separate process keeps it off the client's GIL.

  python benchmarks/fake_server.py --tag large-language-models [--latency 0.2]
prints `PORT <n>` on stdout once listening, and serves until killed. `--record FILE` appends
each request body to FILE (one JSON object a line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web

SUMMARY = "Proposes a method for the studied problem and reports that it improves on baselines"


def completion_body(tag: str, prompt_tokens: int = 700) -> bytes:
    content = json.dumps({"tags": [tag], "summary": SUMMARY})
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "gpt-4o-mini",  # priced in litellm's map, as a real reply would be
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": 30,
                "total_tokens": prompt_tokens + 30,
            },
        }
    ).encode()


def make_app(tag: str, latency_s: float, record: Path | None = None) -> web.Application:
    body = completion_body(tag)
    log = record.open("ab") if record else None

    async def chat(request: web.Request) -> web.Response:
        raw = await request.read()
        if log is not None:  # the request as sent, for counting prompt tokens
            log.write(raw.replace(b"\n", b" ") + b"\n")
            log.flush()
        if latency_s:
            await asyncio.sleep(latency_s)
        return web.Response(body=body, content_type="application/json")

    app = web.Application(client_max_size=64 * 1024**2)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/chat/completions", chat)
    return app


async def serve(tag: str, latency_s: float, record: Path | None) -> None:
    runner = web.AppRunner(make_app(tag, latency_s, record), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"PORT {port}", flush=True)
    await asyncio.Event().wait()


class ServerProcess:
    """`with ServerProcess(tag, latency) as base_url:` starts the server in a child process."""

    def __init__(self, tag: str, latency_s: float = 0.0, record: Path | None = None) -> None:
        self.args = [sys.executable, str(Path(__file__)), "--tag", tag, "--latency", str(latency_s)]
        if record is not None:
            self.args += ["--record", str(record)]
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> str:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"fake server did not start: {line!r}")
        return f"http://127.0.0.1:{int(line.split()[1])}/v1"

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tag", required=True, help="tag id every answer carries")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--record", type=Path, help="append each request body here (JSON lines)")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.tag, args.latency, args.record))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
