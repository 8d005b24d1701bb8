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


def test_sigkill_during_import_leaves_no_partial_document(tmp_path: Path, fixtures: Path) -> None:
    db = tmp_path / "crash.db"
    cli = [sys.executable, "-m", "evaltool.cli", "--db", str(db)]
    subprocess.run([*cli, "ingest", str(fixtures / "fokusgruppe.txt")], check=True,
                   capture_output=True)
    big = tmp_path / "stor.txt"
    big_transcript(big, 4000)
    proc = subprocess.Popen([*cli, "ingest", "--progress", str(big)], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
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
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT name FROM documents").fetchall() == [("fokusgruppe.txt",)]
    for table in ("turns", "segments", "speakers"):
        orphans = con.execute(f"SELECT count(*) FROM {table} WHERE document_id NOT IN "
                              "(SELECT id FROM documents)").fetchone()[0]
        assert orphans == 0, table
    con.close()
    store = open_store(str(db))
    assert [d.turns for d in store.list_documents()] == [6]
    store.close()
