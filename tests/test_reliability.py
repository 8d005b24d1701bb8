"""Inter-coder reliability: hand-worked figures, uncoded text, disagreements, adjudication."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from evaltool import reliability as rel
from evaltool.cli import cli
from evaltool.importer import import_paths

C, K, N = "ctx_strategi", "mek_kaffe", "udf_nye_brugere"

# Segments 1-8 of the team_store transcript, coded blind by Anna and Bo; 9 and 10 by nobody.
ANNA = {1: {C}, 2: {C}, 3: {K}, 4: {K}, 5: {N}, 6: {C, K}, 8: {N}}
BO = {1: {C}, 2: {K}, 3: {K}, 4: {K}, 5: {N}, 6: {C}, 7: {N}}

# Worked by hand over the 8 units either coder coded (segments 9-10 are left out):
# sets agree on segments 1, 3, 4, 5 -> percent agreement 4/8 = 0.5.
# Overall Cohen's kappa, the set of codes as label:
#   Anna: C 2, K 2, N 2, CK 1, none 1;  Bo: C 2, K 3, N 2, none 1
#   p_e = (2*2 + 2*3 + 2*2 + 1*0 + 1*1) / 64 = 15/64
#   kappa = (32/64 - 15/64) / (49/64) = 17/49
# Krippendorff's alpha, nominal, 16 values: n_C 4, n_K 5, n_N 4, n_CK 1, n_none 2
#   4 disagreeing units, each gives 2 off-diagonal coincidences: D_o = 8/16
#   D_e = (16^2 - (16 + 25 + 16 + 1 + 4)) / (16 * 15) = 194/240
#   alpha = 1 - (8/16) / (194/240) = 1 - 120/194 = 37/97
# Per code, presence on the 8 units:
#   C: Anna {1,2,6}, Bo {1,6}: p_o 7/8, p_e (3*2 + 5*6)/64 = 36/64, kappa (56-36)/(64-36) = 5/7
#   K: Anna {3,4,6}, Bo {2,3,4}: p_o 6/8, p_e (3*3 + 5*5)/64 = 34/64, kappa 14/30 = 7/15
#   N: Anna {5,8}, Bo {5,7}: p_o 6/8, p_e (2*2 + 6*6)/64 = 40/64, kappa 8/24 = 1/3


def _code_blind(store) -> None:
    store.assign(1, ["Anna", "Bo"])
    for coder, codes in (("Anna", ANNA), ("Bo", BO)):
        for seg, keys in codes.items():
            for key in keys:
                store.add_as(coder, [seg], key)


@pytest.fixture
def double_coded(team_store):
    """The team_store transcript coded blind by Anna and Bo."""
    _code_blind(team_store)
    return team_store


def test_hand_worked_figures(double_coded) -> None:
    report = rel.reliability(double_coded, "Anna", "Bo")
    assert report.units == 8
    assert report.agreement == 0.5
    assert report.kappa == pytest.approx(17 / 49)
    assert report.alpha == pytest.approx(37 / 97)
    per_code = {c.code: c for c in report.per_code}
    assert [c.code for c in report.per_code] == [C, K, N]  # codebook order
    assert (per_code[C].n_a, per_code[C].n_b, per_code[C].both) == (3, 2, 2)
    assert per_code[C].agreement == 7 / 8
    assert per_code[C].kappa == pytest.approx(5 / 7)
    assert per_code[K].kappa == pytest.approx(7 / 15)
    assert per_code[N].kappa == pytest.approx(1 / 3)


def test_uncoded_text_does_not_change_the_figures(double_coded, tmp_path: Path,
                                                  blank_nlp) -> None:
    before = rel.reliability(double_coded, "Anna", "Bo")
    extra = tmp_path / "extra_oesterby.txt"
    extra.write_text("Ole: Vi drak kaffe. Det var en god dag i Østerby. Tak.\n\n"
                     "Åse: Strategien blev vedtaget i går.\n", encoding="utf-8")
    assert import_paths([extra], double_coded, lambda: blank_nlp).failed == 0
    double_coded.assign(2, ["Anna", "Bo"])
    after = rel.reliability(double_coded, "Anna", "Bo")
    assert after == before
    assert after.documents == ["bibliotek_toender.txt"]


def test_a_document_only_one_coder_coded_is_left_out(double_coded, tmp_path: Path,
                                                     blank_nlp) -> None:
    extra = tmp_path / "kun_anna.txt"
    extra.write_text("Ole: Vi drak kaffe i Ærøskøbing.\n", encoding="utf-8")
    import_paths([extra], double_coded, lambda: blank_nlp)
    seg = double_coded.segments(2)[0].id
    double_coded.add_as("Anna", [seg], K)
    assert rel.reliability(double_coded, "Anna", "Bo").units == 8


def test_turn_unit_takes_the_union_of_segment_codes(double_coded) -> None:
    # turn 1: {C,K} both; turn 2: {C,K,N} both; turn 3: {N} both -> full agreement
    report = rel.reliability(double_coded, "Anna", "Bo", unit="turn")
    assert (report.units, report.agreement, report.kappa, report.alpha) == (3, 1.0, 1.0, 1.0)


def test_shared_layer_codings_count_for_their_coder(team_store) -> None:
    # Anna codes without an assignment (shared layer, as gold codings are), Bo blind
    team_store.add_as("Anna", [1], C)
    team_store.add_as("Anna", [2], K)
    team_store.assign(1, ["Bo"])
    team_store.add_as("Bo", [1], C)
    team_store.add_as("Bo", [3], K)
    assert {(c.layer, c.coder) for c in team_store.coding_views(status="all")} == {("", "Anna")}
    report = rel.reliability(team_store, "Anna", "Bo")
    assert (report.units, report.agreement) == (3, pytest.approx(1 / 3))


def test_kappa_and_alpha_cross_checked_on_random_data() -> None:
    rng = random.Random(7)
    for _ in range(40):
        n = rng.randint(5, 40)
        labels = ["∅", "C", "K", "CK", "N"][: rng.randint(2, 5)]
        a = [rng.choice(labels) for _ in range(n)]
        b = [x if rng.random() < 0.6 else rng.choice(labels) for x in a]
        if len(set(a) | set(b)) < 2:
            continue
        if len(set(a)) > 1 or len(set(b)) > 1:
            assert rel.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
        # own nominal alpha for two coders without missing values, from the coincidence matrix
        counts = Counter(a + b)
        total = 2 * n
        d_o = 2 * sum(x != y for x, y in zip(a, b, strict=True)) / total
        d_e = (total ** 2 - sum(v * v for v in counts.values())) / (total * (total - 1))
        assert rel.nominal_alpha(a, b) == pytest.approx(1 - d_o / d_e)


def test_undefined_figures_are_none() -> None:
    assert rel.cohen_kappa(["C", "C"], ["C", "C"]) is None
    assert rel.nominal_alpha(["C", "C"], ["C", "C"]) is None
    assert rel.percent_agreement([], []) is None


def test_disagreements_side_by_side(double_coded) -> None:
    found = rel.disagreements(double_coded, "Anna", "Bo")
    assert [(u.segment_ids, u.codes_a, u.codes_b) for u in found] == [
        ((2,), (C,), (K,)),
        ((6,), (C, K), (C,)),
        ((7,), (), (N,)),
        ((8,), (N,), ()),
    ]
    assert found[0].text == "Vi satte kaffe på bordet."


def test_adjudication_is_recorded_as_such(double_coded) -> None:
    decision = double_coded.adjudicate(2, K, "accept", "Carla", memo="Kaffen er mekanismen.")
    shared = double_coded.coding_views(status="all", segment_ids=[2])
    assert [(v.code_key, v.status, v.source, v.coder, v.memo) for v in shared] == [
        (K, "accepted", "adjudicated", "Carla", "Kaffen er mekanismen.")]
    assert shared[0].id == decision.coding_id and decision.layer == ""
    last = double_coded.history(2)[-1]
    assert (last.action, last.coder, last.before, last.after["source"]) == (
        "adjudicate", "Carla", None, "adjudicated")
    # the coders' own layers are untouched, so reliability is unchanged
    assert rel.reliability(double_coded, "Anna", "Bo").agreement == 0.5


def test_cli_reliability_and_disagreements(double_coded, team_db: str, runner,
                                           tmp_path: Path) -> None:
    out = tmp_path / "pålidelighed.json"
    result = runner.invoke(cli, ["--db", team_db, "reliability", "--coders", "Anna", "Bo",
                                 "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "8 segments in 1 documents: agreement 0.500, kappa 0.347, alpha 0.381" in result.output
    assert "text neither coded is left out" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["units"] == 8 and data["alpha"] == pytest.approx(37 / 97)
    result = runner.invoke(cli, ["--db", team_db, "reliability", "--coders", "Anna", "Bo",
                                 "--unit", "turn", "--document", "bibliotek_toender.txt"])
    assert "3 turns in 1 documents: agreement 1.000" in result.output
    result = runner.invoke(cli, ["--db", team_db, "disagreements", "--coders", "Anna", "Bo"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 6  # header, rule, four units
    assert "Vi satte kaffe på bordet." in lines[2]
    result = runner.invoke(cli, ["--db", team_db, "adjudicate", "--segment", "7", "--code", N,
                                 "--reject", "--coder", "Carla"])
    assert result.exit_code == 0, result.output
    assert "rejected by Carla (adjudicated" in result.output
