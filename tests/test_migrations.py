"""Upgrading a database with data in it keeps every row (SQLite alters tables by copying them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from evaltool.store import open_store
from evaltool.store.db import alembic_config, head_revision, make_engine

TABLES = ("documents", "speakers", "turns", "segments", "codebooks", "codes", "categories",
          "code_categories", "codings", "events", "coders")


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _downgrade(path: Path, revision: str) -> None:
    """Take a database back to an older schema (as if an older evaltool had written it)."""
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            command.downgrade(alembic_config(conn), revision)
    engine.dispose()


@pytest.mark.parametrize("revision", ["0003", "0004"])
def test_upgrade_of_a_coded_database_keeps_every_row(coded_store, db_path: Path,
                                                    revision: str) -> None:
    store = coded_store
    seg = store.turns(1)[0]  # a turn of the first document
    segments = [s.id for s in store.segments(1)][:3]
    store.add_coding(segments, store.codes()[0].key, "Åse")
    before = _counts(store.engine)
    text_before = store.document_text(1)
    assert before["codings"] == 3 and before["codes"] > 0 and before["events"] == 3
    store.close()

    _downgrade(db_path, revision)
    upgraded = open_store(str(db_path))
    assert upgraded.schema_version() == head_revision()
    assert _counts(upgraded.engine) == before
    assert upgraded.document_text(1) == text_before
    assert upgraded.turns(1)[0].text == seg.text
    with upgraded.engine.connect() as conn:  # the copied places match the segments
        wrong = conn.execute(text(
            "SELECT count(*) FROM codings c JOIN segments s ON s.id = c.segment_id "
            "JOIN turns t ON t.id = s.turn_id "
            "WHERE c.document_id != s.document_id OR c.turn_number != t.number")).scalar_one()
        schema = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'codings'")).scalar_one()
    assert wrong == 0
    assert "AUTOINCREMENT" in schema  # ids of deleted codings are never reused
    upgraded.close()


def test_upgrade_to_project_memos_keeps_memos_and_allows_project_memos(coded_store,
                                                                      db_path: Path) -> None:
    from alembic.script import ScriptDirectory

    store = coded_store
    seg = store.segments(1)[0]
    store.add_memo(seg.id, "Åse", "Note om sætningen")
    store.close()
    before_memos = ScriptDirectory.from_config(alembic_config()).get_revision("0012").down_revision
    _downgrade(db_path, before_memos)
    engine = make_engine(f"sqlite:///{db_path}")
    with engine.connect() as conn:  # the old schema: a memo needs a document
        columns = {r[1]: r[3] for r in conn.exec_driver_sql("PRAGMA table_info(memos)")}
        created = conn.exec_driver_sql("SELECT created_at FROM memos").scalar_one()
    engine.dispose()
    assert columns["document_id"] == 1 and "updated_at" not in columns

    upgraded = open_store(str(db_path))
    assert upgraded.schema_version() == head_revision()
    (old,) = upgraded.memos()
    assert (old.kind, old.segment_id, old.coder, old.text) == ("segment", seg.id, "Åse",
                                                              "Note om sætningen")
    with upgraded.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT updated_at FROM memos").scalar_one() == created
        schema = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'memos'")).scalar_one()
    assert "AUTOINCREMENT" in schema
    upgraded.add_project_memo("Åse", "Tværgående note")
    assert [m.kind for m in upgraded.memos()] == ["project", "segment"]
    upgraded.close()
