"""Assignments and blind double coding: each coder works in their own layer, unseen."""

from __future__ import annotations

import pytest

from evaltool.cli import cli
from evaltool.domain import Suggestion
from evaltool.errors import AccessError, ConflictError

C, K, N = "ctx_strategi", "mek_kaffe", "udf_nye_brugere"


@pytest.fixture
def suggested(team_store):
    """Machine suggestions on segments 1 (strategi), 2 (kaffe) and 3 (nye brugere)."""
    team_store.write_suggestions(
        [Suggestion(1, C, "rules", 0.9, "strategi"), Suggestion(2, K, "model", 0.7, "kaffe"),
         Suggestion(3, N, "combined", 0.8, "nye brugere")],
        segment_ids=[s.id for s in team_store.segments(1)], model_version="m1", codebook_version=1)
    return team_store


def _view(store, coder: str) -> list[tuple]:
    return [(v.segment_id, v.code_key, v.status, v.layer, v.coder)
            for v in store.coder_view(1, coder)]


def _shared_id(store, segment: int) -> int:
    return store.coding_views(status="all", segment_ids=[segment])[0].id


def test_assignments_blind_by_default_and_reopened(team_store) -> None:
    team_store.assign(1, ["Anna", "Bo"])
    assert [(a.coder, a.blind) for a in team_store.assignments(1)] == [("Anna", True), ("Bo", True)]
    team_store.assign(1, ["Bo"], blind=False)
    assert team_store.is_blind(1, "Anna") and not team_store.is_blind(1, "Bo")
    assert team_store.unassign(1, "Bo") and not team_store.unassign(1, "Bo")
    assert [a.coder for a in team_store.assignments(coder="Anna")] == ["Anna"]


def test_blind_accept_goes_to_own_layer_and_stays_hidden(suggested) -> None:
    suggested.assign(1, ["Anna", "Bo"])
    shared = _shared_id(suggested, 2)
    d = suggested.decide_as("Anna", shared, "accept", expected_version=1)
    assert d.layer == "Anna" and d.coding_id != shared
    own = suggested.coding_views(status="all", layer="Anna")[0]
    assert (own.code_key, own.status, own.source, own.confidence, own.coder) == (
        K, "accepted", "model", 0.7, "Anna")
    # the shared suggestion is untouched, for Bo
    assert suggested.coding_views(status="all", segment_ids=[2])[0].status == "suggested"
    assert _view(suggested, "Anna") == [(1, C, "suggested", "", None), (2, K, "accepted", "Anna", "Anna"),
                                        (3, N, "suggested", "", None)]
    assert _view(suggested, "Bo") == [(1, C, "suggested", "", None), (2, K, "suggested", "", None),
                                      (3, N, "suggested", "", None)]


def test_blind_coder_cannot_touch_the_other_layer(suggested) -> None:
    suggested.assign(1, ["Anna", "Bo"])
    d = suggested.decide_as("Anna", _shared_id(suggested, 1), "reject")
    with pytest.raises(AccessError):
        suggested.decide_as("Bo", d.coding_id, "accept")
    assert all(v.layer in ("", "Bo") for v in suggested.coder_view(1, "Bo"))


def test_shared_decisions_of_others_are_masked_in_blind_view(suggested) -> None:
    suggested.decide(_shared_id(suggested, 3), "accept", "Carla", memo="Tydeligt.")
    suggested.add_coding([4], K, "Carla")  # a human coding only Carla made
    suggested.assign(1, ["Anna", "Bo"])
    view = suggested.coder_view(1, "Bo")
    assert [(v.segment_id, v.code_key, v.status, v.coder, v.memo) for v in view] == [
        (1, C, "suggested", None, ""), (2, K, "suggested", None, ""), (3, N, "suggested", None, "")]
    # deciding the masked row forks it into Bo's layer; Carla's shared decision stays
    suggested.decide_as("Bo", view[2].id, "reject")
    assert suggested.coding_views(status="all", segment_ids=[3])[0].coder == "Carla"
    assert _view(suggested, "Bo")[2] == (3, N, "rejected", "Bo", "Bo")


def test_blind_recode_rejects_the_suggestion_and_adds_the_new_code(suggested) -> None:
    suggested.assign(1, ["Anna", "Bo"])
    d = suggested.decide_as("Anna", _shared_id(suggested, 2), "recode", code_key=N)
    assert d.layer == "Anna"
    assert [r for r in _view(suggested, "Anna") if r[0] == 2] == [
        (2, K, "rejected", "Anna", "Anna"), (2, N, "accepted", "Anna", "Anna")]
    assert [(e.action, e.code_key) for e in suggested.history(2)] == [("reject", K), ("recode", N)]


def test_blind_memo_keeps_the_suggestion_open(suggested) -> None:
    suggested.assign(1, ["Anna"])
    d = suggested.decide_as("Anna", _shared_id(suggested, 1), "memo", memo="Måske også økonomi?")
    row = suggested.coder_view(1, "Anna")[0]
    assert (row.id, row.status, row.memo, row.layer) == (d.coding_id, "suggested",
                                                         "Måske også økonomi?", "Anna")


def test_stale_view_of_own_decision_conflicts(suggested) -> None:
    suggested.assign(1, ["Anna"])
    shared = _shared_id(suggested, 1)
    d = suggested.decide_as("Anna", shared, "accept", expected_version=1)
    with pytest.raises(ConflictError, match="allerede taget stilling"):
        suggested.decide_as("Anna", shared, "reject", expected_version=1)
    with pytest.raises(ConflictError, match="ændret af Anna"):
        suggested.decide_as("Anna", d.coding_id, "reject", expected_version=d.version - 1)
    assert suggested.decide_as("Anna", d.coding_id, "reject", expected_version=d.version).version == 2


def test_open_assignment_and_no_assignment_write_the_shared_layer(suggested) -> None:
    suggested.assign(1, ["Anna"], blind=False)
    shared = _shared_id(suggested, 1)
    d = suggested.decide_as("Anna", shared, "accept")
    assert (d.coding_id, d.layer) == (shared, "")
    assert suggested.add_as("Bo", [5], N) == [c.id for c in suggested.coding_views(
        status="all", segment_ids=[5])]
    assert _view(suggested, "Anna") == _view(suggested, "Bo")


def test_add_as_blind_writes_own_layer(team_store) -> None:
    team_store.assign(1, ["Anna", "Bo"])
    team_store.add_as("Anna", [4, 8], K, memo="Kage og kaffe.")
    assert [(v.segment_id, v.status, v.layer) for v in team_store.coder_view(1, "Anna")] == [
        (4, "accepted", "Anna"), (8, "accepted", "Anna")]
    assert team_store.coder_view(1, "Bo") == []
    assert team_store.coding_views(status="all") == []


def test_cli_assign_and_assignments(team_store, team_db: str, runner) -> None:
    result = runner.invoke(cli, ["--db", team_db, "assign", "bibliotek_toender.txt",
                                 "--coder", "Anna", "--coder", "Bøje"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["bibliotek_toender.txt: Anna (blind)",
                                          "bibliotek_toender.txt: Bøje (blind)"]
    runner.invoke(cli, ["--db", team_db, "assign", "1", "--coder", "Bøje", "--open"])
    result = runner.invoke(cli, ["--db", team_db, "assignments"])
    assert result.exit_code == 0, result.output
    assert [line.split() for line in result.output.splitlines()[2:]] == [
        ["1", "bibliotek_toender.txt", "Anna", "blind"], ["1", "bibliotek_toender.txt", "Bøje", "open"]]
    result = runner.invoke(cli, ["--db", team_db, "assign", "nix.txt", "--coder", "Anna"])
    assert result.exit_code == 1 and "no document" in result.output


def test_every_way_of_writing_a_coding_records_its_document_and_turn(suggested) -> None:
    """Codings carry their segment's document and turn (the dashboard groups by them)."""
    from sqlalchemy import text

    suggested.assign(1, ["Anna"])
    suggested.decide_as("Anna", _shared_id(suggested, 1), "accept")  # own blind layer
    suggested.decide_as("Anna", _shared_id(suggested, 2), "recode", code_key=N)
    segs = suggested.segments(1)
    suggested.add_coding([segs[-1].id, segs[4].id], C, "Bo")  # shared layer, last turn
    suggested.adjudicate(segs[6].id, K, "accept", "Carla")
    with suggested.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.document_id, c.turn_number, s.document_id, t.number FROM codings c "
            "JOIN segments s ON s.id = c.segment_id JOIN turns t ON t.id = s.turn_id")).all()
    assert len(rows) == 9  # 3 suggestions, 3 in Anna's layer, 2 added, 1 adjudicated
    assert all(r[0] == r[2] and r[1] == r[3] for r in rows)
    assert {r[1] for r in rows} == {1, 2, 3}  # codings on all three turns
