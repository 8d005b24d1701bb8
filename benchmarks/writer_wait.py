"""How long another writer waits while a large transcript is imported.

A coder's decisions come from another process (as from the app): every
``INTERVAL`` seconds it adds a code to a segment of an already imported document
and times the whole write (waiting for the write lock included). The baseline is
the same writer with no import running; the figure is the same writer during
the import of one generated 30 MB transcript (about 4.8 M words, generated on the
fly, never committed). Target: no write waits more than ``TARGET_S`` seconds.

By default the import segments with spaCy's tokenizer + rule sentencizer (as the
memory benchmark; the import then writes as fast as it can, the worst case for a
waiting writer); ``--full`` uses the real model.

    python -m benchmarks.writer_wait             # 30 MB, prints the table
    python -m benchmarks.writer_wait --quick     # 1 MB
    python -m benchmarks.writer_wait --json benchmarks/writer_wait.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import generate
from benchmarks.common import CODEBOOK, ROOT, Config, Row

NAME = "writer_wait"
INTERVAL = 0.2  # seconds between the coder's decisions
TARGET_S = 2.0
SEED_DOCUMENT = ROOT / "corpus" / "02_morsoe.md"
CODER = "Åse"


def writer(db: str, stop: Path | None, count: int) -> dict:
    """Make a decision every ``INTERVAL`` s until ``stop`` exists (or ``count`` are made);
    report how long each write took."""
    from sqlalchemy.exc import OperationalError

    from evaltool.store import open_store

    store = open_store(db)
    segments = [s.id for s in store.segments(1)]
    codes = [c.key for c in store.codes()]
    store.add_coding([segments[0]], codes[0], CODER)  # first-use costs are not waiting
    print("ready", file=sys.stderr, flush=True)
    waits: list[float] = []
    errors = 0
    start = time.perf_counter()
    i = 0
    while (stop is None and i < count) or (stop is not None and not stop.exists()):
        i += 1
        pause = start + i * INTERVAL - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        t0 = time.perf_counter()
        try:
            store.add_coding([segments[i % len(segments)]], codes[i % len(codes)], CODER)
        except OperationalError:  # "database is locked" after the busy timeout
            errors += 1
        waits.append(time.perf_counter() - t0)
    store.close()
    return {"waits": waits, "errors": errors}


def _writer_cmd(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.writer_wait", "--writer", "--db", str(db), *args]


def _stats(report: dict) -> dict:
    waits = sorted(report["waits"])
    return {"writes": len(waits), "errors": report["errors"], "max": waits[-1],
            "median": statistics.median(waits), "p95": waits[int(0.95 * (len(waits) - 1))]}


def run(cfg: Config) -> list[Row]:
    """Max and median wait per write of a coder, without and during a large import."""
    from benchmarks.common import segment_nlp, sentencizer_nlp
    from evaltool import codebook
    from evaltool.importer import import_paths
    from evaltool.store import open_store

    mb = cfg.size(1, 30)
    pipeline = "model" if cfg.full else "sentencizer"
    nlp = segment_nlp() if cfg.full else sentencizer_nlp()
    db = cfg.workdir / "writer-wait.db"
    stop = cfg.workdir / "writer-wait.stop"
    for leftover in (db, stop, *(db.with_name(db.name + s) for s in ("-wal", "-shm", ".bak"))):
        leftover.unlink(missing_ok=True)
    big = generate.generate_bytes(int(mb * 1_000_000), cfg.workdir / "writer-wait.txt")
    store = open_store(str(db))
    try:
        if import_paths([SEED_DOCUMENT], store, lambda: nlp).failed:
            raise RuntimeError(f"{SEED_DOCUMENT}: could not be imported")
        store.load_codebook(codebook.load(CODEBOOK), CODEBOOK.name)

        out = subprocess.run(_writer_cmd(db, "--count", str(cfg.size(10, 100))), cwd=ROOT,
                             check=True, capture_output=True, text=True)
        base = _stats(json.loads(out.stdout))

        child = subprocess.Popen(_writer_cmd(db, "--stop", str(stop)), cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert child.stderr is not None
            if child.stderr.readline().strip() != "ready":
                raise RuntimeError("the writer process did not start")
            t0 = time.perf_counter()
            summary = import_paths([big], store, lambda: nlp)
            seconds = time.perf_counter() - t0
        finally:
            stop.touch()
            stdout, _ = child.communicate(timeout=120)
        if summary.results[0].status != "imported":
            raise RuntimeError(summary.results[0].message)
        during = _stats(json.loads(stdout))
    finally:
        store.close()
        big.unlink(missing_ok=True)
    segments = summary.results[0].segments
    note = (f"{during['writes']} writes, one per {INTERVAL} s, during the {seconds:.0f} s import "
            f"of {mb:g} MB ({segments} segments, {pipeline}); p95 {during['p95']:.3f} s "
            f"(baseline {base['p95']:.3f} s); {during['errors']} writes failed "
            f"(baseline {base['errors']} of {base['writes']})")
    return [
        Row(NAME, f"max wait per write during a {mb:g} MB import", during["max"], "s",
            "same writes, no import", base["max"], f"≤ {TARGET_S:g} s, none failed",
            during["max"] <= TARGET_S and during["errors"] == 0, note=note,
            higher_is_better=False),
        Row(NAME, f"median wait per write during a {mb:g} MB import", during["median"], "s",
            "same writes, no import", base["median"], higher_is_better=False),
    ]


def main(argv: list[str] | None = None) -> int:
    """``--writer``: the coder's process (prints JSON); else run this benchmark alone."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--writer", action="store_true")
    parser.add_argument("--db")
    parser.add_argument("--stop", type=Path)
    parser.add_argument("--count", type=int, default=0)
    args, rest = parser.parse_known_args(argv)
    if args.writer:
        print(json.dumps(writer(args.db, args.stop, args.count)))
        return 0
    from benchmarks import run

    return run.main(["--only", NAME, *rest])


if __name__ == "__main__":
    sys.exit(main())
