"""evaltool → QDPX → evaltool: documents, codes, codings (offsets), coders and memos come back
identical (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import codebook
from evaltool.importer import import_paths
from evaltool.refi.load import import_qdpx
from evaltool.refi.write import write_project
from evaltool.store import open_store


def _project(store, fixtures: Path, nlp) -> None:
    """The demo-like project: two transcripts, the mini codebook, sentence and span codings
    by two coders, one a suggestion left out of the export, memos of every kind."""
    summary = import_paths([fixtures / "kaffe_morsoe.txt", fixtures / "kaffe_aars.txt"], store,
                           lambda: nlp)
    assert summary.failed == 0
    store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    keys = [c.key for c in store.codes()]
    for doc in store.list_documents():
        segs = store.segments(doc.id)
        store.add_coding([segs[1].id], keys[0], "lise", memo="Stærkt citat")
        store.add_coding([segs[2].id], keys[1], "ole")
        text = store.document_text(doc.id)
        word = text.index("kaffe", segs[1].start_char) if "kaffe" in text[segs[1].start_char:] \
            else segs[3].start_char
        store.code_span(doc.id, word, word + 5, keys[2], coder="ole")
        store.add_memo(segs[0].id, "lise", "Godt spørgsmål")
        store.add_document_memo(doc.id, "ole", f"Om {doc.name}")
        store.set_attributes(doc.id, {"gender": "kvinde"}, speaker=store.turns(doc.id)[1].speaker)
    store.add_project_memo("lise", "Hele projektet: kaffe virker")


def _state(store) -> dict:
    docs = {d.id: d for d in store.list_documents()}
    return {
        "documents": sorted((d.name, d.site, d.date, d.title,
                             tuple(sorted((k, str(v)) for k, v in d.attributes.items())))
                            for d in docs.values()),
        "turns": sorted((docs[t.document_id].name, t.number, t.speaker, t.role,
                         t.is_moderator, t.start_char, t.end_char, t.text)
                        for d in docs for t in store.turns(d)),
        "speakers": sorted((docs[s.document_id].name, s.name, s.role, s.is_moderator,
                            tuple(sorted(s.attributes.items())))
                           for s in store.speaker_facets()),
        "codebook": store.active_codebook()["content"],
        "codings": sorted((docs[v.document_id].name, v.start, v.end, v.code_key, v.coder,
                           v.status, v.is_span, v.memo)
                          for v in store.coding_views(status="accepted")),
        "coders": sorted(store.coders()),
        "memos": sorted((m.kind, docs[m.document_id].name if m.document_id else None,
                         m.segment_id is not None, m.coder, m.text)
                        for m in store.memos() if m.kind != "coding"),
    }


def test_round_trip_keeps_the_project(any_store, fixtures, model_nlp, tmp_path) -> None:
    _project(any_store, fixtures, model_nlp)
    out = tmp_path / "projekt.qdpx"
    write_project(any_store, out)
    before = _state(any_store)
    target = open_store(str(tmp_path / "imported.db"))
    try:
        result = import_qdpx(target, out, model_nlp, strict=True)
        assert result.not_placed == [] and result.notes == []
        after = _state(target)
    finally:
        target.close()
    for key in before:
        assert after[key] == before[key], key
    assert len(before["codings"]) == 6 and len(before["memos"]) == 5


@pytest.mark.parametrize("status", ["accepted"])
def test_round_trip_counts(store, fixtures, model_nlp, tmp_path, status) -> None:
    _project(store, fixtures, model_nlp)
    out = tmp_path / "p.qdpx"
    summary = write_project(store, out, status=status)
    target = open_store(str(tmp_path / "t.db"))
    try:
        result = import_qdpx(target, out, model_nlp)
    finally:
        target.close()
    assert result.codings == result.selections == summary.codings
    assert result.documents == summary.documents
