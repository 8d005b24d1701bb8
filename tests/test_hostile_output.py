"""Hostile exports, backups and restores: formulas hidden behind control characters and in
headers, output paths that are not regular files, temporary files left by failed or killed
exports, and backups that are damaged, incomplete or not files at all."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evaltool import codebook, export
from evaltool.cli import cli
from evaltool.domain import Suggestion
from evaltool.importer import import_paths
from evaltool.store import open_store
from tests.test_hostile_cli import assert_one_line, content

# Cells a spreadsheet would run once the control character in front is dropped.
HIDDEN = ["\x01=1+1", "\x00+SUM(A1:A2)", "\x1b-2+3", "\x7f@SUM(A1)", "\x0b\x0c=HYPERLINK(\"x\")",
          "\x85=1", "\x08\t=1", "=1+1", "#N/A", "#DIV/0!"]
FRONT_MATTER = """---
title: Formler
site: Morsø
'=HYPERLINK("http://x.invalid")': "=1+1"
"+kilde": "-1+2"
---
Ordstyrer: Hvad skete der?
Åse (frivillig): Vi drak kaffe.
"""


def frame_with_hidden_formulas() -> pd.DataFrame:
    """Text, label, memo and front-matter columns (header too) holding hidden formulas."""
    return pd.DataFrame({"text": HIDDEN, "code_label": HIDDEN[::-1], "memo": HIDDEN,
                         "turn": list(range(len(HIDDEN))), "\x01=cmd|' /C calc'!A0": HIDDEN,
                         "@attribut": HIDDEN})


def assert_no_live_cell(cells: list[str]) -> None:
    for value in cells:
        assert not value.startswith(export.FORMULA_START), repr(value)
        assert not export.CONTROL_RE.search(value), repr(value)


@pytest.mark.parametrize("dialect", [None, "excel-da"])
def test_csv_cells_and_headers_are_cleaned_then_neutralised(tmp_path: Path, dialect) -> None:
    out = tmp_path / "ud.csv"
    export.write(frame_with_hidden_formulas(), out, "csv", dialect)
    encoding, sep = ("utf-8-sig", ";") if dialect else ("utf-8", ",")
    with out.open(encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh, delimiter=sep))
    header, body = rows[0], rows[1:]
    assert header[-2:] == ["'=cmd|' /C calc'!A0", "'@attribut"]
    assert_no_live_cell(header)
    for row in body:
        assert_no_live_cell([row[0], row[1], row[2], row[4], row[5]])
    assert body[0][0] == "'=1+1" and body[3][0] == "'@SUM(A1)" and body[6][0] == "'\t=1"


def test_xlsx_has_no_formula_or_error_cell(tmp_path: Path) -> None:
    out = tmp_path / "ud.xlsx"
    export.write(frame_with_hidden_formulas(), out, "xlsx")
    sheet = openpyxl.load_workbook(out).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert {c.data_type for c in cells} <= {"s", "n"}
    assert_no_live_cell([c.value for c in cells if c.data_type == "s"])
    assert sheet["A2"].value == "'=1+1" and sheet["A10"].value == "#N/A"
    assert [c.value for c in sheet[1]][-2:] == ["'=cmd|' /C calc'!A0", "'@attribut"]


def test_xlsx_writer_never_writes_a_formula_even_unneutralised(tmp_path: Path) -> None:
    frame = pd.DataFrame({"=SUM(1)": ["=1+1", "#REF!", "x"]})
    out = tmp_path / "rå.xlsx"
    export._write_xlsx(frame, out)  # the writer alone, without neutralise_frame
    sheet = openpyxl.load_workbook(out).active
    assert [(c.value, c.data_type) for c in sheet["A"]] == [
        ("=SUM(1)", "s"), ("=1+1", "s"), ("#REF!", "s"), ("x", "s")]


@pytest.mark.parametrize(("fmt", "dialect"), [("csv", None), ("csv", "excel-da"),
                                              ("xlsx", None)])
def test_exported_memos_labels_and_front_matter_carry_no_formula(
        store, db_path: Path, tmp_path: Path, blank_nlp, fixtures: Path, runner, fmt,
        dialect) -> None:
    transcript = tmp_path / "formler.txt"
    transcript.write_text(FRONT_MATTER, encoding="utf-8")
    assert import_paths([transcript], store, lambda: blank_nlp).failed == 0
    spec = codebook.load(fixtures / "mini_kodebog.yaml")
    labelled = spec.codes[0].model_copy(update={"label": "\x01=1+1 kaffe"})
    spec = spec.model_copy(update={"codes": (labelled, *spec.codes[1:])})
    store.load_codebook(spec, "kodebog.yaml")
    code = store.codes()[0].key
    store.add_coding([s.id for s in store.segments(1)], code, "Åse", memo="\x03@SUM(A1)")
    out = tmp_path / f"ud.{fmt}"
    args = ["--db", str(db_path), "export", "--format", fmt, "--out", str(out)]
    result = runner.invoke(cli, args + (["--dialect", dialect] if dialect else []))
    assert result.exit_code == 0, result.output
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(out).active
        cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
        assert "f" not in {c.data_type for c in cells}
        values = [c.value for c in cells if c.data_type == "s"]
    else:
        encoding, sep = ("utf-8-sig", ";") if dialect else ("utf-8", ",")
        with out.open(encoding=encoding, newline="") as fh:
            values = [v for row in csv.reader(fh, delimiter=sep) for v in row]
    assert_no_live_cell(values)
    assert "'=1+1" in values and "'@SUM(A1)" in values and "'-1+2" in values
    assert "'=HYPERLINK(\"http://x.invalid\")" in values and "'+kilde" in values


# -- output paths that are not regular files ---------------------------------------------

@pytest.fixture
def small_db(tmp_path: Path, blank_nlp, fixtures: Path) -> Path:
    db = tmp_path / "lille.db"
    store = open_store(str(db))
    try:
        assert import_paths([fixtures / "kaffe_morsoe.txt"], store,
                            lambda: blank_nlp).failed == 0
        store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
        store.add_coding([s.id for s in store.segments(1)], "mek_kaffe", "Åse", memo="kaffe")
    finally:
        store.close()
    return db


OUTPUTS = [["export", "--out", "{out}"], ["export", "--format", "xlsx", "--out", "{out}"],
           ["backup", "{out}"], ["gold", "seed", "{gold}", "--out", "{out}"]]


def output_args(args: list[str], out: Path) -> list[str]:
    gold = Path(__file__).parent / "fixtures" / "gold"
    return [a.replace("{out}", str(out)).replace("{gold}", str(gold)) for a in args]


@pytest.mark.parametrize("args", OUTPUTS, ids=lambda a: " ".join(a[:3]))
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_fifo_or_device_target_is_refused_and_kept(small_db: Path, runner, tmp_path: Path,
                                                     args, kind: str) -> None:
    out = tmp_path / "mål"
    files = sorted([*os.listdir(tmp_path), "mål"])
    if kind == "fifo":
        os.mkfifo(out)
    else:
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(out, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    result = runner.invoke(cli, ["--db", str(small_db), *output_args(args, out)])
    assert_one_line(result, f"{out}: is not a regular file")
    mode = out.lstat().st_mode
    assert stat.S_ISFIFO(mode) if kind == "fifo" else stat.S_ISCHR(mode)
    assert sorted(os.listdir(tmp_path)) == files


@pytest.mark.parametrize("args", OUTPUTS, ids=lambda a: " ".join(a[:3]))
def test_a_symlink_target_is_followed_and_kept(small_db: Path, runner, tmp_path: Path,
                                               args) -> None:
    (tmp_path / "rigtig").mkdir()
    real = tmp_path / "rigtig" / "fil"
    real.write_text("gammelt indhold", encoding="utf-8")
    link = tmp_path / "genvej"
    link.symlink_to(real)
    result = runner.invoke(cli, ["--db", str(small_db), *output_args(args, link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == real
    assert real.read_bytes() != b"gammelt indhold" and real.stat().st_size > 0
    assert sorted(os.listdir(tmp_path / "rigtig")) == ["fil"]


# -- killed exports leave no temporary files --------------------------------------------

@pytest.fixture
def big_db(tmp_path: Path, blank_nlp, fixtures: Path) -> Path:
    """Enough coded text (2000 long turns, a suggestion on each) that an XLSX export takes
    a while."""
    db = tmp_path / "stor.db"
    transcript = tmp_path / "lang.txt"
    line = "Vi mødtes hver tirsdag over en kop kaffe i kælderen under biblioteket og " * 6
    transcript.write_text("".join(f"Åse: {line}\n\nBo: {line}\n\n" for _ in range(1000)),
                          encoding="utf-8")
    store = open_store(str(db))
    try:
        assert import_paths([transcript], store, lambda: blank_nlp).failed == 0
        store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
        ids = [s.id for s in store.segments(1)]
        store.write_suggestions([Suggestion(i, "mek_kaffe", "rules", 0.9, "kaffe") for i in ids],
                                segment_ids=ids, model_version="test", codebook_version=1)
    finally:
        store.close()
    return db


def _export_killed_while_writing(big_db: Path, out_dir: Path, tmp_dir: Path,
                                 signum) -> tuple[int, bytes] | None:
    """Start an XLSX export and send ``signum`` as soon as it has begun writing (its
    temporary file exists); None when it finished before the signal could land."""
    env = {**os.environ, "TMPDIR": str(tmp_dir)}
    args = [sys.executable, "-m", "evaltool.cli", "--db", str(big_db), "export", "--format",
            "xlsx", "--status", "all", "--out", str(out_dir / "citater.xlsx")]
    # a shell's background job starts with SIGINT ignored, and a child inherits that: give
    # the export the disposition an interactive user's process has
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not os.listdir(out_dir) and not os.listdir(tmp_dir) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.send_signal(signum)  # writing has begun: its file exists
    _, stderr = proc.communicate(timeout=120)
    if proc.returncode == 0:  # a quiet machine wrote the whole sheet first: try again
        (out_dir / "citater.xlsx").unlink()
        return None
    return proc.returncode, stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_killed_xlsx_export_leaves_no_temporary_files(big_db: Path, tmp_path: Path,
                                                        signum) -> None:
    out_dir, tmp_dir = tmp_path / "ud", tmp_path / "systemtemp"
    out_dir.mkdir()
    tmp_dir.mkdir()
    for _ in range(5):
        killed = _export_killed_while_writing(big_db, out_dir, tmp_dir, signum)
        if killed is not None:
            break
    else:
        pytest.fail("the export always finished before it could be interrupted")
    returncode, stderr = killed
    assert returncode != 0
    assert os.listdir(out_dir) == [] and os.listdir(tmp_dir) == []
    assert b"Traceback" not in stderr


def test_an_interrupt_just_after_the_temporary_folder_appears_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The moment the killed-export test above can hit on a loaded machine: the signal lands
    right after the temporary folder is made, before anything is written into it."""
    from evaltool import outfile

    made: list[str] = []
    real_mkdir = os.mkdir

    def mkdir_then_interrupt(path, mode=0o777, *args, **kwargs):
        real_mkdir(path, mode, *args, **kwargs)
        made.append(str(path))
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "mkdir", mkdir_then_interrupt)
    with pytest.raises(KeyboardInterrupt), outfile.replacing(tmp_path / "citater.csv") as tmp:
        tmp.write_text("never", encoding="utf-8")
    monkeypatch.undo()
    assert made and os.listdir(tmp_path) == []


# -- restore trusts nothing in the backup -------------------------------------------------

def damaged_backup(small_db: Path, tmp_path: Path, damage: str) -> Path:
    backup = tmp_path / f"{damage}.db"
    shutil.copy(small_db, backup)
    con = sqlite3.connect(backup, isolation_level=None)
    con.execute("PRAGMA foreign_keys=OFF")
    if damage == "no-codings":
        con.execute("DROP TABLE codings")
    elif damage == "missing-column":
        con.execute("ALTER TABLE codings DROP COLUMN memo")
    elif damage == "dangling":
        con.execute("UPDATE codings SET segment_id = 99999 WHERE id = (SELECT min(id) FROM codings)")
    elif damage == "damaged-page":
        root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'turns'").fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
        data = bytearray(backup.read_bytes())
        data[(root - 1) * size:(root - 1) * size + 12] = b"\xa5" * 12  # the page's header
        backup.write_bytes(bytes(data))
        return backup
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return backup


@pytest.mark.parametrize(("damage", "expected"), [
    ("no-codings", "lacks codings"), ("missing-column", "lacks codings.memo"),
    ("dangling", "rows point at missing rows"), ("damaged-page", "damaged")])
def test_restore_refuses_an_incomplete_or_damaged_backup(small_db: Path, runner, tmp_path: Path,
                                                         damage: str, expected: str) -> None:
    backup = damaged_backup(small_db, tmp_path, damage)
    live = tmp_path / "live.db"
    shutil.copy(small_db, live)
    before = content(live)
    result = runner.invoke(cli, ["--db", str(live), "restore", str(backup)])
    assert_one_line(result, str(backup), expected)
    assert content(live) == before
    assert not (tmp_path / "live.db.before-restore").exists()


def test_restore_from_a_fifo_does_not_hang(small_db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "backup.db"
    os.mkfifo(fifo)
    try:
        done = subprocess.run([sys.executable, "-m", "evaltool.cli", "--db", str(small_db),
                               "restore", str(fifo)], capture_output=True, text=True,
                              timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("restore from a FIFO hangs")
    assert done.returncode == 1
    assert done.stderr == f"Error: {fifo}: is not a regular file (a device, pipe or socket)\n"
