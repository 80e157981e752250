"""Run a command and measure it alone: wall time, CPU time and peak RSS of that process only.

Linux keeps a process's peak RSS across exec, and a child spawned straight from a large
benchmark process starts out sharing its memory, so its ru_maxrss would report the parent's
size. A small Python process in between spawns the command and reads its rusage instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_MEASURE = """
import json, os, sys, time
out = sys.argv[1]
actions = [(os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
actions.append((os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ, file_actions=actions)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({
    "code": os.waitstatus_to_exitcode(status),
    "wall_s": time.perf_counter() - started,
    "cpu_s": usage.ru_utime + usage.ru_stime,
    "peak_rss_bytes": usage.ru_maxrss * 1024,
}))
"""


@dataclass
class Measured:
    code: int
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    stdout: str


def run_measured(args: list[str], env: dict[str, str], scratch: Path) -> Measured:
    """Run ``args`` (args[0] an executable path); its stderr is discarded, stdout returned."""
    out = scratch / "stdout.txt"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(out), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(done.stdout)
    return Measured(
        code=info["code"],
        wall_s=info["wall_s"],
        cpu_s=info["cpu_s"],
        peak_rss_bytes=info["peak_rss_bytes"],
        stdout=out.read_text(encoding="utf-8"),
    )


def environ(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}
