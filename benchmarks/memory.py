"""Peak memory of importing one large transcript, in a fresh subprocess.

Each import runs in its own ``python -m benchmarks.memory`` child that reports
its own peak RSS (``VmHWM`` from ``/proc/self/status``, else ``ru_maxrss``), so
earlier benchmarks in the parent do not count. The baseline is a child that
loads the same pipeline and opens the store but imports nothing: what the import
adds is the difference. A 30 MB and a 3 MB transcript are generated on the fly
(never committed); "flat" means the 30 MB import needs about the same memory as
the 3 MB one.

By default the children segment with spaCy's tokenizer + rule sentencizer, so a
30 MB file (about 4.5 million words) fits the time budget; ``--full`` uses the
real model (same code path; the model adds a constant).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import generate
from benchmarks.common import ROOT, Config, Row

NAME = "memory"
LIMIT_MB = 1500
FLAT = 1.25  # ten times the file may need at most this much more peak memory


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child(path: str | None, db: str, pipeline: str) -> dict:
    """Import ``path`` (or nothing) into ``db``; report peak RSS and time."""
    from benchmarks.common import segment_nlp, sentencizer_nlp
    from evaltool.importer import import_paths
    from evaltool.store import open_store

    nlp = segment_nlp() if pipeline == "model" else sentencizer_nlp()
    nlp("Opvarmning af pipelinen.")  # first call allocates; count it in the baseline too
    store = open_store(db)
    start = time.perf_counter()
    segments = 0
    if path:
        summary = import_paths([path], store, lambda: nlp)
        if summary.results[0].status != "imported":  # failed, or skipped as already there
            raise SystemExit(summary.results[0].message)
        segments = summary.results[0].segments
    store.close()
    return {"peak_mb": peak_rss_mb(), "seconds": time.perf_counter() - start,
            "segments": segments}


def run_child(path: Path | None, db: Path, pipeline: str) -> dict:
    """Run :func:`child` in a fresh interpreter on a new database and return its report."""
    for leftover in (db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", ".bak"))):
        leftover.unlink(missing_ok=True)  # a database from an earlier run would skip the import
    cmd = [sys.executable, "-m", "benchmarks.memory", "--db", str(db), "--pipeline", pipeline]
    if path is not None:
        cmd += ["--file", str(path)]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(cfg: Config) -> list[Row]:
    """Peak RSS of importing a large and a ten times smaller transcript."""
    big_mb = cfg.size(0.5, 30)
    small_mb = big_mb / 10
    pipeline = "model" if cfg.full else "sentencizer"
    pool = generate.load_pool()
    files = {}
    for label, mb in (("big", big_mb), ("small", small_mb)):
        files[label] = generate.generate_bytes(int(mb * 1_000_000), cfg.workdir / f"mem-{label}.txt",
                                               pool=pool)
    idle = run_child(None, cfg.workdir / "mem-idle.db", pipeline)
    small = run_child(files["small"], cfg.workdir / "mem-small.db", pipeline)
    big = run_child(files["big"], cfg.workdir / "mem-big.db", pipeline)
    for f in files.values():
        f.unlink()
    flat = big["peak_mb"] <= small["peak_mb"] * FLAT
    return [
        Row(NAME, f"peak RSS importing {small_mb:g} MB ({pipeline})", small["peak_mb"], "MB",
            "process with pipeline and store, no import", idle["peak_mb"],
            note=f"{small['segments']} segments in {small['seconds']:.0f} s",
            higher_is_better=False),
        Row(NAME, f"peak RSS importing {big_mb:g} MB ({pipeline})", big["peak_mb"], "MB",
            f"importing {small_mb:g} MB", small["peak_mb"],
            f"< {LIMIT_MB} MB and ≤ {FLAT} × baseline", big["peak_mb"] < LIMIT_MB and flat,
            note=f"{big['segments']} segments in {big['seconds']:.0f} s; the import adds "
                 f"{big['peak_mb'] - idle['peak_mb']:.0f} MB to the idle process "
                 f"({small['peak_mb'] - idle['peak_mb']:.0f} MB for the small file)",
            higher_is_better=False),
    ]


def main() -> None:
    """Child entry point: import one file and print the JSON report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--file")
    parser.add_argument("--db", required=True)
    parser.add_argument("--pipeline", choices=["model", "sentencizer"], default="sentencizer")
    args = parser.parse_args()
    print(json.dumps(child(args.file, args.db, args.pipeline)))


if __name__ == "__main__":
    main()
