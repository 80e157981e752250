"""A fake OpenAI-compatible chat server on 127.0.0.1 that tests start themselves.

Each request is answered by the next scripted reply (`enqueue`), else by `default`. A reply is a
dict: {"content": str} | {"status": int, "headers": {...}, "body": ...} | {"reset": True} |
{"delay": seconds, ...} | {"until": threading.Event, ...} (held until the event is set, 60 s at
most); a content reply may add "finish_reason" (e.g. "length"), "usage" (replaces the counted
usage, e.g. with prompt_tokens_details) or "drip" (seconds between bytes of the body, after the
headers: a server that never quite times out). Requests are recorded in
`requests`; `on_request(count)`, when set, is called after each one is recorded.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

Reply = dict[str, Any]


def first_tag_answer(body: dict[str, Any]) -> Reply:
    """Default: the first taxonomy id listed in the system prompt, and a summary from the title."""
    system = body["messages"][0]["content"]
    user = body["messages"][-1]["content"]
    tag = re.search(r"^- ([a-z0-9_.-]+):", system, re.MULTILINE)
    pack_ids = re.findall(r'<abstract id="(p\d+)">', user)
    if pack_ids:
        items = [
            {"id": pid, "tags": [tag.group(1) if tag else "x"], "summary": f"Packed answer {pid}"}
            for pid in pack_ids
        ]
        return {"content": json.dumps({"items": items})}
    title = re.search(r"Title: (.*)", user)
    words = len(title.group(1).split()) if title else 0
    summary = f"Studies a problem named in {words} title words and reports results"
    return {"content": json.dumps({"tags": [tag.group(1) if tag else "x"], "summary": summary})}


class FakeOpenAI:
    def __init__(self, default: Callable[[dict[str, Any]], Reply] = first_tag_answer) -> None:
        self.default = default
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.latency_s = 0.0
        self.on_request: Callable[[int], None] | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        self.add_routes(app)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def add_routes(self, app: web.Application) -> None:
        """Subclasses add endpoints here (e.g. the batch API)."""

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        with self._lock:
            self.requests.append({"body": body, "headers": dict(request.headers)})
            reply = self.script.popleft() if self.script else None
            count = len(self.requests)
        if self.on_request is not None:
            self.on_request(count)
        reply = reply if reply is not None else self.default(body)
        gate = reply.get("until")
        if gate is not None:
            await asyncio.get_running_loop().run_in_executor(None, gate.wait, 60)
        delay = reply.get("delay", self.latency_s)
        if delay:
            await asyncio.sleep(delay)
        if reply.get("reset"):
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if "status" in reply:
            payload = reply.get("body", {"error": {"message": "fake failure", "type": "server"}})
            return web.json_response(payload, status=reply["status"], headers=reply.get("headers"))
        if "raw" in reply:
            return web.Response(text=reply["raw"], content_type="application/json")
        answer = completion(body, reply["content"])
        answer["choices"][0]["finish_reason"] = reply.get("finish_reason", "stop")
        if "usage" in reply:
            answer["usage"] = reply["usage"]
        if "drip" in reply:
            return await drip(request, json.dumps(answer).encode(), reply["drip"])
        return web.json_response(answer)


async def drip(request: web.Request, data: bytes, seconds: float) -> web.StreamResponse:
    """Headers at once, then one byte every `seconds` until done or the client leaves."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(data)
    await response.prepare(request)
    try:
        for i in range(len(data)):
            await response.write(data[i : i + 1])
            await asyncio.sleep(seconds)
    except (ConnectionError, RuntimeError):
        return response  # the client gave up: what this reply is for
    await response.write_eof()
    return response


def completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": name, "arguments": content},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(content.split()),
            "total_tokens": prompt_tokens + len(content.split()),
        },
    }
