"""CMO chains with suggestions: counted by hand on a small transcript, the same with
accepted codings only, and a hard bound that stops a chain query too heavy to finish
(SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import codebook
from evaltool.domain import Suggestion
from evaltool.errors import ChainsTooHeavyError
from evaltool.importer import import_paths
from tests.conftest import FIXTURES

BOTH = ("accepted", "suggested")

SAMTALE = """---
title: Samtale i Aabenraa
site: Aabenraa
---
Ole (borger): Både og. Strategien gav os ro til at prøve.
Lise (bibliotekar): Vi satte kaffe og kage frem hver mandag. Der kom mange nye brugere til. \
Flere familier fik lånerkort i år.
Ole (borger): Strategien hjalp os meget i år. Jeg har fået lånerkort og kommer her nu.
Hanne (leder): Det var det hele for i dag.
Mads (borger): Kommunen inviterer os med til møderne nu.
"""

# sentence → (code, accepted by a person?)
CODED = {
    "Både og.": ("udf_nye_brugere", False),  # a fragment: takes no part
    "Strategien gav os ro til at prøve.": ("ctx_strategi", True),
    "Vi satte kaffe og kage frem hver mandag.": ("mek_kaffe", False),
    "Der kom mange nye brugere til.": ("udf_nye_brugere", True),
    "Flere familier fik lånerkort i år.": ("udf_nye_brugere", False),
    "Strategien hjalp os meget i år.": ("ctx_strategi", False),
    "Jeg har fået lånerkort og kommer her nu.": ("udf_nye_brugere", False),
    "Kommunen inviterer os med til møderne nu.": ("udf_invitationer", False),  # alone
}


def _suggest(store, doc_id: int, coded: dict[str, tuple[str, bool]]) -> None:
    """Accept the codings marked so (a person's), suggest the rest (the machine's)."""
    segs = {s.text: s.id for s in store.segments(doc_id)}
    for text, (key, accepted) in coded.items():
        if accepted:
            store.add_as("Lene", [segs[text]], key)
    _write(store, [(segs[t], key) for t, (key, accepted) in coded.items() if not accepted])


def _write(store, suggested: list[tuple[int, str]]) -> None:
    """Machine suggestions (segment id, code key)."""
    store.write_suggestions([Suggestion(seg, key, "rules", 0.9, "test") for seg, key in suggested],
                            segment_ids=sorted({seg for seg, _ in suggested}),
                            model_version="test",
                            codebook_version=store.active_codebook()["version"])


@pytest.fixture
def hand_store(any_store, tmp_path: Path, blank_nlp):
    """One focus group with accepted and suggested codings whose chains are known by hand."""
    store = any_store
    path = tmp_path / "aabenraa.txt"
    path.write_text(SAMTALE, encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    store.load_codebook(codebook.load(FIXTURES / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    _suggest(store, store.get_document("aabenraa.txt").id, CODED)
    return store


def _by_speaker(store, rows) -> list[tuple]:
    names = {s.id: s.name for s in store.speaker_facets()}
    return sorted((r.context, r.mechanism, r.outcome, r.site, names[r.speaker_id], r.quotes)
                  for r in rows)


def test_chains_with_suggestions_as_counted_by_hand(hand_store) -> None:
    # accepted only: the mechanism is a suggestion, so no chain is whole
    assert hand_store.cmo_chains(("accepted",)) == []
    rows = hand_store.cmo_chains(BOTH)
    # Lise's two outcome sentences have the context a turn before and after (counted once
    # each); Ole's last turn holds a context, the mechanism is the turn before; his "Både
    # og." is a fragment and the invitation has nothing within one turn
    assert _by_speaker(hand_store, rows) == [
        ("ctx_strategi", "mek_kaffe", "udf_nye_brugere", "Aabenraa", "Lise", 2),
        ("ctx_strategi", "mek_kaffe", "udf_nye_brugere", "Aabenraa", "Ole", 1)]


def test_evidence_with_suggestions_prefers_the_outcomes_turn_then_decided(hand_store) -> None:
    chain = ("ctx_strategi", "mek_kaffe", "udf_nye_brugere")
    texts = {s.id: s.text for d in hand_store.document_facets() for s in hand_store.segments(d.id)}
    names = {s.id: s.name for s in hand_store.speaker_facets()}
    found = {names[r.speaker_id]: (texts[r.outcome_segment], texts[r.context_segment],
                                   texts[r.mechanism_segment], r.in_turn, r.decided)
             for r in hand_store.chain_evidence([chain], BOTH)}
    assert found == {
        # the accepted outcome and the accepted context (a turn before) beat the suggested ones
        "Lise": ("Der kom mange nye brugere til.", "Strategien gav os ro til at prøve.",
                 "Vi satte kaffe og kage frem hver mandag.", 1, 2),
        "Ole": ("Jeg har fået lånerkort og kommer her nu.", "Strategien hjalp os meget i år.",
                "Vi satte kaffe og kage frem hver mandag.", 1, 0)}


def _dense(store, tmp_path: Path, blank_nlp, turns: int) -> None:
    """A long focus group where every sentence carries a suggested context, mechanism or
    outcome (as the machine suggests on a big project)."""
    lines = ["---", "title: Tæt samtale", "site: Tønder", "---"]
    for t in range(turns):
        who = ("Ole (borger)", "Lise (bibliotekar)", "Åse (borger)")[t % 3]
        lines.append(f"{who}: Kommunens strategi gav os ryg i år. Vi satte kaffe på bordet igen. "
                     "Der kom mange nye brugere. Flere fik lånerkort i dag.")
    path = tmp_path / "taet.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    doc = store.get_document("taet.txt").id
    keys = {"strategi": "ctx_strategi", "kaffe": "mek_kaffe", "brugere": "udf_nye_brugere",
            "lånerkort": "udf_invitationer"}
    segs = store.segments(doc)
    assert len(segs) == 4 * turns
    _write(store, [(s.id, key) for s in segs for word, key in keys.items() if word in s.text])


def test_a_chain_query_over_its_budget_stops_with_a_hint(hand_store, tmp_path: Path,
                                                                 blank_nlp) -> None:
    _dense(hand_store, tmp_path, blank_nlp, 600)
    rows = hand_store.cmo_chains(BOTH)  # within the default budget
    dense = [r for r in rows if r.site == "Tønder"]
    assert {(r.context, r.mechanism, r.outcome) for r in dense} == {
        ("ctx_strategi", "mek_kaffe", "udf_nye_brugere"),
        ("ctx_strategi", "mek_kaffe", "udf_invitationer")}
    assert sum(r.quotes for r in dense) == 2 * 600  # both outcomes of every turn, once each
    with pytest.raises(ChainsTooHeavyError) as err:
        hand_store.cmo_chains(BOTH, budget_s=0.001)
    assert err.value.seconds == 0.001 and "accepted codings only" in str(err.value)
    with pytest.raises(ChainsTooHeavyError):
        hand_store.chain_evidence([("ctx_strategi", "mek_kaffe", "udf_nye_brugere")], BOTH,
                                  budget_s=0.001)


def test_evidence_stopped_half_way_shows_no_chain_without_its_evidence(hand_store,
                                                                       monkeypatch) -> None:
    """The chains were counted in time but their evidence query was not: no chain is shown
    (a chain is only shown with evidence a reader can follow) and the builder says why."""
    from evaltool.chains import ChainBuilder
    from evaltool.quotes import TurnQuotes
    from evaltool.store import aggregates

    rows = hand_store.cmo_chains(BOTH)
    assert rows
    labels = {c.key: c.label for c in hand_store.codes(include_retired=True)}
    monkeypatch.setattr(aggregates, "CHAIN_BUDGET_S", 0.0)
    builder = ChainBuilder(hand_store, rows, TurnQuotes(hand_store), labels, BOTH)
    assert builder.chains(evidence=5) == [] and builder.stopped == 0.0
    monkeypatch.undo()
    fresh = ChainBuilder(hand_store, rows, TurnQuotes(hand_store), labels, BOTH)
    assert fresh.chains(evidence=5) and fresh.stopped is None
