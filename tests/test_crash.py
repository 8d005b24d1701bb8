"""Killing the process (SIGKILL) in the middle of a large import leaves no partial document."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evaltool.store import open_store

pytestmark = pytest.mark.slow


def big_transcript(path: Path, turns: int) -> None:
    speakers = ["Ordstyrer", "Åse (bibliotekar)", "Bjørn (frivillig)", "Ærlige Kim (borger)"]
    lines = ["---", "title: Stor fil", "site: Morsø", "---"]
    for i in range(turns):
        name = speakers[i % len(speakers)]
        lines.append(f"{name}: Det her er tur {i} om kaffemøder på biblioteket. Vi snakkede "
                     "længe om, hvordan de ældre mænd blev hængende. Så kom der flere.")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _start_import(cli: list[str], big: Path, *extra: str) -> subprocess.Popen:
    """Start ``ingest --progress`` of ``big``; return once it has committed a batch."""
    proc = subprocess.Popen([*cli, "ingest", "--progress", *extra, str(big)],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    seen = ""
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    while time.monotonic() < deadline and "/4000" not in seen:
        with contextlib.suppress(BlockingIOError):
            seen += os.read(proc.stderr.fileno(), 65536).decode(errors="replace")
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    assert "/4000" in seen, "import did not report progress before finishing"
    assert proc.poll() is None, "import finished before it could be killed"
    return proc


def test_sigkill_during_import_leaves_no_partial_document(tmp_path: Path, fixtures: Path) -> None:
    db = tmp_path / "crash.db"
    cli = [sys.executable, "-m", "evaltool.cli", "--db", str(db)]
    subprocess.run([*cli, "ingest", str(fixtures / "fokusgruppe.txt")], check=True,
                   capture_output=True)
    big = tmp_path / "stor.txt"
    big_transcript(big, 4000)
    proc = _start_import(cli, big)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT name FROM documents WHERE status = 'ready'").fetchall() == [
        ("fokusgruppe.txt",)]
    # the killed import's batches were committed, as an invisible staged document
    assert con.execute("SELECT status FROM documents WHERE name = 'stor.txt'").fetchall() == [
        ("importing",)]
    for table in ("turns", "segments", "speakers"):
        orphans = con.execute(f"SELECT count(*) FROM {table} WHERE document_id NOT IN "
                              "(SELECT id FROM documents)").fetchone()[0]
        assert orphans == 0, table
    con.close()
    store = open_store(str(db))
    assert [d.turns for d in store.list_documents()] == [6]
    store.close()

    # the next import removes the dead import's rows, then imports the file whole
    done = subprocess.run([*cli, "ingest", str(big)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT name, status FROM documents ORDER BY id").fetchall() == [
        ("fokusgruppe.txt", "ready"), ("stor.txt", "ready")]
    assert con.execute("SELECT count(*) FROM turns").fetchone()[0] == 6 + 4000
    con.close()


def _children(pid: int) -> list[int]:
    """Live (not zombie) child processes of ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's bookkeeping is left


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigkill_of_an_import_with_processes_ends_its_workers(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    cli = [sys.executable, "-m", "evaltool.cli", "--db", str(db)]
    big = tmp_path / "stor.txt"
    big_transcript(big, 4000)
    proc = _start_import(cli, big, "--processes", "2")
    workers = _children(proc.pid)
    assert len(workers) >= 2, workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:  # do not leave them running if the test fails
        with contextlib.suppress(ProcessLookupError):
            os.kill(w, signal.SIGKILL)
    assert not left, "segmentation workers outlived the killed import"


def many_transcripts(folder: Path, documents: int, turns: int) -> list[Path]:
    """Distinct transcripts whose sentences trigger the mini codebook's codes."""
    folder.mkdir()
    speakers = ["Ordstyrer", "Åse (bibliotekar)", "Bjørn (frivillig)", "Ærlige Kim (borger)"]
    paths = []
    for d in range(documents):
        lines = ["---", f"title: Møde {d}", f"site: Bibliotek {d % 5}", "---"]
        for i in range(turns):
            lines.append(f"{speakers[i % len(speakers)]}: Ved møde {d} tur {i} drak vi kaffe og "
                         "spiste kage sammen. Kommunens strategi hjalp os. Mange nye brugere "
                         "havde aldrig før været på biblioteket.")
        path = folder / f"moede_{d:03d}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def suggestions_by_document(db: Path) -> dict[int, set[tuple]]:
    """Each document's machine suggestions (segment, code, source, confidence, explanation)."""
    con = sqlite3.connect(db)
    out: dict[int, set[tuple]] = {d: set() for (d,) in con.execute("SELECT id FROM documents")}
    for doc, *row in con.execute(
            "SELECT s.document_id, c.segment_id, c.code_id, c.source, round(c.confidence, 6), "
            "c.explanation FROM codings c JOIN segments s ON s.id = c.segment_id "
            "WHERE c.status = 'suggested' AND c.coder_id IS NULL"):
        out[doc].add(tuple(row))
    con.close()
    return out


def test_sigkill_during_autocode_leaves_whole_documents(tmp_path: Path, fixtures: Path) -> None:
    db = tmp_path / "crash.db"
    cli = [sys.executable, "-m", "evaltool.cli", "--db", str(db)]
    documents = 30
    paths = many_transcripts(tmp_path / "moeder", documents, 20)
    subprocess.run([*cli, "ingest", str(paths[0].parent)], check=True, capture_output=True)
    subprocess.run([*cli, "codebook", "load", str(fixtures / "mini_kodebog.yaml")], check=True,
                   capture_output=True)
    # what a complete run writes, on an identical copy (same segment and code ids)
    complete_db = tmp_path / "complete.db"
    subprocess.run([*cli, "backup", str(complete_db)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "evaltool.cli", "--db", str(complete_db), "autocode"],
                   check=True, capture_output=True)
    complete = suggestions_by_document(complete_db)
    assert len(complete) == documents and all(complete.values())

    proc = subprocess.Popen([*cli, "-v", "autocode", "--progress"], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    deadline = time.monotonic() + 120
    seen = ""
    while time.monotonic() < deadline and f"document 1/{documents} committed" not in seen:
        with contextlib.suppress(BlockingIOError):
            seen += os.read(proc.stderr.fileno(), 65536).decode(errors="replace")
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    assert f"document 1/{documents} committed" in seen, "autocode reported no progress"
    assert proc.poll() is None, "autocode finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with contextlib.suppress(BlockingIOError):
        seen += os.read(proc.stderr.fileno(), 65536).decode(errors="replace")
    assert "kaffe" not in seen.lower()  # progress and log lines carry no transcript text

    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    after = suggestions_by_document(db)
    whole = [d for d, rows in after.items() if rows == complete[d]]
    empty = [d for d, rows in after.items() if not rows]
    assert sorted(whole + empty) == sorted(complete), "a document has half of its suggestions"
    assert whole and empty, (len(whole), len(empty))  # the kill did land mid-run

    # running again completes the job: the result equals an uninterrupted run
    subprocess.run([*cli, "autocode"], check=True, capture_output=True)
    assert suggestions_by_document(db) == complete


def test_two_processes_importing_the_same_file_store_it_once(tmp_path: Path) -> None:
    db = tmp_path / "twice.db"
    cli = [sys.executable, "-m", "evaltool.cli", "--db", str(db)]
    subprocess.run([*cli, "list"], check=True, capture_output=True)  # migrated once, up front
    big = tmp_path / "stor.txt"
    big_transcript(big, 1500)
    procs = [subprocess.Popen([*cli, "ingest", str(big)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    lines = [p.communicate(timeout=300)[0].strip().splitlines()[-1] for p in procs]
    assert sorted(lines)[1] == "1 imported, 0 skipped, 0 failed", lines
    assert sorted(lines)[0] in ("0 imported, 1 skipped, 0 failed",
                                "0 imported, 0 skipped, 1 failed"), lines
    con = sqlite3.connect(db)
    assert con.execute("SELECT name, status FROM documents").fetchall() == [("stor.txt", "ready")]
    assert con.execute("SELECT count(*) FROM turns").fetchone()[0] == 1500
    con.close()
