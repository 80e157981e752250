"""An OpenAI-compatible chat server on 127.0.0.1 that answers with the embedded SmolLM2-135M
(llama.cpp in-process; needs `tagger[llm]`). It lets the normal remote path (litellm +
instructor + the prompt file, `--pack` included) run against a real model offline:

  python benchmarks/llama_server.py [--port 8089] [--ctx 8192]
  tagger eval --model openai/smollm2 --api-base http://127.0.0.1:8089/v1 --mode json_schema ...

With instructor's json_schema mode the response schema becomes a llama.cpp grammar, so every
answer parses; whether it is right is the model's business. One request at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent


def make_app(n_ctx: int, threads: int | None) -> web.Application:
    sys.path.insert(0, str(ROOT))
    from llama_cpp import Llama

    from tagger.embedded.llm import gguf_path

    llm = Llama(model_path=str(gguf_path()), n_ctx=n_ctx, n_threads=threads, verbose=False, seed=0)
    lock = asyncio.Lock()

    def complete(body: dict[str, Any]) -> dict[str, Any]:
        fmt = body.get("response_format") or None
        if fmt and fmt.get("type") == "json_schema":  # OpenAI's shape -> llama-cpp-python's
            fmt = {"type": "json_object", "schema": fmt["json_schema"]["schema"]}
        result: dict[str, Any] = llm.create_chat_completion(  # type: ignore[assignment]
            messages=body["messages"],
            temperature=float(body.get("temperature") or 0.0),
            max_tokens=body.get("max_tokens") or 512,
            response_format=fmt,
        )
        return result

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        async with lock:
            started = time.perf_counter()
            try:
                result = await asyncio.to_thread(complete, body)
            except ValueError as exc:  # e.g. the prompt is longer than the context
                error = {"error": {"message": str(exc), "type": "invalid_request_error"}}
                return web.json_response(error, status=400)
            result["model"] = body.get("model", "smollm2")
            result.setdefault("x_seconds", round(time.perf_counter() - started, 2))
        return web.json_response(result)

    app = web.Application(client_max_size=64 * 1024**2)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/chat/completions", chat)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    app = make_app(args.ctx, args.threads)
    print(json.dumps({"listening": f"http://127.0.0.1:{args.port}/v1"}), flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
