"""Store.data_version, the app's cache key: every kind of write changes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import codebook
from evaltool import nlp as nlp_mod
from evaltool import pseudonymize as ps
from evaltool.domain import Suggestion
from evaltool.importer import import_paths
from evaltool.store import open_store


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
