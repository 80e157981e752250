"""Run every benchmark, write one JSON of results, and print a table against the targets.

  python benchmarks/run_all.py [--quick] [--only overhead,dedup,...] [--out FILE]

--quick shrinks every size (a smoke test of the harness, not numbers to report; written to the
temp dir). Full results go to benchmarks/results.json unless --out says otherwise; --only
updates just its sections there. The JSON describes the machine (CPU, cores, load average before
and after): on a shared machine compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    calls,
    concurrency,
    dedup,
    intro,
    local,
    overhead,
    run_memory,
    startup,
    tokens,
)

FULL: dict[str, Callable[[], dict[str, Any]]] = {
    "startup": lambda: startup.measure(repeats=7),
    "calls": lambda: calls.measure(calls=300, rounds=3),
    "overhead": lambda: overhead.measure(n=2000, concurrency=16, rounds=2),
    "concurrency": lambda: concurrency.measure(n=1000, latency_s=0.2, concurrency=32),
    "workers": lambda: concurrency.throughput(n=4000, concurrency=32, workers=2),
    "dedup": lambda: dedup.measure(sizes=(10_000, 100_000)),
    "run_memory": lambda: run_memory.measure(sizes=(10_000, 100_000)),
    "tokens": lambda: tokens.measure("gpt-4o-mini"),
    "local": lambda: local.measure(threads=(1, 2)),
    "intro": lambda: intro.measure(draws=15),
}
QUICK: dict[str, Callable[[], dict[str, Any]]] = {
    "startup": lambda: startup.measure(repeats=3),
    "calls": lambda: calls.measure(calls=50, rounds=1),
    "overhead": lambda: overhead.measure(n=200, concurrency=16, rounds=1),
    "concurrency": lambda: concurrency.measure(n=100, latency_s=0.2, concurrency=32),
    "workers": lambda: concurrency.throughput(n=200, concurrency=32, workers=2),
    "dedup": lambda: dedup.measure(sizes=(2_000,)),
    "run_memory": lambda: run_memory.measure(sizes=(2_000,)),
    "tokens": lambda: tokens.measure("gpt-4o-mini"),
    "local": lambda: local.measure(threads=(1, 2), limit=10),
    "intro": lambda: intro.measure(draws=1),
}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("litellm", "instructor", "openai", "pydantic", "onnxruntime"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:
            versions[name] = "missing"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def run(names: list[str], suite: dict[str, Callable[[], dict[str, Any]]]) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg()}
    for name in names:
        started = time.perf_counter()
        print(f"[{name}] running ...", file=sys.stderr, flush=True)
        results[name] = suite[name]()
        results[name]["bench_seconds"] = round(time.perf_counter() - started, 1)
        results[name]["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_after"] = os.getloadavg()
    return results


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(benchmark, measured, target, verdict) for the table."""
    out: list[tuple[str, str, str, str]] = []

    def add(name: str, value: str, target: str, ok: bool | None) -> None:
        out.append((name, value, target, "-" if ok is None else ("PASS" if ok else "MISS")))

    if "calls" in r:
        ms = r["calls"]["cpu_ms_per_call"]
        add(
            "CPU per call: litellm / tagger gateway / bare instructor",
            f"{ms['litellm']} / {ms['tagger_gateway']} / {ms['bare_instructor']} ms",
            "gateway <= bare",
            ms["tagger_gateway"] <= ms["bare_instructor"],
        )
    if "overhead" in r:
        o = r["overhead"]
        add(
            f"pipeline vs bare loop, {o['papers']} papers, c={o['concurrency']} (wall)",
            f"{o['pipeline_papers_per_s']} vs {o['bare_papers_per_s']} papers/s = "
            f"{o['ratio_wall']:.2f}x",
            ">= 0.75x",
            o["ratio_wall"] >= 0.75,
        )
        add(
            "  same, CPU time per paper",
            f"{o['pipeline_cpu_ms_per_paper']} vs {o['bare_cpu_ms_per_paper']} ms = "
            f"{o['ratio_cpu']:.2f}x",
            ">= 0.75x",
            o["ratio_cpu"] >= 0.75,
        )
        add(
            "  tagger's own work (instant in-process model)",
            f"{o['tagger_own_cpu_ms_per_paper']} ms CPU/paper",
            "near 0",
            None,
        )
        add(
            f"cached rerun, {o['papers']} papers (ingest+dedup included)",
            f"{o['cached_papers_per_s']} papers/s ({o['cached_papers_per_cpu_s']} per CPU-s); "
            f"imports litellm: {o['cached_imported_litellm']}",
            ">= 2000/s, no litellm",
            o["cached_papers_per_s"] >= 2000 and not o["cached_imported_litellm"],
        )
    if "concurrency" in r:
        c = r["concurrency"]
        add(
            f"{c['papers']} papers, {c['latency_s']} s latency, c={c['concurrency']}",
            f"{c['seconds']} s = {c['x_ideal']:.2f}x ideal (bare loop {c['bare_x_ideal']:.2f}x); "
            f"{c['cpu_s']} s CPU",
            f"<= 1.25x ({c['ideal_s']} s)",
            c["x_ideal"] <= 1.25,
        )
        if "workers_seconds" in c:
            add(
                f"same, `--workers {c['workers']}` (worker start-up included)",
                f"{c['workers_seconds']} s = {c['workers_x_ideal']:.2f}x ideal; "
                f"{c['workers_cpu_s']} s CPU",
                f"<= 1.25x ({c['ideal_s']} s)",
                c["workers_x_ideal"] <= 1.25,
            )
    if "workers" in r:
        w = r["workers"]
        add(
            f"{w['papers']:,} papers, instant server, c={w['concurrency']}: 1 process vs "
            f"`--workers {w['workers']}`",
            f"{w['one_process_papers_per_s']} vs {w['workers_papers_per_s']} papers/s = "
            f"**{w['speedup']:.2f}x**",
            "measure",
            None,
        )
    if "intro" in r:
        i = r["intro"]
        add(
            f"digest intro by the embedded SmolLM2, {i['days']} days",
            f"{i['model_written']} written and validated, {i['fell_back']} fell back to the "
            f"counted sentence; {i['median_seconds']} s median",
            "measure",
            None,
        )
    if "dedup" in r:
        for size, d in r["dedup"].items():
            if not isinstance(d, dict):  # bench_seconds, finished_at
                continue
            add(
                f"dedup {int(size):,} records",
                f"{d['seconds']} s, {d['peak_rss_mib']} MiB, P={d['precision']} R={d['recall']}",
                "<= 60 s, <= 2 GiB, P,R >= 0.95",
                d["seconds"] <= 60
                and d["peak_rss_mib"] <= 2048
                and min(d["precision"], d["recall"]) >= 0.95,
            )
    if "run_memory" in r:
        for size, m in r["run_memory"].items():
            if not isinstance(m, dict):
                continue
            add(
                f"`tagger run` (local/keyword), {int(size):,} records",
                f"{m['seconds']} s, {m['peak_rss_mib']} MiB; cached rerun "
                f"{m['cached_rerun_seconds']} s, {m['cached_rerun_peak_rss_mib']} MiB",
                "bounded memory",
                None,
            )
    if "startup" in r:
        s = r["startup"]
        add(
            "tagger --help (median)",
            f"{s['tagger_help_median_s']} s (python alone {s['python_startup_median_s']} s)",
            "<= 0.3 s",
            s["tagger_help_median_s"] <= 0.3 and not s["heavy_modules_imported"],
        )
    if "local" in r:
        for n, lr in r["local"].items():
            if not isinstance(lr, dict):
                continue
            add(
                f"local/minilm, {lr['papers']} samples, --threads {n}",
                f"{lr['papers_per_min']} papers/min ({lr['cpu_s']} s CPU)",
                "measure",
                None,
            )
    if "tokens" in r:
        t = r["tokens"]
        add(
            "default prompt tokens/paper (sent; rendered)",
            f"{t['sent_prompt_tokens_mean']}; {t['rendered_prompt_tokens_mean']} "
            f"+ {t['completion_tokens_mean_gold']} out",
            "measure",
            None,
        )
        batch, pack = (
            t["cost_per_million_papers_batch_api_usd"],
            t["cost_per_million_papers_pack_usd"],
        )
        add(
            f"1M papers on {t['model']}",
            f"${t['cost_per_million_papers_usd']} (batch API ${batch}, --pack {t['pack']} ${pack})",
            "estimate",
            None,
        )
    return out


def table(r: dict[str, Any]) -> str:
    lines = rows(r)
    widths = [max(len(row[i]) for row in lines) for i in range(4)] if lines else [0] * 4
    header = ("benchmark", "measured", "target", "")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*row) for row in [header, *lines])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a harness smoke test")
    parser.add_argument("--only", default=None, help="comma-separated: " + ",".join(FULL))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--show", action="store_true", help="print the table of saved results")
    args = parser.parse_args()
    if args.show:
        print(table(json.loads((args.out or RESULTS).read_text(encoding="utf-8"))))
        return
    suite = QUICK if args.quick else FULL
    names = args.only.split(",") if args.only else list(suite)
    unknown = [n for n in names if n not in suite]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    # Quick numbers are not worth keeping beside the real ones.
    default = Path(tempfile.gettempdir()) / "tagger-bench-quick.json" if args.quick else RESULTS
    out = args.out or default
    results = run(names, suite)
    results["quick"] = args.quick
    if args.only and out.exists():  # a partial rerun updates its sections, keeps the rest
        results = {**json.loads(out.read_text(encoding="utf-8")), **results}
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
