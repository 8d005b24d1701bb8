"""evaltool → QDPX → evaltool: documents, codes, codings (offsets), coders and memos come back
identical (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import codebook
from evaltool.importer import import_paths
from evaltool.refi.load import import_qdpx, load_qdc
from evaltool.refi.write import write_codebook, write_project
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


def _codes(store) -> list[tuple]:
    return sorted((c.key, c.label, c.cmo, c.column, c.themes, c.goals, c.definition, c.retired,
                   c.parent) for c in store.codes(include_retired=True))


def test_round_trip_keeps_a_retired_code_and_its_codings(store, fixtures, model_nlp,
                                                         tmp_path) -> None:
    _project(store, fixtures, model_nlp)
    retired = store.codes()[1].key  # coded by ole in each document
    codebook.retire_code(store, retired, coder="lise")
    out = tmp_path / "p.qdpx"
    write_project(store, out)
    before, codes = _state(store), _codes(store)
    assert [c for c in codes if c[7]] and any(c[3] == retired for c in before["codings"])
    target = open_store(str(tmp_path / "t.db"))
    try:
        result = import_qdpx(target, out, model_nlp, strict=True)
        assert result.not_placed == []
        after, codes_after = _state(target), _codes(target)
    finally:
        target.close()
    assert codes_after == codes
    assert after["codings"] == before["codings"] and after["codebook"] == before["codebook"]


def test_qdc_round_trip_keeps_evaltools_codebook(store, fixtures, tmp_path) -> None:
    content = codebook.load(fixtures / "mini_kodebog.yaml").model_dump(mode="json")
    content["codes"][1] |= {"include": "Også te og kage.", "exclude": "Ikke møder uden kaffe."}
    content["codes"][2]["definition"] = "Borgere, der ikke kom før.\n\nDe bruger nu biblioteket."
    content["themes"][0]["description"] = "Hvad borgerne får ud af det"
    content["goals"][1]["description"] = "At kommunen ser biblioteket"
    spec = codebook.validate_content(content, "test")
    store.load_codebook(spec, "mini.yaml")
    out = tmp_path / "k.qdc"
    write_codebook(store, out)
    target = open_store(str(tmp_path / "t.db"))
    try:
        load_qdc(target, out, strict=True)
        after = target.active_codebook()["content"]
    finally:
        target.close()
    lost = ("patterns", "examples")  # a .qdc has no place for them (README)
    assert [{k: v for k, v in c.items() if k not in lost} for c in after["codes"]] == \
        [{k: v for k, v in c.items() if k not in lost} for c in content["codes"]]
    for key in ("themes", "goals", "columns"):
        assert after[key] == content[key], key
    assert [g["id"] for g in after["target_groups"]] == [g["id"] for g in content["target_groups"]]
