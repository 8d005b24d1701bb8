"""Run the benchmarks and print one table: each figure with its same-run baseline.

    python -m benchmarks.run            # everything, about 10 minutes on 2 cores
    python -m benchmarks.run --quick    # tiny sizes (the smoke test)
    python -m benchmarks.run --only import,autocode --json results.json
    python -m benchmarks.run --full     # 1 M words end to end, 30 MB with the real model
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import (
    autocoding,
    browser_latency,
    cmo_chains,
    dashboard,
    endtoend,
    memory,
    quality,
    search,
    throughput,
    writer_wait,
)
from benchmarks.common import Config, Row, load_average, model_description

BENCHMARKS: dict[str, Callable[[Config], list[Row]]] = {
    throughput.NAME: throughput.run,
    autocoding.NAME: autocoding.run,
    memory.NAME: memory.run,
    dashboard.NAME: dashboard.run,
    cmo_chains.NAME: cmo_chains.run,
    quality.NAME: quality.run,
    endtoend.NAME: endtoend.run,
    writer_wait.NAME: writer_wait.run,
    browser_latency.NAME: browser_latency.run,
    search.NAME: search.run,
}


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, Python and the date (for RESULTS.md)."""
    cpu = platform.processor() or "?"
    ram = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": ram,
            "python": platform.python_version(), "date": dt.date.today().isoformat()}


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit in ("F1", "acc"):
        return f"{value:.3f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    head = ("| benchmark | figure | value | baseline (same run) | baseline value | ratio | "
            "target | met |\n|---|---|---:|---|---:|---:|---|:---:|")
    lines = [head]
    for r in rows:
        met = "" if r.ok is None else ("yes" if r.ok else "**no**")
        ratio = "–" if r.ratio is None else f"{r.ratio:.2f}"
        unit = f" {r.unit}" if r.unit not in ("F1", "acc") else ""
        base = "–" if r.base_value is None else _fmt(r.base_value, r.unit) + unit
        lines.append(f"| {r.bench} | {r.metric} | {_fmt(r.value, r.unit)}{unit} | {r.baseline} | "
                     f"{base} | {ratio} | {r.target} | {met} |")
    return "\n".join(lines)


def notes(rows: list[Row]) -> str:
    """Per-row notes as a list."""
    return "\n".join(f"- {r.bench} / {r.metric}: {r.note}" for r in rows if r.note)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code (1 when a benchmark fails)."""
    parser = argparse.ArgumentParser(description="evaltool benchmarks (see benchmarks/RESULTS.md)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--full", action="store_true",
                        help="1M words end to end and the 30 MB import with the real model")
    parser.add_argument("--only", action="append", default=[],
                        help=f"benchmark(s) to run, comma-separated: {', '.join(BENCHMARKS)}")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--workdir", type=Path, help="keep generated files here (default: temp)")
    args = parser.parse_args(argv)
    only = [n for arg in args.only for n in arg.split(",") if n]
    unknown = [n for n in only if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="evaltool-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = Config(workdir, quick=args.quick, full=args.full)
    info = machine()
    mode = "quick" if args.quick else ("full" if args.full else "default")
    print(f"evaltool benchmarks ({mode}) {info['date']}: {info['cpu']}, {info['cores']} cores, "
          f"{info['ram']} RAM, Python {info['python']}; load average {load_average()}")
    print(f"model: {model_description()}", flush=True)
    rows: list[Row] = []
    timings: dict[str, float] = {}
    failed = []
    start = time.perf_counter()
    try:
        for name, bench in BENCHMARKS.items():
            if only and name not in only:
                continue
            print(f"- {name} ...", flush=True)
            t0 = time.perf_counter()
            try:
                rows.extend(bench(cfg))
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                failed.append(name)
                print(f"  {name} failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
            timings[name] = time.perf_counter() - t0
            print(f"  {name}: {timings[name]:.0f} s", flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    total = time.perf_counter() - start
    print()
    print(table(rows))
    print()
    print(notes(rows))
    print(f"\ntotal {total:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}); "
          f"load average {load_average()}")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": info, "mode": mode, "model": model_description(), "seconds": timings,
            "rows": [r.as_dict() for r in rows], "failed": failed,
        }, indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
