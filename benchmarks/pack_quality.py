"""What `--pack K` does to gold-set quality, measured offline.

The only prompt-following model that installs offline here is the embedded SmolLM2-135M
(`tagger[llm]`). This serves it behind an OpenAI-compatible endpoint on 127.0.0.1
(`llama_server.py`) and runs the normal remote path on it: `tagger eval --model openai/smollm2
--mode json_schema --pack K` on the first N gold papers, each K with an empty cache. The
response schema becomes a llama.cpp grammar, so every answer parses. With --model and
--api-base it measures any OpenAI-compatible endpoint instead (e.g. a vLLM server):

  python benchmarks/pack_quality.py [--limit 40] [--packs 1,4,8] [--model M --api-base URL]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.dedup import tagger_exe  # noqa: E402
from benchmarks.proc import environ  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(
    limit: int = 40,
    packs: tuple[int, ...] = (1, 4, 8),
    model: str | None = None,
    api_base: str | None = None,
) -> dict[str, Any]:
    if model and api_base:
        results: dict[str, Any] = {"model": model, "papers": limit}
        for k in packs:
            results[f"pack_{k}"] = _eval(model, api_base, limit, k)
        return results
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "llama_server.py"), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if "listening" not in line:
            raise RuntimeError(f"the llama.cpp server did not start: {line!r}")
        time.sleep(0.5)
        results = {"model": "SmolLM2-135M-Instruct Q4_1 (llama.cpp)", "papers": limit}
        base = f"http://127.0.0.1:{port}/v1"
        for k in packs:
            results[f"pack_{k}"] = _eval("openai/smollm2", base, limit, k)
        return results
    finally:
        server.terminate()
        server.wait(10)


def _eval(model: str, api_base: str, limit: int, pack: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tagger-pack-") as tmp:
        out = Path(tmp) / "report.json"
        args = [tagger_exe(), "eval", "--model", model, "--mode", "json_schema"]
        args += ["--api-base", api_base, "--limit", str(limit)]
        args += ["--pack", str(pack), "--concurrency", "1"]
        args += ["--no-progress", "-o", str(out)]
        env = {**environ(), "TAGGER_HOME": str(Path(tmp) / "home")}
        started = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        # Exit 1 means some papers failed: the report still measures them (metric `failed`).
        if done.returncode not in (0, 1) or not out.is_file():
            raise RuntimeError(f"tagger eval --pack {pack} failed:\n{done.stderr[-2000:]}")
        system = json.loads(out.read_text())["systems"][0]
    m = system["metrics"]
    keys = ("micro_f1", "macro_f1", "rouge1", "failed", "prompt_tokens_per_paper")
    return {k: round(float(m[k]), 4) for k in keys if k in m} | {"seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--packs", default="1,4,8")
    parser.add_argument("--model", help="a litellm model string (with --api-base)")
    parser.add_argument("--api-base", help="its OpenAI-compatible endpoint")
    args = parser.parse_args()
    packs = tuple(int(k) for k in args.packs.split(","))
    print(json.dumps(measure(args.limit, packs, args.model, args.api_base), indent=2))


if __name__ == "__main__":
    main()
