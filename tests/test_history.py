"""Append-only history, undo as an event, and no lost update between two coders."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from evaltool.cli import cli
from evaltool.domain import Suggestion
from evaltool.errors import ConflictError
from evaltool.store import open_store
from evaltool.store.models import Event

C, K, N = "ctx_strategi", "mek_kaffe", "udf_nye_brugere"


@pytest.fixture
def suggested(team_store):
    """Machine suggestions on segments 1 (strategi) and 2 (kaffe)."""
    team_store.write_suggestions(
        [Suggestion(1, C, "rules", 0.9, "strategi"), Suggestion(2, K, "model", 0.7, "kaffe")],
        segment_ids=[1, 2], model_version="m1", codebook_version=1)
    return team_store


def _row(store, segment: int) -> tuple:
    v = store.coding_views(status="all", segment_ids=[segment])
    return tuple((r.code_key, r.status, r.source, r.coder, r.memo) for r in v)


def _events(store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Event))


def test_history_lists_who_when_what_before_after(suggested) -> None:
    cid = suggested.coding_views(segment_ids=[1], status="all")[0].id
    suggested.decide(cid, "accept", "Anna")
    suggested.decide(cid, "recode", "Bo", code_key=K, memo="Det handler om kaffen.")
    entries = suggested.history(1)
    assert [(e.coder, e.action, e.code_key) for e in entries] == [
        ("Anna", "accept", C), ("Bo", "recode", K)]
    assert entries[0].before["status"] == "suggested" and entries[0].after["status"] == "accepted"
    assert entries[1].before["code_id"] != entries[1].after["code_id"]
    assert entries[0].at <= entries[1].at and entries[0].id < entries[1].id


def test_undo_restores_the_suggestion_and_is_an_event(suggested) -> None:
    original = _row(suggested, 2)
    cid = suggested.coding_views(segment_ids=[2], status="all")[0].id
    suggested.decide(cid, "accept", "Anna", memo="Enig.")
    [undo] = suggested.undo_last("Anna")
    assert _row(suggested, 2) == original
    accept, logged = suggested.history(2)
    assert (logged.action, logged.coder, logged.undoes) == ("undo", "Anna", accept.id)
    assert accept.undone_by == logged.id == undo.id
    # the restored row is a machine suggestion again: a re-run may update it
    write = suggested.write_suggestions([Suggestion(2, K, "model", 0.75, "kaffe")],
                                        segment_ids=[2], model_version="m2", codebook_version=1)
    assert write.updated == 1 and write.human_kept == 0
    with pytest.raises(Exception, match="no decisions to undo"):
        suggested.undo_last("Anna")


def test_undo_of_an_add_deletes_the_row(team_store) -> None:
    team_store.add_coding([4], K, "Anna")
    team_store.undo_last("Anna")
    assert _row(team_store, 4) == ()
    assert [e.action for e in team_store.history(4)] == ["add", "undo"]


def test_undo_several_decisions_on_one_coding(suggested) -> None:
    original = _row(suggested, 1)
    cid = suggested.coding_views(segment_ids=[1], status="all")[0].id
    suggested.decide(cid, "accept", "Anna")
    suggested.decide(cid, "memo", "Anna", memo="Strategien nævnes direkte.")
    suggested.decide(cid, "recode", "Anna", code_key=N)
    undone = suggested.undo_last("Anna", 2)  # the recode, then the memo
    assert [e.action for e in undone] == ["undo", "undo"]
    assert _row(suggested, 1) == ((C, "accepted", "rules", "Anna", ""),)
    suggested.undo_last("Anna", 1)
    assert _row(suggested, 1) == original


def test_undo_refuses_when_someone_changed_the_coding_since(suggested) -> None:
    cid = suggested.coding_views(segment_ids=[1], status="all")[0].id
    suggested.decide(cid, "accept", "Anna")
    suggested.decide(cid, "reject", "Bo")
    state, events = _row(suggested, 1), _events(suggested)
    with pytest.raises(ConflictError, match="ændret af Bo"):
        suggested.undo_last("Anna")
    assert (_row(suggested, 1), _events(suggested)) == (state, events)
    # once Bo undoes his change, Anna's decision can be undone too
    suggested.undo_last("Bo")
    suggested.undo_last("Anna")
    assert _row(suggested, 1)[0][1:4] == ("suggested", "rules", None)


def test_undo_conflict_changes_nothing_when_undoing_several(suggested) -> None:
    c1 = suggested.coding_views(segment_ids=[1], status="all")[0].id
    c2 = suggested.coding_views(segment_ids=[2], status="all")[0].id
    suggested.decide(c1, "accept", "Anna")
    suggested.decide(c1, "reject", "Bo")
    suggested.decide(c2, "accept", "Anna")
    before = (_row(suggested, 1), _row(suggested, 2), _events(suggested))
    with pytest.raises(ConflictError):
        suggested.undo_last("Anna", 2)  # the newest would undo, the older one conflicts
    assert (_row(suggested, 1), _row(suggested, 2), _events(suggested)) == before


def test_undo_a_blind_recode_takes_two_steps(suggested) -> None:
    suggested.assign(1, ["Anna"])
    shared = suggested.coding_views(segment_ids=[2], status="all")[0].id
    suggested.decide_as("Anna", shared, "recode", code_key=N)
    suggested.undo_last("Anna")
    assert [(v.code_key, v.status, v.layer) for v in suggested.coder_view(1, "Anna")
            if v.segment_id == 2] == [(K, "rejected", "Anna")]
    suggested.undo_last("Anna")
    assert [(v.code_key, v.status, v.layer) for v in suggested.coder_view(1, "Anna")
            if v.segment_id == 2] == [(K, "suggested", "")]


def test_blind_history_hides_the_other_coder(suggested) -> None:
    suggested.assign(1, ["Anna", "Bo"])
    shared = suggested.coding_views(segment_ids=[1], status="all")[0].id
    suggested.decide_as("Anna", shared, "accept")
    suggested.decide_as("Bo", shared, "reject")
    assert [e.coder for e in suggested.history(1)] == ["Anna", "Bo"]
    assert [e.coder for e in suggested.history(1, visible_to="Bo")] == ["Bo"]


def test_two_coders_saving_at_once_lose_no_update(suggested, team_db: str) -> None:
    cid = suggested.coding_views(segment_ids=[1], status="all")[0].id
    events_before = _events(suggested)
    stores = {name: open_store(team_db) for name in ("Anna", "Bo")}
    versions = {name: s.coding_views(segment_ids=[1], status="all")[0].version
                for name, s in stores.items()}
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def save(name: str, action: str) -> None:
        barrier.wait()
        try:
            outcome[name] = stores[name].decide(cid, action, name, expected_version=versions[name])
        except ConflictError as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=save, args=("Anna", "accept")),
               threading.Thread(target=save, args=("Bo", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for s in stores.values():
        s.close()
    errors = {n: o for n, o in outcome.items() if isinstance(o, ConflictError)}
    assert len(outcome) == 2 and len(errors) == 1
    [(loser, error)] = errors.items()
    winner = "Bo" if loser == "Anna" else "Anna"
    assert outcome[winner] == versions[winner] + 1
    assert f"ændret af {winner}" in str(error) and "prøv igen" in str(error)
    assert _events(suggested) == events_before + 1
    status = "accepted" if winner == "Anna" else "rejected"
    assert _row(suggested, 1) == ((C, status, "rules", winner, ""),)


def test_cli_history_and_undo(suggested, team_db: str, runner) -> None:
    cid = suggested.coding_views(segment_ids=[2], status="all")[0].id
    suggested.decide(cid, "reject", "Åse")
    result = runner.invoke(cli, ["--db", team_db, "undo", "--coder", "Åse"])
    assert result.exit_code == 0, result.output
    assert f"on coding {cid} (segment 2, {K}): rejected/model -> suggested/model" in result.output
    result = runner.invoke(cli, ["--db", team_db, "history", "--segment", "2"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[2:]]
    assert [(r[3], r[4], r[5]) for r in rows] == [("Åse", "reject", K), ("Åse", "undo", K)]
    assert "undone by" in result.output and "undoes" in result.output
    result = runner.invoke(cli, ["--db", team_db, "undo", "--coder", "Åse", "--count", "3"])
    assert result.exit_code == 1 and "no decisions to undo" in result.output


def _full(store, segment: int, layer: str = "") -> list[tuple]:
    return [(v.code_key, v.status, v.source, v.confidence, v.explanation, v.coder)
            for v in store.coding_views(status="all", segment_ids=[segment], layer=layer)]


def test_recode_is_a_human_coding_and_undo_gives_the_machine_row_back(suggested) -> None:
    cid = suggested.coding_views(segment_ids=[2], status="all")[0].id
    suggested.decide(cid, "recode", "Anna", code_key=N)
    assert _full(suggested, 2) == [(N, "accepted", "human", None, "", "Anna")]
    last = suggested.history(2)[-1]
    assert (last.action, last.code_key, last.coder) == ("recode", N, "Anna")
    assert (last.before["source"], last.before["confidence"]) == ("model", 0.7)
    assert (last.after["source"], last.after["confidence"], last.after["explanation"]) == (
        "human", None, "")
    suggested.undo_last("Anna")
    assert _full(suggested, 2) == [(K, "suggested", "model", 0.7, "kaffe", None)]


def test_blind_recode_onto_a_machine_suggestion_is_human(suggested) -> None:
    """Recoding to a code the machine also suggested on that sentence: the coder's row
    for the new code says human, with no machine confidence or explanation."""
    suggested.write_suggestions(
        [Suggestion(2, K, "model", 0.7, "kaffe"), Suggestion(2, N, "rules", 0.4, "nye brugere")],
        segment_ids=[2], model_version="m2", codebook_version=1)
    suggested.assign(1, ["Anna"])
    by_code = {v.code_key: v.id for v in suggested.coder_view(1, "Anna") if v.segment_id == 2}
    suggested.decide_as("Anna", by_code[N], "reject")  # copied to her layer, confidence 0.4
    suggested.decide_as("Anna", by_code[K], "recode", code_key=N)
    assert sorted(_full(suggested, 2, "Anna")) == [
        (K, "rejected", "model", 0.7, "kaffe", "Anna"), (N, "accepted", "human", None, "", "Anna")]
    last = suggested.history(2)[-1]
    assert (last.action, last.after["source"], last.after["confidence"]) == ("recode", "human",
                                                                              None)


def test_shared_recode_onto_an_open_suggestion_is_human(suggested) -> None:
    suggested.write_suggestions(
        [Suggestion(2, K, "model", 0.7, "kaffe"), Suggestion(2, N, "rules", 0.4, "nye brugere")],
        segment_ids=[2], model_version="m2", codebook_version=1)
    cid = next(v.id for v in suggested.coding_views(status="all", segment_ids=[2])
               if v.code_key == K)
    suggested.decide(cid, "recode", "Bo", code_key=N)
    assert _full(suggested, 2) == [(N, "accepted", "human", None, "", "Bo")]


def test_recode_to_a_code_already_decided_on_the_sentence_is_refused(suggested) -> None:
    suggested.add_coding([2], N, "Anna")  # Anna's human coding of N on sentence 2
    cid = next(v.id for v in suggested.coding_views(status="all", segment_ids=[2])
               if v.code_key == K)
    before, events = _full(suggested, 2), _events(suggested)
    with pytest.raises(ConflictError, match="allerede"):
        suggested.decide(cid, "recode", "Bo", code_key=N)
    assert (_full(suggested, 2), _events(suggested)) == (before, events)
