"""`tagger --help` wall time: median of several fresh processes, beside bare interpreter start-up.

python benchmarks/startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# What `tagger --help` must not import (checked in the same kind of fresh process).
HEAVY = ("litellm", "instructor", "onnxruntime", "openai", "numpy", "tokenizers")


def _median_wall(args: list[str], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def heavy_imports() -> list[str]:
    code = (
        "import sys\nfrom tagger.cli.main import main\ntry:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\nprint(' '.join(sorted(set(sys.modules))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.strip().splitlines()[-1].split())  # the help text comes first
    return [name for name in HEAVY if name in loaded]


def measure(repeats: int = 7) -> dict[str, Any]:
    from benchmarks.dedup import tagger_exe

    help_s, help_all = _median_wall([tagger_exe(), "--help"], repeats)
    python_s, _ = _median_wall([sys.executable, "-c", "pass"], repeats)
    return {
        "repeats": repeats,
        "tagger_help_median_s": round(help_s, 3),
        "tagger_help_all_s": [round(t, 3) for t in help_all],
        "python_startup_median_s": round(python_s, 3),
        "heavy_modules_imported": heavy_imports(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(json.dumps(measure(args.repeats), indent=2))


if __name__ == "__main__":
    main()
