"""`evaltool backup` of a live database and `evaltool restore`: consistent, refusing bad files."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from evaltool.autocode import run
from evaltool.cli import cli
from evaltool.errors import StoreError
from evaltool.store import open_store
from evaltool.store.db import head_revision
from tests.conftest import first_schema_database


def coding_state(db: Path, coding_id: int) -> tuple[int, int, str]:
    """(version, number of events, memo) of one coding, read straight from the file."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        version, memo = con.execute("SELECT version, memo FROM codings WHERE id = ?",
                                    (coding_id,)).fetchone()
        events = con.execute("SELECT count(*) FROM events WHERE coding_id = ?",
                             (coding_id,)).fetchone()[0]
    finally:
        con.close()
    return version, events, memo


@pytest.fixture
def suggested(coded_store, model_nlp):
    """The coded store after auto-coding."""
    run.run(coded_store, lambda: model_nlp)
    return coded_store


def test_backup_while_another_coder_writes(suggested, db_path: Path, runner, tmp_path: Path) -> None:
    target = suggested.coding_views(status="suggested")[0]
    writes = [0]
    stop = threading.Event()
    errors: list[BaseException] = []

    def coder() -> None:
        # another process's view of the same file: its own engine and connections
        other = open_store(str(db_path))
        version = target.version
        try:
            while not stop.is_set():
                n = writes[0] + 1
                # each save bumps the version and appends one event, in one transaction
                version = other.decide(target.id, "accept" if n % 2 else "reject", "Åse",
                                       expected_version=version, memo=f"runde {n}")
                writes[0] = n
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            other.close()

    thread = threading.Thread(target=coder)
    thread.start()
    copies = []
    try:
        for i in range(3):
            while writes[0] < 20 * (i + 1) and thread.is_alive():
                time.sleep(0.005)
            copy = tmp_path / f"kopi_{i}.db"
            before = writes[0]
            result = runner.invoke(cli, ["--db", str(db_path), "backup", str(copy)])
            assert result.exit_code == 0, result.output
            copies.append((copy, before, writes[0]))
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    for copy, before, after in copies:
        version, events, memo = coding_state(copy, target.id)
        # all or nothing per transaction: version, event count and memo agree
        assert version == target.version + events
        assert memo == f"runde {events}"
        assert before <= events <= after  # the copy was taken while the coder was writing
        copied = open_store(str(copy))
        assert copied.schema_version() == head_revision()
        assert len(copied.list_documents()) == 2
        copied.close()
    final_version, final_events, _ = coding_state(db_path, target.id)
    assert final_events == writes[0] > copies[-1][1]
    assert final_version == target.version + final_events


def test_restore_brings_the_backup_back(suggested, db_path: Path, runner, tmp_path: Path) -> None:
    copy = tmp_path / "før.db"
    assert runner.invoke(cli, ["--db", str(db_path), "backup", str(copy)]).exit_code == 0
    saved = [(v.id, v.status, v.version) for v in suggested.coding_views(status="all")]
    reader = open_store(str(db_path))  # open during the restore, like the app of a colleague
    assert len(reader.coding_views(status="all")) == len(saved)
    changed = suggested.coding_views(status="suggested")[0]
    suggested.decide(changed.id, "reject", "Bjørn", expected_version=changed.version,
                     memo="Forkert kode")

    result = runner.invoke(cli, ["--db", str(db_path), "restore", str(copy)])
    assert result.exit_code == 0, result.output
    assert f"restored {copy}" in result.output and ".before-restore" in result.output
    for s in (open_store(str(db_path)), reader, suggested):
        assert [(v.id, v.status, v.version) for v in s.coding_views(status="all")] == saved
    kept = open_store(str(db_path) + ".before-restore")
    now = next(v for v in kept.coding_views(status="all") if v.id == changed.id)
    assert (now.status, now.memo, now.coder) == ("rejected", "Forkert kode", "Bjørn")
    kept.close()
    reader.close()
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()


def _future_backup(path: Path, source: Path) -> None:
    """A backup made by a newer evaltool: a schema revision this code does not know."""
    src, dst = sqlite3.connect(source), sqlite3.connect(path)
    src.backup(dst)
    dst.execute("UPDATE alembic_version SET version_num = '9999_fremtid'")
    dst.commit()
    src.close()
    dst.close()


def test_restore_refuses_files_that_are_not_usable_backups(suggested, db_path: Path, runner,
                                                           tmp_path: Path) -> None:
    text = tmp_path / "noter.db"
    text.write_text("Ikke en database, bare æblegrød.\n", encoding="utf-8")
    foreign = tmp_path / "fremmed.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.commit()
    con.close()
    future = tmp_path / "fremtid.db"
    _future_backup(future, db_path)
    before = [(v.id, v.status) for v in suggested.coding_views(status="all")]
    cases = [(text, "not an SQLite database"), (foreign, "not an evaltool database"),
             (future, "newer than this evaltool"), (tmp_path / "findes_ikke.db", "cannot read")]
    for path, message in cases:
        result = runner.invoke(cli, ["--db", str(db_path), "restore", str(path)])
        assert result.exit_code == 1, result.output
        assert message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert [(v.id, v.status) for v in suggested.coding_views(status="all")] == before
    assert not Path(str(db_path) + ".before-restore").exists()


def test_restore_of_an_older_schema_upgrades_it(store, db_path: Path, runner,
                                                tmp_path: Path) -> None:
    old = first_schema_database(tmp_path / "gammel.db")
    result = runner.invoke(cli, ["--db", str(db_path), "restore", str(old)])
    assert result.exit_code == 0, result.output
    assert f"upgraded to schema {head_revision()}" in result.output
    assert store.schema_version() == head_revision()
    assert [(d.name, d.site) for d in store.list_documents()] == [("gammel.txt", "Morsø")]
    assert store.document_text(1) == "Hej med jer."


def test_backup_refuses_bad_targets(store, db_path: Path, runner, tmp_path: Path) -> None:
    for target, message in [(db_path, "is the database itself"),
                            (tmp_path, "is a folder"),
                            (tmp_path / "mangler" / "kopi.db", "does not exist")]:
        result = runner.invoke(cli, ["--db", str(db_path), "backup", str(target)])
        assert result.exit_code == 1 and message in result.output, result.output


@pytest.mark.postgres
def test_backup_and_restore_point_postgres_users_to_pg_tools(postgres_url: str,
                                                             tmp_path: Path) -> None:
    pg = open_store(postgres_url)
    with pytest.raises(StoreError, match="pg_dump"):
        pg.backup(tmp_path / "kopi.db")
    with pytest.raises(StoreError, match="pg_restore"):
        pg.restore(tmp_path / "kopi.db")
    pg.close()
