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
    assert "8 segments in 1 document: agreement 0.500, kappa 0.347, alpha 0.381" in result.output
    assert "text neither coded is left out" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["units"] == 8 and data["alpha"] == pytest.approx(37 / 97)
    result = runner.invoke(cli, ["--db", team_db, "reliability", "--coders", "Anna", "Bo",
                                 "--unit", "turn", "--document", "bibliotek_toender.txt"])
    assert "3 turns in 1 document: agreement 1.000" in result.output
    result = runner.invoke(cli, ["--db", team_db, "disagreements", "--coders", "Anna", "Bo"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 7  # header, rule, four units, and a warning: 10 sentences are few
    assert "Vi satte kaffe på bordet." in lines[2]
    assert lines[6].startswith("warning: Anna and Bo reviewed too few segments")
    result = runner.invoke(cli, ["--db", team_db, "adjudicate", "--segment", "7", "--code", N,
                                 "--reject", "--coder", "Carla"])
    assert result.exit_code == 0, result.output
    assert "rejected by Carla (adjudicated" in result.output


def _long_transcript() -> str:
    """Six turns of five numbered sentences each (segments 1-30 on a fresh database)."""
    names = ["Mette", "Søren", "Åse", "Jens", "Ole", "Lærke"]
    return "".join(f"{name}: " + " ".join(f"Sætning {5 * t + k + 1} om kaffen i Aabenraa."
                                          for k in range(5)) + "\n"
                   for t, name in enumerate(names))


@pytest.fixture
def sparse_coded(any_store, tmp_path: Path, blank_nlp):
    """A 30-sentence transcript with a machine suggestion (mek_kaffe) on every sentence,
    coded blind: Fuld accepted 1-20 and rejected 21-30 (every turn); Lidt made three
    decisions: accepted 1, rejected 2 (turn 1) and accepted 25 (turn 5)."""
    from evaltool import codebook
    from evaltool.domain import Suggestion
    from tests.conftest import FIXTURES

    store = any_store
    path = tmp_path / "lang_aabenraa.txt"
    path.write_text(_long_transcript(), encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    store.load_codebook(codebook.load(FIXTURES / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    segments = store.segments(1)
    assert [s.id for s in segments] == list(range(1, 31))
    store.write_suggestions([Suggestion(s.id, K, "model", 0.6, "kaffe") for s in segments],
                            segment_ids=[s.id for s in segments], model_version="m1",
                            codebook_version=1)
    store.assign(1, ["Fuld", "Lidt"])
    shared = {v.segment_id: v.id for v in store.coding_views(status="all")}
    for seg in range(1, 31):
        store.decide_as("Fuld", shared[seg], "accept" if seg <= 20 else "reject")
    store.decide_as("Lidt", shared[1], "accept")
    store.decide_as("Lidt", shared[2], "reject")
    store.decide_as("Lidt", shared[25], "accept")
    return store


# Worked by hand. Fuld reviewed all six turns, Lidt turns 1 and 5 (a decision in each).
# Segment unit: the segments of turns 1 and 5 that either coded: 1-5 (Fuld K on each,
# Lidt K on 1 only) and 25 (Lidt K, Fuld rejected it); 21-24 nobody coded.
#   Fuld: K K K K K ∅   Lidt: K ∅ ∅ ∅ ∅ K   -> agreement 1/6
#   kappa: p_e = (5*2 + 1*4)/36 = 14/36; (6/36 - 14/36) / (22/36) = -4/11
#   alpha: 12 values, K 7, ∅ 5; D_o = 10/12, D_e = (144 - 49 - 25)/132 = 70/132;
#          1 - (10/12)/(70/132) = -4/7
# Reviewed segments: Fuld 30, Lidt 10 (< 20: sparse). Turn unit: turns 1 (K, K) and 5 (∅, K);
# reviewed turns Fuld 6, Lidt 2: both under 20 -> both sparse.


def test_only_units_both_reviewed_are_compared(sparse_coded) -> None:
    report = rel.reliability(sparse_coded, "Fuld", "Lidt")
    assert (report.units, report.reviewed_a, report.reviewed_b) == (6, 30, 10)
    assert report.agreement == pytest.approx(1 / 6)
    assert report.kappa == pytest.approx(-4 / 11)
    assert report.alpha == pytest.approx(-4 / 7)
    assert report.sparse == ("Lidt",)
    found = rel.disagreements(sparse_coded, "Fuld", "Lidt")
    assert [(u.segment_ids, u.codes_a, u.codes_b) for u in found] == [
        ((2,), (K,), ()), ((3,), (K,), ()), ((4,), (K,), ()), ((5,), (K,), ()), ((25,), (), (K,))]


def test_turn_unit_compares_turns_both_reviewed(sparse_coded) -> None:
    report = rel.reliability(sparse_coded, "Fuld", "Lidt", unit="turn")
    assert (report.units, report.agreement, report.reviewed_a, report.reviewed_b) == (2, 0.5, 6, 2)
    assert report.sparse == ("Fuld", "Lidt")
    [u] = rel.disagreements(sparse_coded, "Fuld", "Lidt", unit="turn")
    assert (u.kind, u.turn, u.segment_ids, u.codes_a, u.codes_b) == (
        "turn", 5, (21, 22, 23, 24, 25), (), (K,))


def test_sparse_threshold_counts_both_sides(sparse_coded) -> None:
    assert rel.sparse_coders(("A", 29), ("B", 300)) == ("A",)  # 29 < 10 % of 300
    assert rel.sparse_coders(("A", 30), ("B", 300)) == ()
    assert rel.sparse_coders(("A", 20), ("B", 20)) == ()
    assert rel.sparse_coders(("A", 19), ("B", 19)) == ("A", "B")
    assert rel.sparse_coders(("A", 0), ("B", 0)) == ("A", "B")


def test_cli_warns_and_lists_turns(sparse_coded, runner, tmp_path: Path) -> None:
    db = sparse_coded.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "r.json"
    result = runner.invoke(cli, ["--db", db, "reliability", "--coders", "Fuld", "Lidt",
                                 "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 segments in 1 document: agreement 0.167" in result.output
    assert ("warning: Lidt reviewed too few segments for these figures to mean much "
            "(reviewed: Fuld 30, Lidt 10; compared: 6; wanted: at least 20 and at least "
            "10% of the other coder's)") in result.output.splitlines()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (data["reviewed_a"], data["reviewed_b"], data["sparse"]) == (30, 10, ["Lidt"])
    result = runner.invoke(cli, ["--db", db, "disagreements", "--coders", "Fuld", "Lidt",
                                 "--unit", "turn"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["document", "turn", "sentences", "Fuld", "Lidt", "text"]
    assert lines[2].split()[:5] == ["lang_aabenraa.txt", "5", "5", "-", K]
    assert len(lines) == 4 and lines[3].startswith("warning: Fuld and Lidt reviewed too few turns")


def test_a_turn_marked_done_counts_as_reviewed(sparse_coded) -> None:
    sparse_coded.mark_done(1, "Lidt", turn=3)  # read, nothing to code: Fuld's codes there differ
    report = rel.reliability(sparse_coded, "Fuld", "Lidt")
    assert (report.units, report.reviewed_b) == (11, 15)
    assert [u.segment_ids[0] for u in rel.disagreements(sparse_coded, "Fuld", "Lidt")][-6:] == [
        11, 12, 13, 14, 15, 25]
