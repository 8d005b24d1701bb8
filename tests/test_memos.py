"""Memos of every kind in one list: filters, writing, editing, deleting, who sees what
(on SQLite and PostgreSQL through ``team_store``)."""

from __future__ import annotations

import pytest

from evaltool.errors import AccessError, MemoError, NotFoundError
from evaltool.store.memos import MEMO_MAX


def _four_memos(store) -> dict[str, int]:
    """A coding memo (Åse), a segment memo (Bo), a document memo (Åse), a project memo (Bo)."""
    segs = store.segments(1)
    coding = store.add_coding([segs[0].id], "mek_kaffe", "Åse", memo="Kaffen som ÅBNER")
    seg_memo = store.add_memo(segs[1].id, "Bo", "Sætningen om strategien")
    doc_memo = store.add_document_memo(1, "Åse", "Tønder: kaffe virker")
    project = store.add_project_memo("Bo", "=Mekanisme går igen på tværs")
    return {"coding": coding[0], "segment": seg_memo, "document": doc_memo, "project": project}


def test_every_kind_is_listed_with_its_place(team_store) -> None:
    ids = _four_memos(team_store)
    memos = team_store.memos()
    assert [m.kind for m in memos] == ["project", "document", "coding", "segment"]
    by_kind = {m.kind: m for m in memos}
    assert {k: m.id for k, m in by_kind.items()} == ids
    coding = by_kind["coding"]
    first = team_store.segments(1)[0]
    assert (coding.document, coding.turn, coding.segment_id, coding.code_key, coding.coder,
            coding.text) == ("bibliotek_toender.txt", first_turn(team_store), first.id,
                             "mek_kaffe", "Åse", "Kaffen som ÅBNER")
    assert coding.code_label == "Kaffe og uformelt samvær" and coding.quote == first.text
    assert by_kind["segment"].quote == team_store.segments(1)[1].text
    assert by_kind["document"].turn is None and by_kind["document"].document_id == 1
    project = by_kind["project"]
    assert project.document_id is None and project.document is None and project.coder == "Bo"
    assert all(m.at is not None for m in memos)
    assert [m.editable for m in memos] == [True, True, False, True]


def first_turn(store) -> int:
    return store.turns(1)[0].number


def test_filters_by_kind_document_coder_code_and_text(team_store) -> None:
    _four_memos(team_store)

    def kinds(**filters) -> list[str]:
        return [m.kind for m in team_store.memos(**filters)]

    assert kinds(kinds=["document", "project"]) == ["project", "document"]
    assert kinds(document_id=1) == ["document", "coding", "segment"]
    assert kinds(document_id=99) == []
    assert kinds(coder="Bo") == ["project", "segment"]
    assert kinds(code_key="mek_kaffe") == ["coding"]
    assert kinds(code_key="ctx_strategi") == []
    assert kinds(contains="åbner") == ["coding"]  # case-insensitive, æøå too
    assert kinds(contains="KAFFE") == ["document", "coding"]
    assert kinds(kinds=["project"], coder="Åse") == []
    with pytest.raises(ValueError, match="unknown memo kind"):
        team_store.memos(kinds=["turn"])


def test_a_coding_memo_shows_once_written_and_goes_when_cleared(team_store) -> None:
    seg = team_store.segments(1)[2]
    (cid,) = team_store.add_coding([seg.id], "ctx_strategi", "Åse")
    assert team_store.memos() == []  # a coding without a memo is no memo
    team_store.decide_as("Åse", cid, "memo", memo="Strategi som ramme")
    assert [(m.kind, m.text) for m in team_store.memos()] == [("coding", "Strategi som ramme")]
    team_store.decide_as("Åse", cid, "memo", memo="")
    assert team_store.memos() == []


def test_edit_and_delete_only_ones_own_memos(team_store) -> None:
    ids = _four_memos(team_store)
    before = team_store.data_version()
    team_store.edit_memo(ids["document"], "Åse", "  Tønder: kaffe og kage virker  ")
    assert team_store.data_version() != before  # the app's caches see the edit
    doc = next(m for m in team_store.memos() if m.kind == "document")
    assert doc.text == "Tønder: kaffe og kage virker"
    with pytest.raises(AccessError):
        team_store.edit_memo(ids["document"], "Bo", "overskrevet")
    with pytest.raises(AccessError):
        team_store.delete_memo(ids["project"], "Åse")
    with pytest.raises(NotFoundError):
        team_store.delete_memo(9999, "Åse")
    assert {m.text for m in team_store.memos(kinds=["document", "project"])} == {
        "Tønder: kaffe og kage virker", "=Mekanisme går igen på tværs"}
    before = team_store.data_version()
    team_store.delete_memo(ids["project"], "Bo")
    assert team_store.data_version() != before
    assert [m.kind for m in team_store.memos()] == ["document", "coding", "segment"]


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (MEMO_MAX + 1)])
def test_empty_or_overlong_memo_is_refused_and_nothing_written(team_store, text: str) -> None:
    ids = _four_memos(team_store)
    before = [(m.kind, m.text) for m in team_store.memos()]
    with pytest.raises(MemoError, match="memo: "):
        team_store.add_project_memo("Åse", text)
    with pytest.raises(MemoError):
        team_store.add_document_memo(1, "Åse", text)
    with pytest.raises(MemoError):
        team_store.edit_memo(ids["document"], "Åse", text)
    with pytest.raises(NotFoundError):
        team_store.add_document_memo(42, "Åse", "om et dokument, der ikke findes")
    assert [(m.kind, m.text) for m in team_store.memos()] == before


def test_project_memos_outlive_a_deleted_document(team_store, team_db: str, runner) -> None:
    from evaltool.cli import cli

    _four_memos(team_store)
    assert team_store.deletion_preview(1).memos == 2  # the document's and the sentence's
    result = runner.invoke(cli, ["--db", team_db, "delete", "1", "--coder", "Åse"])
    assert result.exit_code == 0 and "1 human decision, 2 memos; recorded" in result.output
    assert [(m.kind, m.text) for m in team_store.memos()] == [
        ("project", "=Mekanisme går igen på tværs")]


def test_a_blind_coder_sees_only_their_own_memos_on_the_document(team_store) -> None:
    _four_memos(team_store)
    team_store.assign(1, ["Åse", "Bo"], blind=True)
    seg = team_store.segments(1)[3]
    team_store.add_as("Bo", [seg.id], "ctx_strategi", memo="Bos blinde note")
    everything = {m.text for m in team_store.memos()}
    assert "Bos blinde note" in everything  # the CLI and the lead see every layer
    seen_by_aase = {m.text for m in team_store.memos(visible_to="Åse")}
    assert seen_by_aase == {"Kaffen som ÅBNER", "Tønder: kaffe virker",
                            "=Mekanisme går igen på tværs"}
    seen_by_bo = {m.text for m in team_store.memos(visible_to="Bo")}
    assert seen_by_bo == {"Sætningen om strategien", "Bos blinde note",
                          "=Mekanisme går igen på tværs"}


def test_a_span_codings_memo_quotes_the_span(team_store) -> None:
    text = team_store.document_text(1)
    start = text.index("satte kaffe")
    team_store.code_span(1, start, start + len("satte kaffe"), "mek_kaffe", coder="Åse",
                         memo="Kaffen som handling")
    (memo,) = team_store.memos()
    assert (memo.kind, memo.quote, memo.text) == ("coding", "satte kaffe", "Kaffen som handling")


def test_a_reimport_keeps_the_documents_memos(team_store, tmp_path, blank_nlp) -> None:
    from evaltool.importer import import_paths
    from tests.test_replace import EDITED

    segs = {s.text: s.id for s in team_store.segments(1)}
    team_store.add_document_memo(1, "Åse", "Om hele dokumentet")
    team_store.add_memo(segs["Vi satte kaffe på bordet."], "Åse", "Om kaffen")
    team_store.add_memo(segs["Strategien var klar."], "Åse", "Om strategien")  # reworded
    team_store.add_project_memo("Åse", "Om projektet")
    path = tmp_path / "bibliotek_toender.txt"
    path.write_text(EDITED, encoding="utf-8")
    [result] = import_paths([path], team_store, lambda: blank_nlp, replace=True).results
    assert result.status == "imported", result.message
    new = {s.id: s.text for s in team_store.segments(result.document_id)}
    got = {m.text: (m.kind, m.document_id, new.get(m.segment_id)) for m in team_store.memos()}
    assert got == {
        "Om hele dokumentet": ("document", result.document_id, None),
        "Om kaffen": ("segment", result.document_id, "Vi satte kaffe på bordet."),
        "Om strategien": ("document", result.document_id, None),  # its sentence is gone
        "Om projektet": ("project", None, None)}


def test_every_memo_write_is_a_history_event_with_who_and_when(team_store) -> None:
    ids = _four_memos(team_store)
    seg = team_store.segments(1)[1]
    team_store.edit_memo(ids["segment"], "Bo", "Strategien, ikke kaffen")
    team_store.edit_memo(ids["document"], "Åse", "Tønder: kaffe virker")  # the same text
    team_store.delete_memo(ids["project"], "Bo")
    said = [(e.action, e.coder, (e.after or e.before)["kind"], (e.before or {}).get("memo"),
             (e.after or {}).get("memo")) for e in team_store.memo_history()]
    assert said == [
        ("memo_add", "Bo", "segment", None, "Sætningen om strategien"),
        ("memo_add", "Åse", "document", None, "Tønder: kaffe virker"),
        ("memo_add", "Bo", "project", None, "=Mekanisme går igen på tværs"),
        ("memo_edit", "Bo", "segment", "Sætningen om strategien", "Strategien, ikke kaffen"),
        ("memo_delete", "Bo", "project", "=Mekanisme går igen på tværs", None)]
    assert all(e.at is not None for e in team_store.memo_history())
    # the segment's memo is in the segment's history, beside its codings' events
    history = [(e.action, (e.after or {}).get("memo")) for e in team_store.history(seg.id)]
    assert history == [("memo_add", "Sætningen om strategien"),
                       ("memo_edit", "Strategien, ikke kaffen")]
    # a coding's memo is an event of its coding, written with the decision
    (cid,) = team_store.add_coding([seg.id], "ctx_strategi", "Åse", memo="Strategi som ramme")
    team_store.decide_as("Åse", cid, "memo", memo="Strategi som ramme, ikke mål")
    assert [(e.action, e.coder, e.after["memo"]) for e in team_store.history(seg.id)
            if e.coding_id == cid] == [("add", "Åse", "Strategi som ramme"),
                                       ("memo", "Åse", "Strategi som ramme, ikke mål")]


def test_a_refused_memo_write_records_no_event_and_undo_skips_memos(team_store) -> None:
    ids = _four_memos(team_store)
    before = team_store.memo_history()
    with pytest.raises(AccessError):
        team_store.edit_memo(ids["document"], "Bo", "overskrevet")
    with pytest.raises(AccessError):
        team_store.delete_memo(ids["project"], "Åse")
    with pytest.raises(MemoError):
        team_store.add_project_memo("Åse", " ")
    assert team_store.memo_history() == before
    # a memo of the memos table is no decision: undo takes back Åse's coding, not her memo
    team_store.add_document_memo(1, "Åse", "Efter kodningen")
    (undone,) = team_store.undo_last("Åse")
    assert undone.coding_id == ids["coding"]
    assert "Efter kodningen" in {m.text for m in team_store.memos()}


def test_the_cli_history_names_a_memo_write_but_never_its_text(team_store, team_db: str,
                                                                 runner) -> None:
    from evaltool.cli import cli

    seg = team_store.segments(1)[1]
    memo_id = team_store.add_memo(seg.id, "Bo", "Sætningen om strategien")
    team_store.edit_memo(memo_id, "Bo", "Strategien, ikke kaffen")
    result = runner.invoke(cli, ["--db", team_db, "history", "--segment", str(seg.id)])
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()[2:]
    assert [r.split()[4] for r in rows] == ["memo_add", "memo_edit"]
    assert rows[0].split()[3] == "Bo" and f"segment memo {memo_id} written" in rows[0]
    assert f"segment memo {memo_id} edited" in rows[1]
    assert "strategien" not in result.output.lower()
