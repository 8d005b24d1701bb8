"""Store.data_version, the app's cache key: every kind of write changes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from evaltool import codebook
from evaltool import nlp as nlp_mod
from evaltool import pseudonymize as ps
from evaltool.domain import Suggestion
from evaltool.importer import import_paths
from evaltool.store import open_store
from evaltool.store.db import alembic_config, head_revision, make_engine
from evaltool.store.models import Base
from evaltool.store.version import UNVERSIONED, triggered_tables

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def versioned(coded_store, db_path: Path):
    """The coded store with machine suggestions, and a second store on the same file
    (the other process: CLI or a second server) that reads the version."""
    segs = [s.id for s in coded_store.segments(1)]
    coded_store.write_suggestions(
        [Suggestion(segs[0], "ctx_strategi", "rules", 0.9, "strategi"),
         Suggestion(segs[1], "mek_kaffe", "model", 0.7, "kaffe")],
        segment_ids=segs, model_version="m1", codebook_version=1)
    reader = open_store(str(db_path))
    yield coded_store, reader
    reader.close()


def _changes(reader, write) -> None:
    before = reader.data_version()
    write()
    assert reader.data_version() != before


def _first(store, status: str = "suggested"):
    return store.coding_views(status=status)[0]


def test_decisions_change_the_version(versioned) -> None:
    store, reader = versioned
    c = _first(store)
    _changes(reader, lambda: store.decide(c.id, "accept", "Åse"))
    _changes(reader, lambda: store.decide(c.id, "memo", "Åse", memo="ændret"))
    _changes(reader, lambda: store.decide(c.id, "reject", "Åse"))
    _changes(reader, lambda: store.decide(c.id, "recode", "Åse", code_key="udf_nye_brugere"))
    _changes(reader, lambda: store.undo_last("Åse"))
    seg = store.segments(2)[0].id
    _changes(reader, lambda: store.add_as("Åse", [seg], "mek_kaffe", memo="tilføjet"))
    _changes(reader, lambda: store.adjudicate(seg, "mek_kaffe", "reject", "Bo"))


def test_assignments_change_the_version(versioned) -> None:
    store, reader = versioned
    _changes(reader, lambda: store.assign(1, ["Anna", "Bo"]))
    _changes(reader, lambda: store.unassign(1, "Bo"))


def test_imports_deletes_and_codebooks_change_the_version(versioned, fixtures: Path,
                                                          model_nlp) -> None:
    store, reader = versioned
    _changes(reader, lambda: import_paths([fixtures / "navne.txt"], store, lambda: model_nlp))
    doc = store.get_document("navne.txt").id
    _changes(reader, lambda: import_paths([fixtures / "navne.txt"], store, lambda: model_nlp,
                                          replace=True))
    assert store.get_document("navne.txt").id != doc

    def delete() -> None:
        with store.document_writer() as writer:
            writer.delete(store.get_document("navne.txt").id)

    _changes(reader, delete)
    spec = codebook.load(fixtures / "mini_kodebog.yaml")
    _changes(reader, lambda: store.load_codebook(spec, "mini_kodebog.yaml"))


def test_pseudonymisation_and_restore_change_the_version(versioned, fixtures: Path,
                                                         model_nlp) -> None:
    store, reader = versioned
    import_paths([fixtures / "navne.txt"], store, lambda: model_nlp)
    doc = store.get_document("navne.txt").id
    ner = nlp_mod.load("ner")
    _changes(reader, lambda: ps.pseudonymize(store, doc, lambda: ner))
    _changes(reader, lambda: ps.restore(store, doc))
    _changes(reader, lambda: ps.pseudonymize(store, doc, lambda: ner))



def test_review_marks_and_models_change_the_version(versioned) -> None:
    """Writes with no event (a turn marked done, a trained model) are seen too."""
    store, reader = versioned
    _changes(reader, lambda: store.mark_done(1, "Åse", turn=1))
    _changes(reader, lambda: store.mark_done(1, "Åse", turn=1, done=False))
    _changes(reader, lambda: store.save_model("m2", {}, {"f1": 0.5}, b"model"))


def _sql(store, statement: str):
    def write() -> None:
        with store.engine.begin() as conn:
            conn.execute(text(statement))
    return write


def test_a_write_that_keeps_every_count_changes_the_version(versioned) -> None:
    """A writer that knows nothing of the version (another process, a future code path)
    changes what a page shows, with no row added or removed and no id or date moved."""
    store, reader = versioned
    _changes(reader, _sql(store, "UPDATE codes SET label = 'Kaffe på bordet' "
                                 "WHERE key = 'mek_kaffe'"))
    _changes(reader, _sql(store, "UPDATE speakers SET role = 'borger' WHERE id = 1"))
    _changes(reader, _sql(store, "UPDATE codings SET explanation = 'kaffe' WHERE id = 1"))


def test_every_table_bumps_the_version(any_store) -> None:
    """Each table of the schema has its triggers on both backends (a migration that copies
    a table on SQLite drops them: it must create them again, see store/version.py)."""
    tables = set(Base.metadata.tables) - set(UNVERSIONED)
    assert triggered_tables(any_store) == {(t, e) for t in tables
                                           for e in ("INSERT", "UPDATE", "DELETE")}


def test_the_version_moves_on_both_backends(any_store, blank_nlp) -> None:
    """A second store (another process) sees each write; a rolled-back write and a read
    leave it alone; a staged import changes it once, when the document is published."""
    store = any_store
    reader = open_store(store.engine.url.render_as_string(hide_password=False))
    try:
        before = reader.data_version()
        assert reader.data_version() == before  # reading is no write
        assert import_paths([FIXTURES / "kaffe_morsoe.txt"], store,
                            lambda: blank_nlp).failed == 0
        _changes(reader, lambda: store.add_project_memo("Åse", "Note"))
        _changes(reader, lambda: store.mark_done(1, "Åse"))
        _changes(reader, _sql(store, "UPDATE document_attributes SET value = '\"x\"'"))
        before = reader.data_version()
        with pytest.raises(RuntimeError), store.write() as conn:
            conn.execute(text("UPDATE speakers SET role = 'borger'"))
            raise RuntimeError("rolled back")
        store.list_documents()
        assert reader.data_version() == before
    finally:
        reader.close()


def test_an_upgraded_database_keeps_counting(coded_store, db_path: Path) -> None:
    """A database from before the counter (0017) gets it on upgrade, and it counts."""
    coded_store.close()
    engine = make_engine(f"sqlite:///{db_path}")
    with engine.connect() as conn:
        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            command.downgrade(alembic_config(conn), "0017")
    engine.dispose()
    store = open_store(str(db_path))
    reader = open_store(str(db_path))
    try:
        assert store.schema_version() == head_revision()
        _changes(reader, lambda: store.add_coding([store.segments(1)[0].id],
                                                  store.codes()[0].key, "Åse"))
    finally:
        store.close()
        reader.close()


def test_a_restore_moves_the_version_past_both_databases(coded_store, tmp_path: Path) -> None:
    """A restored backup has an older count: caches keyed on the live database's
    versions must not match it."""
    store = coded_store
    backup = tmp_path / "kopi.db"
    store.backup(backup)
    seen = {store.data_version()}
    for i in range(3):
        store.add_project_memo("Åse", f"Note {i}")
        seen.add(store.data_version())
    store.restore(backup)
    assert store.data_version() not in seen
