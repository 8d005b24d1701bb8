"""An import holds no write lock while it segments; its document appears whole or not at all."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from evaltool import codebook
from evaltool.errors import NotFoundError
from evaltool.importer import import_file, import_paths
from evaltool.store import Store, open_store
from evaltool.store.models import Document


def _long_transcript(path: Path, turns: int) -> Path:
    speakers = ["Ordstyrer", "Åse (bibliotekar)", "Bjørn (frivillig)"]
    lines = ["---", "title: Lang samtale", "site: Ærø", "---"]
    lines += [f"{speakers[i % 3]}: Tur {i} handlede om kaffe på biblioteket. Så kom flere."
              for i in range(turns)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _staged(store: Store) -> list[int]:
    return [doc_id for doc_id, _, _ in store.staged_documents()]


def test_readers_never_see_a_document_being_imported(any_store, fixtures, tmp_path, blank_nlp,
                                                     monkeypatch) -> None:
    from evaltool import importer

    store = any_store
    assert import_paths([fixtures / "kaffe_morsoe.txt"], store, lambda: blank_nlp).failed == 0
    store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    before = (store.list_documents(), store.data_version(), len(store.coding_units()))
    big = _long_transcript(tmp_path / "lang.txt", 12)
    monkeypatch.setattr(importer, "TURN_BATCH", 4)
    seen: list[int] = []

    def during(name: str, done: int, total: int) -> None:  # after each committed batch
        [staged] = _staged(store)
        seen.append(done)
        assert (store.list_documents(), store.data_version(), len(store.coding_units())) == before
        assert [d.name for d in store.document_facets()] == ["kaffe_morsoe.txt"]
        for ref in (staged, "lang.txt"):
            with pytest.raises(NotFoundError):
                store.get_document(ref)
        with pytest.raises(NotFoundError):
            store.document_text(staged)
        assert store.turns(staged) == [] and store.segments(staged) == []
        with store.document_writer() as writer:
            assert writer.find_by_name("lang.txt") == []
        with pytest.raises(NotFoundError):  # nobody can code it yet
            store.assign(staged, ["Åse"])

    summary = import_paths([big], store, lambda: blank_nlp, progress=during)
    assert summary.line() == "1 imported, 0 skipped, 0 failed"
    assert seen == [4, 8, 12]  # three batches, each committed before the next
    assert _staged(store) == []
    doc = store.get_document("lang.txt")
    assert (doc.turns, len(store.segments(doc.id))) == (12, 24)
    assert store.data_version() != before[1]


def test_a_coder_can_write_while_a_file_is_being_imported(db_path, fixtures, tmp_path, blank_nlp,
                                                           monkeypatch) -> None:
    """Between batches the import holds no lock: a decision goes through at once."""
    from evaltool import importer
    from evaltool.store import db

    store = open_store(str(db_path))
    assert import_paths([fixtures / "kaffe_morsoe.txt"], store, lambda: blank_nlp).failed == 0
    store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    segment = store.segments(1)[0].id
    code = store.codes()[0].key
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 1000)  # the coder's app gives up after 1 s
    coder = open_store(str(db_path))
    monkeypatch.setattr(importer, "TURN_BATCH", 4)
    written = []

    def during(name: str, done: int, total: int) -> None:
        if done < total:
            coder.add_coding([segment], code, "Åse", memo=f"mens importen kører {done}")
            written.append(done)

    summary = import_paths([_long_transcript(tmp_path / "lang.txt", 12)], store,
                           lambda: blank_nlp, progress=during)
    assert summary.line() == "1 imported, 0 skipped, 0 failed"
    assert written == [4, 8]
    coder.close()
    store.close()


def test_two_imports_of_the_same_content_do_not_both_succeed(any_store, fixtures, tmp_path,
                                                             blank_nlp, monkeypatch) -> None:
    """The second import, started while the first writes, fails at once; one that got past
    that check (a race) loses at the final flip and removes its rows."""
    from evaltool import importer
    from evaltool.store.documents import DocumentWriter

    store = any_store
    path = fixtures / "fokusgruppe.txt"
    copy = tmp_path / "kopi.txt"
    copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(importer, "TURN_BATCH", 2)
    inner: list = []

    def concurrent(name: str, done: int, total: int) -> None:
        if not inner:
            inner.append(import_file(copy, store, lambda: blank_nlp))

    [first] = import_paths([path], store, lambda: blank_nlp, progress=concurrent).results
    assert first.status == "imported"
    assert inner[0].status == "failed"
    assert inner[0].message == (f"{copy}: the same content is being imported by another process "
                                "right now; nothing stored")

    # the race: the other import does not see this one's staged rows and publishes first
    monkeypatch.setattr(DocumentWriter, "importing", lambda self, digest: [])
    text = path.read_text(encoding="utf-8").replace("tolv år", "elleve år")
    mine, theirs = tmp_path / "ny.txt", tmp_path / "ny2.txt"
    mine.write_text(text, encoding="utf-8")
    theirs.write_text(text, encoding="utf-8")
    inner.clear()

    def race(name: str, done: int, total: int) -> None:
        if not inner:
            inner.append(import_file(theirs, store, lambda: blank_nlp))

    [loser] = import_paths([mine], store, lambda: blank_nlp, progress=race).results
    assert inner[0].status == "imported"
    assert loser.status == "skipped"
    assert f"already imported as document {inner[0].document_id}" in loser.message
    assert [d.name for d in store.list_documents()] == ["fokusgruppe.txt", "ny2.txt"]
    assert _staged(store) == []
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM turns").scalar() == 12


def test_the_next_import_removes_what_a_dead_import_left(any_store, fixtures, blank_nlp) -> None:
    """Staged rows of a process that is gone go; those of a live import stay."""
    store = any_store
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    from evaltool.importer import import_owner

    host = import_owner().split(" ")[0]
    owners = {"død": f"{host} {dead}", "levende": import_owner(),
              "fjern_gammel": "anden.maskine 4242", "fjern_ny": "anden.maskine 4343"}
    ids = {}
    for label, owner in owners.items():
        with store.document_writer() as writer:
            ids[label] = writer.add_document(name=f"{label}.txt", fmt="txt", metadata={},
                                             content_hash=label, model="", owner=owner)
            writer.add_speakers(ids[label], [("Åse", None, False)])
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with store.write() as conn:  # another machine's import that stopped writing an hour ago
        conn.execute(update(Document).where(Document.id == ids["fjern_gammel"])
                     .values(imported_at=hour_ago))
    assert store.list_documents() == []
    summary = import_paths([fixtures / "afsnit.md"], store, lambda: blank_nlp)
    assert summary.line() == "1 imported, 0 skipped, 0 failed"
    assert _staged(store) == [ids["levende"], ids["fjern_ny"]]
    assert [d.name for d in store.list_documents()] == ["afsnit.md"]


def test_a_failed_import_leaves_no_rows(store, fixtures, blank_nlp, monkeypatch) -> None:
    from evaltool import importer

    class Broken:
        def __getattr__(self, name: str):  # everything but pipe as the real pipeline
            return getattr(blank_nlp, name)

        def pipe(self, items, **kwargs):
            yield from blank_nlp.pipe(list(items)[:3], **kwargs)
            raise MemoryError("simulated")

    monkeypatch.setattr(importer, "TURN_BATCH", 1)  # three batches are committed first
    [result] = import_paths([fixtures / "fokusgruppe.txt"], store, lambda: Broken()).results
    assert result.message.endswith(": unexpected error (MemoryError); nothing stored")
    with store.engine.connect() as conn:
        counts = [conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                  for t in ("documents", "speakers", "turns", "segments", "document_attributes")]
    assert counts == [0, 0, 0, 0, 0]


def test_long_turns_are_written_in_smaller_transactions(store, tmp_path, blank_nlp,
                                                        monkeypatch) -> None:
    """A batch ends at ``BATCH_CHARS`` of text, so one transaction stays short."""
    from evaltool import importer

    monkeypatch.setattr(importer, "BATCH_CHARS", 150)  # each turn here is about 60 characters
    seen: list[int] = []
    summary = import_paths([_long_transcript(tmp_path / "lang.txt", 12)], store,
                           lambda: blank_nlp, progress=lambda name, done, total: seen.append(done))
    assert summary.line() == "1 imported, 0 skipped, 0 failed"
    assert seen == [3, 6, 9, 12]
