"""Taguette (a real QDA tool, from PyPI) writes a REFI-QDA codebook with its own exporter; evaltool
loads it. Taguette pins SQLAlchemy 1.4, so it runs in its own virtualenv (``.venv-taguette``,
made once and reused; a fresh machine installs it here, ~1 minute) through a subprocess.

Taguette 1.5.2 (the release on PyPI) exports codebooks as QDC and highlights as CSV/Excel/
documents, but no QDPX project, so highlights cannot travel to evaltool by REFI-QDA; the
test creates them in Taguette anyway and checks the codebook it writes against them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaltool.cli import cli

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("EVALTOOL_TAGUETTE_VENV", ROOT / ".venv-taguette"))
TAGUETTE = "taguette==1.5.2"
SCRIPT = Path(__file__).parent / "refi_tools" / "taguette_export.py"

pytestmark = pytest.mark.slow  # the first run installs Taguette (about a minute)


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.fixture(scope="session")
def taguette_python() -> Path:
    """Taguette's interpreter; the virtualenv is created and Taguette installed on first use."""
    python = _python()
    check = [str(python), "-c", "import taguette.export"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True,
                   capture_output=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", TAGUETTE],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:  # no package index reachable: say so, do not pretend
        pytest.skip(f"cannot install {TAGUETTE} into {VENV}: {done.stderr.strip()[-300:]}")
    return python


def test_taguette_codebook_loads_with_every_tag(taguette_python, runner, tmp_path) -> None:
    subprocess.run([str(taguette_python), str(SCRIPT), str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    made = json.loads((tmp_path / "tags.json").read_text(encoding="utf-8"))
    qdc = tmp_path / "codebook.qdc"
    assert b'origin="Taguette 1.5.2"' in qdc.read_bytes()
    db = str(tmp_path / "t.db")
    out = runner.invoke(cli, ["--db", db, "codebook", "load", str(qdc)])
    assert out.exit_code == 0, out.output
    assert f"{len(made['tags'])} codes added" in out.stdout
    out = runner.invoke(cli, ["--db", db, "codebook", "show"])
    assert out.exit_code == 0, out.output
    from evaltool.store import open_store

    store = open_store(db)
    try:
        codes = store.codes()
    finally:
        store.close()
    # every tag Taguette holds is a code, named by its path; every highlighted tag is there
    assert sorted(c.label for c in codes) == sorted(t["path"] for t in made["tags"])
    assert {t for h in made["highlights"] for t in h["tags"]} <= {c.label for c in codes}
    assert {c.cmo for c in codes} == {"unassigned"}
    # Taguette's QDC carries no descriptions: the definition is the tag's path
    assert all(c.definition == c.label for c in codes)
    assert {c.key for c in codes} == {"kaffe", "kaffe_uformelt", "nye_brugere", "aeldre"}
