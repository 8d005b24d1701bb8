"""Re-importing a document (`ingest --replace`) keeps human work: codings go to the identical
sentences of the new import, a replace that would lose human decisions is refused (nothing
changed) unless they are discarded, and all of it is one transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from evaltool.cli import cli
from evaltool.domain import Suggestion, UncarriedCoding
from evaltool.importer import import_paths
from evaltool.store.models import Event

C, K, N = "ctx_strategi", "mek_kaffe", "udf_nye_brugere"

# The fixture transcript (tests/conftest.py BIBLIOTEK) edited: a turn added at the start,
# "Der kom nye brugere." moved from Mette's turn to the end of Søren's, and
# "Strategien var klar." reworded. Every other sentence is as it was.
EDITED = """---
title: Kaffe på biblioteket
site: Tønder
---
[00:00:01] Mette (bibliotekar): Velkommen til.
[00:00:05] Mette (bibliotekar): Kommunens strategi gav os ryg. Vi satte kaffe på bordet.
[00:00:30] Søren (frivillig): Kaffen var god. Strategien var ny. Det var hyggeligt. Der kom nye brugere.
[00:01:00] Åse (borger): Jeg fik lånerkort. Kagen var lækker. Vi talte længe. Tak for i dag.
"""
SENTENCES = ["Kommunens strategi", "Vi satte kaffe", "Der kom nye brugere", "Kaffen var god",
             "Strategien var", "Det var hyggeligt"]


@pytest.fixture
def coded(team_store):
    """Suggestions on sentences 1-5; Anna accepted 1, Bo rejected 2 and wrote a memo on 3;
    Carla (blind) accepted 4 in her layer; 5 ("Strategien var klar.") is an open suggestion."""
    store = team_store
    store.write_suggestions(
        [Suggestion(1, C, "rules", 0.9, "strategi"), Suggestion(2, K, "model", 0.7, "kaffe"),
         Suggestion(3, N, "combined", 0.8, "nye brugere"), Suggestion(4, K, "model", 0.6, "kaffe"),
         Suggestion(5, C, "rules", 0.5, "strategi")],
        segment_ids=[s.id for s in store.segments(1)], model_version="m1", codebook_version=1)
    ids = {v.segment_id: v.id for v in store.coding_views(status="all", document_id=1)}
    store.decide(ids[1], "accept", "Anna")
    store.decide(ids[2], "reject", "Bo")
    store.decide(ids[3], "memo", "Bo", memo="Nye brugere?")
    store.assign(1, ["Carla"])
    store.decide_as("Carla", ids[4], "accept")
    return store


def _edit(tmp_path: Path) -> Path:
    path = tmp_path / "bibliotek_toender.txt"  # the name the fixture imported it under
    path.write_text(EDITED, encoding="utf-8")
    return path


def _by_text(store, document_id: int, layer: str = "") -> dict[str, tuple]:
    """Sentence text → (id, turn, code, status, coder, memo) of its codings."""
    out = {}
    text = store.document_text(document_id)
    for v in store.coding_views(status="all", document_id=document_id, layer=layer):
        assert text[v.start_char:v.end_char] == v.text  # offsets from the new document
        out[v.text] = (v.id, v.turn, v.code_key, v.status, v.coder, v.memo)
    return out


def _snapshot(store) -> tuple:
    with store.engine.connect() as conn:
        events = conn.scalar(select(func.count()).select_from(Event))
    return ([(d.id, d.name, d.turns, d.segments) for d in store.list_documents()],
            store.coding_views(status="all"), store.coding_views(status="all", layer="Carla"),
            store.assignments(), events)


def test_replace_carries_codings_to_identical_sentences(coded, tmp_path, blank_nlp) -> None:
    store = coded
    old = _by_text(store, 1)
    old_carla = _by_text(store, 1, "Carla")
    [result] = import_paths([_edit(tmp_path)], store, lambda: blank_nlp, replace=True).results
    assert result.status == "imported", result.message
    new_id = result.document_id
    assert [d.id for d in store.list_documents()] == [new_id] != [1]
    carry = result.carry
    assert (carry.replaced, carry.carried, carry.carried_human, carry.moved, carry.assignments) == (
        (1,), 5, 4, 1, 1)
    assert carry.not_carried == (UncarriedCoding(1, 5, 2, 1, C, "", "suggested", False),)
    new = _by_text(store, new_id)
    # same coding rows (ids), decisions, coders and memos; turn numbers of the new document
    assert new == {
        "Kommunens strategi gav os ryg.": (old["Kommunens strategi gav os ryg."][0], 2, C,
                                           "accepted", "Anna", ""),
        "Vi satte kaffe på bordet.": (old["Vi satte kaffe på bordet."][0], 2, K, "rejected",
                                      "Bo", ""),
        "Der kom nye brugere.": (old["Der kom nye brugere."][0], 3, N, "suggested", "Bo",
                                 "Nye brugere?"),  # moved to Søren's turn
        "Kaffen var god.": (old["Kaffen var god."][0], 3, K, "suggested", None, ""),
    }
    assert _by_text(store, new_id, "Carla") == {
        "Kaffen var god.": (old_carla["Kaffen var god."][0], 3, K, "accepted", "Carla", "")}
    assert [(a.document_id, a.coder, a.blind) for a in store.assignments()] == [
        (new_id, "Carla", True)]
    assert "m: 3 turns" not in result.message and "5 codings carried over (4 human)" in result.message


def test_carried_coding_keeps_its_history_and_can_be_undone(coded, tmp_path, blank_nlp) -> None:
    store = coded
    [result] = import_paths([_edit(tmp_path)], store, lambda: blank_nlp, replace=True).results
    seg = next(s.id for s in store.segments(result.document_id)
               if s.text == "Kommunens strategi gav os ryg.")
    assert [(e.action, e.coder, e.code_key) for e in store.history(seg)] == [
        ("accept", "Anna", C), ("carry", None, C)]
    store.undo_last("Anna")  # the decision made before the re-import
    assert [(v.status, v.coder) for v in store.coding_views(status="all", segment_ids=[seg])] == [
        ("suggested", None)]


def test_replace_refused_when_human_decisions_would_be_lost(coded, tmp_path, blank_nlp) -> None:
    store = coded
    five = next(v.id for v in store.coding_views(status="all", segment_ids=[5]))
    store.decide(five, "accept", "Anna", memo="Klar strategi.")  # on the reworded sentence
    before = _snapshot(store)
    [result] = import_paths([_edit(tmp_path)], store, lambda: blank_nlp, replace=True).results
    assert result.status == "failed" and "\n" not in result.message
    assert result.message.startswith(str(_edit(tmp_path)))
    assert "lose 1 human decision(s)" in result.message
    assert "turn 2 sentence 2 ctx_strategi" in result.message and "--discard-decisions" in result.message
    assert result.carry.human_lost == 1 and result.carry.not_carried[0].segment_id == 5
    assert _snapshot(store) == before  # the old document and its codings exactly as they were
    assert not any(s in result.message for s in SENTENCES)


def test_discard_decisions_replaces_and_lists_what_was_lost(coded, team_db, tmp_path,
                                                            runner, blank_nlp, monkeypatch) -> None:
    from evaltool import nlp

    store = coded
    five = next(v.id for v in store.coding_views(status="all", segment_ids=[5]))
    store.decide(five, "accept", "Anna")
    monkeypatch.setattr(nlp, "load", lambda purpose: blank_nlp)
    path = _edit(tmp_path)
    refused = runner.invoke(cli, ["--db", team_db, "ingest", str(path), "--replace"])
    assert refused.exit_code == 1
    assert [line for line in refused.output.splitlines() if line.startswith("failed")] == [
        f"failed: {path}: re-importing would lose 1 human decision(s) that no identical sentence "
        "can take over (turn 2 sentence 2 ctx_strategi); nothing changed (use "
        "--discard-decisions to replace anyway)"]
    assert [d.id for d in store.list_documents()] == [1]
    done = runner.invoke(cli, ["--db", team_db, "ingest", str(path), "--replace",
                               "--discard-decisions"])
    assert done.exit_code == 0, done.output
    assert "  not carried over: document 1 turn 2 sentence 2 ctx_strategi (human decision, " \
           "accepted)" in done.output.splitlines()
    assert "5 codings carried over (4 human), 1 not carried (1 human)" in done.output
    assert not any(s in done.output + refused.output for s in SENTENCES)
    [doc] = store.list_documents()
    with store.engine.connect() as conn:
        ev = conn.execute(select(Event).where(Event.action == "replace_document")).one()
    assert ev.after == {"document_id": doc.id, "carried": 5, "carried_human": 4, "moved": 1,
                        "not_carried": 1, "human_lost": 1}
    history = runner.invoke(cli, ["--db", team_db, "history", "--documents"])
    assert history.output.splitlines()[-1].endswith(
        f"replaced document 1 (bibliotek_toender.txt) by {doc.id}: 5 codings carried over "
        "(4 human), 1 not carried (1 human)")
    wrong = runner.invoke(cli, ["--db", team_db, "ingest", str(path), "--discard-decisions"])
    assert wrong.exit_code == 2


def test_same_content_replaced_carries_everything(coded, tmp_path, blank_nlp) -> None:
    from tests.conftest import BIBLIOTEK

    store = coded
    old = {k: v[2:] for k, v in _by_text(store, 1).items()}
    path = tmp_path / "kopi.txt"
    path.write_text(BIBLIOTEK, encoding="utf-8")
    [result] = import_paths([path], store, lambda: blank_nlp, replace=True).results
    assert (result.carry.carried, result.carry.moved, result.carry.not_carried) == (6, 0, ())
    assert {k: v[2:] for k, v in _by_text(store, result.document_id).items()} == old


def test_failure_during_carry_over_leaves_the_old_document(coded, tmp_path, blank_nlp,
                                                           monkeypatch) -> None:
    from evaltool.store import lifecycle

    store = coded
    before = _snapshot(store)

    def broken(conn, document_id):
        raise RuntimeError("disk full")

    # fails after the codings were pointed at the new sentences, before the old document goes
    monkeypatch.setattr(lifecycle, "document_counts", broken)
    [result] = import_paths([_edit(tmp_path)], store, lambda: blank_nlp, replace=True).results
    assert result.status == "failed" and "RuntimeError" in result.message
    monkeypatch.undo()
    assert _snapshot(store) == before


def test_common_order_aligns_identical_sentences_in_order() -> None:
    from evaltool.store.lifecycle import common_order

    old = ["K", "V", "D", "Ka", "S", "Dv", "J"]
    new = ["Vel", "K", "V", "Ka", "S2", "Dv", "D", "J"]
    assert common_order(old, new) == [(0, 1), (1, 2), (3, 3), (5, 5), (6, 7)]  # D moved
    assert common_order(["Ja."] * 3, ["Ja."] * 2) == [(0, 0), (1, 1)]
    assert common_order([], ["a"]) == [] == common_order(["a"], ["b"])
    # no sentence occurs once: the exact longest common subsequence
    assert common_order(["Ja.", "Nej.", "Ja.", "Nej."], ["Nej.", "Ja.", "Ja.", "Nej."]) == [
        (1, 0), (2, 2), (3, 3)]
    # two unique sentences swapped: one stays in order, the other is left for the "moved" pass
    a = ["Hej.", "Ja.", "Kaffe.", "Ja.", "Kage.", "Ja."]
    b = ["Hej.", "Ja.", "Kage.", "Ja.", "Kaffe.", "Ja."]
    assert common_order(a, b) == [(0, 0), (1, 1), (4, 2), (5, 5)]


def test_done_marks_follow_unchanged_turns(coded, tmp_path, blank_nlp) -> None:
    store = coded
    store.mark_done(1, "Bo", turn=3)  # Åse's turn: unchanged, turn 4 in the new document
    store.mark_done(1, "Bo", turn=2)  # Søren's turn: reworded, the review no longer holds
    store.mark_done(1, "Carla")  # the whole document, in her blind layer
    [result] = import_paths([_edit(tmp_path)], store, lambda: blank_nlp, replace=True).results
    assert (result.carry.marks, result.carry.marks_dropped) == (2, 1)
    assert store.done_marks(result.document_id, "Bo") == {4}
    assert store.done_marks(result.document_id, "Carla") == {None}
