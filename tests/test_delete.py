"""Deleting a document: everything hanging off it goes in one transaction, the history
records who deleted what, and the other documents are untouched (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from evaltool.cli import cli
from evaltool.domain import DocumentDeletion, Suggestion
from evaltool.errors import NotFoundError
from evaltool.importer import import_paths
from evaltool.store.models import Assignment, Coding, Event, Segment, Speaker, Turn

C, K, N = "ctx_strategi", "mek_kaffe", "udf_nye_brugere"

ANDEN = """---
site: Morsø
---
Jens: Vi fik kaffe. Det hjalp.
Åse: Strategien var god.
"""


@pytest.fixture
def two_docs(team_store, tmp_path: Path, blank_nlp):
    """Document 1 (three turns, ten sentences) with suggestions, an accepted, a rejected and a
    memo'd one, a blind coder's layer; document 2 (two turns) with one accepted coding."""
    store = team_store
    path = tmp_path / "anden_morsoe.txt"
    path.write_text(ANDEN, encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    store.write_suggestions(
        [Suggestion(1, C, "rules", 0.9, "strategi"), Suggestion(2, K, "model", 0.7, "kaffe"),
         Suggestion(3, N, "combined", 0.8, "nye brugere"), Suggestion(4, K, "model", 0.6, "kaffe")],
        segment_ids=[s.id for s in store.segments(1)], model_version="m1", codebook_version=1)
    by_segment = {v.segment_id: v.id for v in store.coding_views(status="all", document_id=1)}
    store.decide(by_segment[1], "accept", "Anna")
    store.decide(by_segment[2], "reject", "Anna")
    store.decide(by_segment[3], "memo", "Bo", memo="Nye brugere?")
    store.assign(1, ["Carla"])
    store.decide_as("Carla", by_segment[4], "accept")  # copied to Carla's layer
    other = store.segments(2)[0].id
    store.add_coding([other], K, "Anna")
    return store


def _count(store, table, **where) -> int:
    stmt = select(func.count()).select_from(table)
    for column, value in where.items():
        stmt = stmt.where(getattr(table, column) == value)
    with store.engine.connect() as conn:
        return conn.scalar(stmt)


def test_delete_removes_everything_and_says_what(two_docs) -> None:
    store = two_docs
    before_other = store.coding_views(status="all", document_id=2)
    d = store.delete_document(1, actor="Lis")
    # 3 turns, 10 sentences; codings: 4 shared (1 accepted, 1 rejected, 1 memo'd, 1 open)
    # and Carla's accepted copy; human decisions are the 4 with a coder
    assert d == DocumentDeletion(1, "bibliotek_toender.txt", 3, 10, 5, 4, 1, d.event_id)
    assert [x.id for x in store.list_documents()] == [2]
    for table in (Turn, Segment, Speaker, Assignment):
        assert _count(store, table, document_id=1) == 0
    assert _count(store, Coding, document_id=1) == 0
    with pytest.raises(NotFoundError):
        store.get_document(1)
    assert store.coding_views(status="all", document_id=2) == before_other
    assert store.coding_views(status="all", layer="Carla") == []


def test_delete_is_recorded_in_the_history_without_text(two_docs) -> None:
    store = two_docs
    events_before = _count(store, Event)
    d = store.delete_document(1, actor="Lis")
    assert _count(store, Event) == events_before + 1  # the decisions' events stay too
    with store.engine.connect() as conn:
        ev = conn.execute(select(Event).where(Event.id == d.event_id)).one()
    assert ev.action == "delete_document" and ev.after is None and ev.coding_id is None
    assert ev.before == {"document_id": 1, "document": "bibliotek_toender.txt", "turns": 3,
                         "segments": 10, "codings": 5, "human_decisions": 4, "assignments": 1}
    assert "Lis" in store.coders()
    assert "kaffe" not in str(ev.before).lower()  # counts and the file name only


def test_delete_of_a_missing_document_writes_nothing(two_docs) -> None:
    store = two_docs
    events = _count(store, Event)
    with pytest.raises(NotFoundError):
        store.delete_document(99, actor="Lis")
    assert _count(store, Event) == events and len(store.list_documents()) == 2


def test_failed_delete_leaves_the_document_whole(two_docs, monkeypatch) -> None:
    store = two_docs
    before = store.coding_views(status="all", document_id=1)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(store), "_event", broken)  # fails after the rows are deleted
    with pytest.raises(RuntimeError):
        store.delete_document(1, actor="Lis")
    monkeypatch.undo()
    assert store.coding_views(status="all", document_id=1) == before
    assert store.get_document(1).segments == 10


def test_cli_delete_by_name_prints_the_counts(two_docs, team_db, runner) -> None:
    result = runner.invoke(cli, ["--db", team_db, "delete", "bibliotek_toender.txt",
                                 "--coder", "Lis"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "deleted document 1 (bibliotek_toender.txt): 3 turns, 10 segments, 5 codings, of which "
        "4 human decisions; recorded in the history by Lis")
    again = runner.invoke(cli, ["--db", team_db, "delete", "1", "--coder", "Lis"])
    assert again.exit_code == 1 and again.output.count("\n") == 1 and "no document" in again.output
    missing_coder = runner.invoke(cli, ["--db", team_db, "delete", "2"])
    assert missing_coder.exit_code == 2
    assert [d.id for d in two_docs.list_documents()] == [2]


def test_cli_history_lists_document_deletions(two_docs, team_db, runner) -> None:
    empty = runner.invoke(cli, ["--db", team_db, "history", "--documents"])
    assert empty.output.strip() == "no document was deleted or replaced"
    two_docs.delete_document(2, actor="Lis")
    result = runner.invoke(cli, ["--db", team_db, "history", "--documents"])
    assert result.exit_code == 0, result.output
    [row] = result.output.splitlines()[2:]
    assert row.split()[3] == "Lis" and row.endswith(
        "deleted document 2 (anden_morsoe.txt): 2 turns, 3 segments, 1 coding, of which "
        "1 human decision")
    neither = runner.invoke(cli, ["--db", team_db, "history"])
    assert neither.exit_code == 2 and "--segment ID or --documents" in neither.output
