"""Dashboard numbers, worked out by hand from the fixture's gold codings.

Gold (tests/fixtures/gold): Morsø — mek_kaffe on turns 2 and 3, udf_nye_brugere on turn 5,
ctx_strategi on turn 6; Vesthimmerland — udf_invitationer on turn 2, mek_kaffe on turn 3,
udf_nye_brugere on turn 5; one sentence each. T1 = mek_kaffe (mechanism) and
udf_nye_brugere (outcome); T2 = ctx_strategi (context) and udf_invitationer (outcome).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import analysis, gold


@pytest.fixture
def gold_store(coded_store, fixtures: Path):
    gold.load_gold(coded_store, fixtures / "gold")
    return coded_store


def test_theme_cards(gold_store) -> None:
    d = analysis.dashboard(gold_store)
    t1, t2 = d.themes
    assert (t1.id, t1.quotes, t1.sites, t1.cmo) == (
        "T1", 5, ["Morsø", "Vesthimmerland"], {"context": 0, "mechanism": 3, "outcome": 2})
    assert (t2.id, t2.quotes, t2.sites, t2.cmo) == (
        "T2", 2, ["Morsø", "Vesthimmerland"], {"context": 1, "mechanism": 0, "outcome": 1})
    assert t1.target_groups == ["Senioren"]  # only the Morsø transcript names one
    shown = [q.segment_id for card in d.themes for q in card.strongest]
    assert len(shown) == len(set(shown))  # no quote twice
    assert all(q.status == "accepted" for q in t1.strongest)


def test_heatmaps_goals_and_filters(gold_store) -> None:
    d = analysis.dashboard(gold_store)
    assert sorted((c.site, c.theme, c.quotes) for c in d.site_theme) == [
        ("Morsø", "T1", 3), ("Morsø", "T2", 1), ("Vesthimmerland", "T1", 2),
        ("Vesthimmerland", "T2", 1)]
    assert [(g.key, g.quotes, g.sites) for g in d.goals] == [("G1", 5, 2), ("G2", 2, 2)]
    assert [g.coverage for g in d.goals] == [1.0, 1.0]
    morsoe = analysis.dashboard(gold_store, site="Morsø")
    assert [c.quotes for c in morsoe.themes] == [3, 1]
    seniors = analysis.dashboard(gold_store, target_group="Senioren")
    assert seniors.sites == ["Morsø"]


def test_cmo_chains_within_a_window(gold_store) -> None:
    assert gold_store.cmo_chains(("accepted",)) == []  # nothing within one turn
    rows = gold_store.cmo_chains(("accepted",), window=3)
    assert [(r.site, r.context, r.mechanism, r.outcome, r.quotes) for r in rows] == [
        ("Morsø", "ctx_strategi", "mek_kaffe", "udf_nye_brugere", 1)]
