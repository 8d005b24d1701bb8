"""Faults outside import, through the CLI and the app: locked, read-only or full disks,
databases of a newer schema or no database at all, bad URLs, bad output paths and ids
beyond 64 bits. Each gives one line naming the problem and the exception class, exit 1,
no traceback, no transcript text, and the database unchanged."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaltool import codebook
from evaltool.cli import cli
from evaltool.importer import import_paths
from evaltool.store import db as store_db
from evaltool.store import open_store

ROOT = Path(__file__).parent.parent
# Transcript text and a memo: none of these words may appear in any error output.
SECRET_TURN = "Gudrun fortalte om Æblehavens hemmelige kaffeklub i kælderen."
SECRET_MEMO = "Memo om Gudruns kaffeklub"
SECRET_WORDS = ("Gudrun", "Æblehaven", "kaffeklub", "kælderen")
TRANSCRIPT = f"""---
title: Hemmeligt møde
site: Morsø
---
Ordstyrer: Hvad skete der i klubben?
Åse (frivillig): {SECRET_TURN}
"""
HUGE = "99999999999999999999"


@pytest.fixture
def small_db(tmp_path: Path, blank_nlp, fixtures: Path) -> Path:
    """A database with one document whose text and memo are the secrets above."""
    db = tmp_path / "lille.db"
    transcript = tmp_path / "hemmeligt.txt"
    transcript.write_text(TRANSCRIPT, encoding="utf-8")
    store = open_store(str(db))
    try:
        assert import_paths([transcript], store, lambda: blank_nlp).failed == 0
        store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
        seg = store.segments(1)[-1]
        store.add_coding([seg.id], "mek_kaffe", "Åse", memo=SECRET_MEMO)
    finally:
        store.close()
    return db


def content(db: Path) -> list[str]:
    """Everything the database holds, as SQL (to compare before and after)."""
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def assert_one_line(result, *expected: str) -> str:
    """Exit 1, one 'Error:' line naming the problem and the class, no traceback, no secrets."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [line for line in result.stderr.splitlines() if line]
    assert len(errors) == 1 and errors[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for word in (*SECRET_WORDS, "[parameters", "[SQL"):
        assert word not in result.output, result.output
    for text in expected:
        assert text in errors[0], errors[0]
    return errors[0]


def run(runner, db: Path | str, *args: str):
    return runner.invoke(cli, ["--db", str(db), *args])


# -- commands that open the database: every one of them must refuse a bad one ------------

DB_COMMANDS = [
    ["init"], ["list"], ["show", "1"], ["export", "--out", "{tmp}/ud.csv"],
    ["export", "--format", "xlsx", "--out", "{tmp}/ud.xlsx"], ["backup", "{tmp}/kopi.db"],
    ["restore", "{tmp}/kopi.db"], ["assign", "1", "--coder", "Bo"], ["assignments"],
    ["history", "--segment", "1"], ["undo", "--coder", "Åse"],
    ["adjudicate", "--segment", "1", "--code", "mek_kaffe", "--accept", "--coder", "Bo"],
    ["reliability", "--coders", "Åse", "Bo"], ["disagreements", "--coders", "Åse", "Bo"],
    ["codebook", "show"], ["gold", "load", "{tmp}"], ["pseudonymize", "1"], ["train"],
    ["autocode"],
]


def command(args: list[str], tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in args]


def newer_schema(db: Path) -> Path:
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '9999_fra_fremtiden'")
    con.commit()
    con.close()
    return db


@pytest.mark.parametrize("args", DB_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_database_of_a_newer_schema_is_refused_by_every_command(small_db: Path, runner,
                                                                   tmp_path: Path, args) -> None:
    newer_schema(small_db)
    before, files = content(small_db), sorted(os.listdir(tmp_path))
    result = run(runner, small_db, *command(args, tmp_path))
    assert_one_line(result, str(small_db), "newer evaltool")
    assert content(small_db) == before
    assert sorted(os.listdir(tmp_path)) == files  # no .bak, no output


def test_doctor_reports_a_newer_schema_on_its_line(small_db: Path, runner) -> None:
    newer_schema(small_db)
    result = run(runner, small_db, "doctor")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "database: " in result.output and "newer evaltool" in result.output


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty-header"])
@pytest.mark.parametrize("args", [["list"], ["show", "1"], ["export", "--out", "{tmp}/ud.csv"],
                                  ["assign", "1", "--coder", "Bo"], ["backup", "{tmp}/k.db"]],
                         ids=lambda a: a[0])
def test_a_garbage_or_truncated_database_file(small_db: Path, runner, tmp_path: Path,
                                              damage: str, args) -> None:
    data = small_db.read_bytes()
    bad = tmp_path / "skadet.db"
    bad.write_bytes({"garbage": uuid.uuid4().bytes * 300, "truncated": data[:6000],
                     "empty-header": b"SQLite format 3\x00" + b"\xff" * 2000}[damage])
    before = bad.read_bytes()
    result = run(runner, bad, *command(args, tmp_path))
    assert_one_line(result, str(bad), "DatabaseError")
    assert bad.read_bytes() == before


@pytest.mark.parametrize("url", ["foo://bar", "postgresql://u:hemmeligt@h:ikkeenport/db",
                                 "sqlite+nope:///x.db", "://"])
def test_an_invalid_database_url(runner, url: str) -> None:
    result = run(runner, url, "list")
    line = assert_one_line(result, "invalid database URL")
    assert "hemmeligt" not in line  # a password is never echoed


def test_a_database_locked_past_the_timeout(small_db: Path, runner, monkeypatch) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(small_db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        before = content(small_db)
        result = run(runner, small_db, "adjudicate", "--segment", "2", "--code", "mek_kaffe",
                     "--accept", "--coder", "Bo", "--memo", SECRET_MEMO)
        assert_one_line(result, "locked", "(OperationalError)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert content(small_db) == before


@pytest.mark.parametrize("args", [["show", HUGE], ["show", "1", "--turn", HUGE],
                                  ["history", "--segment", "-" + HUGE], ["history", "--segment", HUGE],
                                  ["adjudicate", "--segment", HUGE, "--code", "mek_kaffe",
                                   "--accept", "--coder", "Bo"],
                                  ["assign", HUGE, "--coder", "Bo"],
                                  ["export", "--code", HUGE, "--out", "{tmp}/ud.csv"]],
                         ids=lambda a: " ".join(a[:2]))
def test_ids_beyond_64_bits(small_db: Path, runner, tmp_path: Path, args) -> None:
    before = content(small_db)
    result = run(runner, small_db, *command(args, tmp_path))
    if args[0] == "export":  # a code id is a name: a long number is just no such code
        assert result.exit_code == 0, result.output
        return
    assert_one_line(result, "out of range", "(OverflowError)")
    assert content(small_db) == before


@pytest.mark.parametrize("args", [
    ["export", "--out", "{out}"], ["export", "--format", "xlsx", "--out", "{out}"],
    ["export", "--unit", "turn", "--dialect", "excel-da", "--out", "{out}"],
    ["backup", "{out}"], ["reliability", "--coders", "Åse", "Bo", "--json", "{out}"]],
    ids=lambda a: " ".join(a[:3]))
@pytest.mark.parametrize("where", ["missing-folder", "folder"])
def test_output_into_a_missing_folder_or_onto_a_folder(small_db: Path, runner, tmp_path: Path,
                                                       args, where: str) -> None:
    out = tmp_path / "mangler" / "ud.fil" if where == "missing-folder" else tmp_path / "mappe"
    if where == "folder":
        out.mkdir()
    files = sorted(os.listdir(tmp_path))
    result = run(runner, small_db, *[a.replace("{out}", str(out)) for a in args])
    if where == "folder":
        assert_one_line(result, f"{out}: is a folder", "(IsADirectoryError)")
        assert os.listdir(out) == []
    else:
        assert_one_line(result, f"{out.parent}: does not exist", "(FileNotFoundError)")
    assert sorted(os.listdir(tmp_path)) == files  # no temporary file left


# -- read-only and full disks: a small tmpfs (needs root, as `make test` runs) -------------

@contextmanager
def small_disk(tmp_path: Path, size: str = "4m") -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill the disk up to ``leave`` bytes."""
    fd = os.open(disk / "fyld", os.O_WRONLY | os.O_CREAT)
    try:
        while os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize > leave:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_a_read_only_database(small_db: Path, runner, tmp_path: Path) -> None:
    with small_disk(tmp_path) as disk:
        db = disk / "lille.db"
        shutil.copy(small_db, db)
        before = content(db)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        result = run(runner, db, "assign", "1", "--coder", "Bo")
        assert_one_line(result, str(db), "read-only", "(OperationalError)")
        result = run(runner, db, "export", "--out", str(disk / "ud.csv"))
        assert_one_line(result, str(disk / "ud.csv"), "read-only", "(OSError)")
        assert content(db) == before


def test_a_full_disk(small_db: Path, runner, tmp_path: Path) -> None:
    with small_disk(tmp_path) as disk:
        db = disk / "lille.db"
        shutil.copy(small_db, db)
        reader = sqlite3.connect(db)  # keeps the WAL's shared memory, as a running app does
        try:
            reader.execute("SELECT count(*) FROM turns").fetchall()
            before = content(db)
            fill(disk, leave=0)
            result = run(runner, db, "adjudicate", "--segment", "2", "--code", "mek_kaffe",
                         "--accept", "--coder", "Bo", "--memo", SECRET_MEMO * 2000)
            assert_one_line(result, str(db), "disk is full", "(OperationalError)")
            assert content(db) == before
            for args, cause in ((["export", "--status", "all", "--out", str(disk / "ud.csv")],
                                 "(OSError)"),
                                (["export", "--format", "xlsx", "--out", str(disk / "ud.xlsx")],
                                 "(OSError)"),
                                (["backup", str(disk / "kopi.db")], "(OperationalError)")):
                result = run(runner, db, *args)
                assert_one_line(result, f"{args[-1]}: the disk is full", cause)
                left = {n for n in os.listdir(disk) if not n.endswith(("-wal", "-shm"))}
                assert left == {"fyld", "lille.db"}  # no output, no temporary file
        finally:
            reader.close()
        assert content(db) == before
        # a real process: a failed XLSX write leaves no 'Exception ignored' tracebacks
        done = subprocess.run([sys.executable, "-m", "evaltool.cli", "--db", str(small_db),
                               "export", "--format", "xlsx", "--out", str(disk / "ud.xlsx")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 1
        assert done.stderr == f"Error: {disk / 'ud.xlsx'}: the disk is full; nothing was " \
                              "changed (OSError)\n"


# -- no transcript text or SQL parameters in any error output or log --------------------

def test_no_error_path_prints_transcript_text_or_parameters(small_db: Path, runner,
                                                            tmp_path: Path, monkeypatch,
                                                            caplog) -> None:
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 100)
    outputs = []
    holder = sqlite3.connect(small_db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:  # writes that would carry the turn or the memo as parameters
        for args in (["adjudicate", "--segment", "2", "--code", "mek_kaffe", "--accept",
                      "--coder", "Bo", "--memo", SECRET_TURN],
                     ["pseudonymize", "1"], ["undo", "--coder", "Åse"],
                     ["assign", "1", "--coder", "Bo"]):
            outputs.append(run(runner, small_db, "-v", *args))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    bad = tmp_path / "skadet.db"
    bad.write_bytes(small_db.read_bytes()[:8192])
    outputs.append(run(runner, bad, "-v", "export", "--out", str(tmp_path / "x.csv")))
    outputs.append(run(runner, small_db, "-v", "show", HUGE))
    outputs.append(run(runner, small_db, "-v", "export", "--out", str(tmp_path)))
    for result in outputs:
        assert result.exit_code == 1, result.output
        assert_one_line(result)
    assert not any(w in caplog.text for w in SECRET_WORDS), caplog.text


# -- the app: the same faults as one Danish line ----------------------------------------

@pytest.fixture
def app_env(monkeypatch):
    monkeypatch.delenv("EVALTOOL_MODE", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield monkeypatch
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.mark.parametrize(("damage", "danish", "cause"), [
    ("newer", "nyere version af evaltool", "(CommandError)"),
    ("garbage", "ikke en evaltool-database, eller den er beskadiget", "(DatabaseError)")])
def test_the_app_shows_one_danish_line(small_db: Path, app_env, damage: str, danish: str,
                                       cause: str) -> None:
    if damage == "newer":
        newer_schema(small_db)
    else:
        small_db.write_bytes(uuid.uuid4().bytes * 300)
    before = small_db.read_bytes()
    app_env.setenv("EVALTOOL_DB", str(small_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    text = at.error[0].value.replace("\\", "")  # shown Markdown-escaped
    assert danish in text and cause in text and "\n" not in text
    assert small_db.read_bytes() == before


def test_the_app_shows_a_fault_on_a_page_as_one_danish_line(small_db: Path, app_env,
                                                            monkeypatch) -> None:
    app_env.setenv("EVALTOOL_DB", str(small_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    before = content(small_db)
    small_db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)  # damaged under the app
    (small_db.parent / "lille.db-wal").unlink(missing_ok=True)
    st.cache_data.clear()
    at.switch_page("evaltool/ui/pages/dashboard.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("(DatabaseError)" in e.value.replace("\\", "") for e in at.error), \
        [e.value for e in at.error]
    assert not any(w in e.value for e in at.error for w in SECRET_WORDS)
    assert before  # the app's store was open on the file before it was damaged
