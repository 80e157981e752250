"""The OpenAI files + batches endpoints on top of the fake chat server (127.0.0.1 only).

A created batch answers each line with the server's chat replies; it reports `in_progress` for
`polls_before_done` status checks, then `completed`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from fake_openai import FakeOpenAI, completion


class FakeBatchServer(FakeOpenAI):
    def __init__(self, polls_before_done: int = 1) -> None:
        super().__init__()
        self.polls_before_done = polls_before_done
        self.files: dict[str, str] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.refuse_batches: set[int] = set()  # these creations (1-based) answer 400
        self.broken_lines: dict[int, str] = {}  # output line (1-based) -> what is served instead
        self.usages: dict[int, Any] = {}  # output line (1-based) -> the usage it reports

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{file_id}/content", self._content)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches/{batch_id}", self._retrieve)

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload: Any = form["file"]
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = upload.file.read().decode("utf-8")
        return web.json_response(
            {
                "id": file_id,
                "object": "file",
                "bytes": len(self.files[file_id]),
                "created_at": int(time.time()),
                "filename": upload.filename,
                "purpose": "batch",
                "status": "processed",
            }
        )

    async def _content(self, request: web.Request) -> web.Response:
        return web.Response(text=self.files[request.match_info["file_id"]])

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.creations = getattr(self, "creations", 0) + 1
        if self.creations in self.refuse_batches:
            error = {"error": {"message": "batch quota exceeded", "type": "invalid_request_error"}}
            return web.json_response(error, status=400)
        batch_id = f"batch-{len(self.batches) + 1}"
        lines = [json.loads(x) for x in self.files[body["input_file_id"]].splitlines() if x]
        out = []
        for line in lines:
            reply = self.script.popleft() if self.script else self.default(line["body"])
            status = reply.get("status", 200)
            content = reply.get("content", "")
            payload = completion(line["body"], content) if status == 200 else {"error": "x"}
            if len(out) + 1 in self.usages:
                payload["usage"] = self.usages[len(out) + 1]
            out.append(
                {
                    "id": f"r-{line['custom_id']}",
                    "custom_id": line["custom_id"],
                    "response": {"status_code": status, "body": payload},
                    "error": None,
                }
            )
        output_id = f"file-out-{batch_id}"
        served = [self.broken_lines.get(i, json.dumps(o)) for i, o in enumerate(out, 1)]
        self.files[output_id] = "\n".join(served) + "\n"
        self.batches[batch_id] = {
            "input_file_id": body["input_file_id"],
            "output": output_id,
            "total": len(lines),
        }
        self.polls[batch_id] = 0
        return web.json_response(self._batch(batch_id, "validating"))

    async def _retrieve(self, request: web.Request) -> web.Response:
        batch_id = request.match_info["batch_id"]
        self.polls[batch_id] += 1
        done = self.polls[batch_id] > self.polls_before_done
        return web.json_response(self._batch(batch_id, "completed" if done else "in_progress"))

    def _batch(self, batch_id: str, status: str) -> dict[str, Any]:
        info = self.batches[batch_id]
        done = status == "completed"
        return {
            "id": batch_id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "input_file_id": info["input_file_id"],
            "completion_window": "24h",
            "status": status,
            "created_at": int(time.time()),
            "output_file_id": info["output"] if done else None,
            "error_file_id": None,
            "request_counts": {
                "total": info["total"],
                "completed": info["total"] if done else 0,
                "failed": 0,
            },
        }
