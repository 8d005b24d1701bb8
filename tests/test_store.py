"""The database: migrations equal the models, SQLite settings, upgrade safety."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from evaltool.errors import NotFoundError, StoreError
from evaltool.store import open_store
from evaltool.store.db import head_revision
from evaltool.store.models import Base
from evaltool.store.search import not_search_index
from tests.conftest import first_schema_database

# the search index's FTS5 tables are no ORM models (migration 0009)
SCHEMA_OPTS = {"include_name": not_search_index}


def test_migrations_create_exactly_the_models(store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=SCHEMA_OPTS), Base.metadata)
    assert diff == []
    assert store.schema_version() == head_revision()


def test_sqlite_runs_in_wal_with_foreign_keys(store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() > 0


def test_reopening_is_idempotent(db_path: Path) -> None:
    open_store(str(db_path)).close()
    store = open_store(str(db_path))
    assert store.schema_version() == head_revision()
    assert not Path(str(db_path) + ".bak").exists()  # nothing to upgrade, no backup


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not an evaltool database"):
        open_store(str(path))


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_store(str(tmp_path / "nope" / "x.db"))


def test_unknown_document_reference(store) -> None:
    with pytest.raises(NotFoundError, match=r"no document 'x\.txt'"):
        store.get_document("x.txt")


def _database_at(path: Path, revision: str):
    """A database created by the migrations up to ``revision`` only (an 'old' database)."""
    from alembic import command

    from evaltool.store.db import alembic_config, make_engine

    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    return engine


def test_upgrade_from_first_schema_keeps_documents(tmp_path: Path) -> None:
    path = first_schema_database(tmp_path / "old.db")
    store = open_store(str(path))
    assert store.schema_version() == head_revision()
    assert [(d.name, d.site, d.turns) for d in store.list_documents()] == [("gammel.txt", "Morsø", 1)]
    assert store.turns(1)[0].speaker == "Åse"
    backup = sqlite3.connect(str(path) + ".bak")  # copy taken before the upgrade
    assert backup.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    backup.close()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=SCHEMA_OPTS), Base.metadata)
    assert diff == []


@pytest.mark.parametrize("revision", ["0002", "0003", "0004", "0005"])
def test_upgrade_from_each_revision(tmp_path: Path, revision: str) -> None:
    path = tmp_path / f"r{revision}.db"
    _database_at(path, revision).dispose()
    store = open_store(str(path))
    assert store.schema_version() == head_revision()


def _old_document(engine, text: str, turns: list[str]) -> None:
    """One document stored with its text column (schema 0005) and its turns."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO documents (name, format, site, content_hash, text, model, imported_at) "
            "VALUES ('kaffe.txt', 'txt', 'Morsø', 'abc', ?, 'x', '2016-12-01')", (text,))
        conn.exec_driver_sql("INSERT INTO speakers (document_id, name, is_moderator) "
                             "VALUES (1, 'Åse', 0)")
        offset = 0
        for number, turn in enumerate(turns, start=1):
            conn.exec_driver_sql(
                "INSERT INTO turns (document_id, speaker_id, number, start_char, end_char, text) "
                "VALUES (1, 1, ?, ?, ?, ?)", (number, offset, offset + len(turn), turn))
            offset += len(turn) + 2


TURNS = ["Vi drak kaffe på Ærø.", "Så søgte vi puljen.\nOg fik svar.", "Øjvind kom også."]


def test_upgrade_to_0006_rebuilds_text_from_turns(tmp_path: Path) -> None:
    path = tmp_path / "r0005.db"
    engine = _database_at(path, "0005")
    text = "\n\n".join(TURNS)
    _old_document(engine, text, TURNS)
    engine.dispose()
    store = open_store(str(path))
    assert store.schema_version() == head_revision()
    assert store.document_text(1) == text
    for t in store.turns(1):
        assert text[t.start_char:t.end_char] == t.text
    with store.engine.connect() as conn:
        columns = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(documents)")]
        table = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'documents'").scalar()
    assert "text" not in columns
    assert "AUTOINCREMENT" in table  # ids are still never reused


def test_upgrade_to_0006_refuses_text_that_is_not_the_turns(tmp_path: Path) -> None:
    path = tmp_path / "r0005.db"
    engine = _database_at(path, "0005")
    _old_document(engine, "Noget helt andet.", TURNS)
    engine.dispose()
    with pytest.raises(StoreError, match="stored text of document 1 is not its turns joined"):
        open_store(str(path))
    con = sqlite3.connect(path)  # the upgrade was undone: old schema, rows intact
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == ("0005",)
    assert con.execute("SELECT text FROM documents").fetchone() == ("Noget helt andet.",)
    assert con.execute("SELECT count(*) FROM turns").fetchone() == (3,)
    con.close()


def test_downgrade_from_0006_fills_the_text_column(tmp_path: Path) -> None:
    from alembic import command

    from evaltool.store.db import alembic_config

    path = tmp_path / "r0005.db"
    engine = _database_at(path, "0005")
    _old_document(engine, "\n\n".join(TURNS), TURNS)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0006")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT text FROM documents").scalar() == "\n\n".join(TURNS)
        assert conn.exec_driver_sql("SELECT count(*) FROM turns").scalar() == 3
    engine.dispose()
