"""The learning-curve benchmark: which turns it reveals, which it scores, and that the
gold codes of turns it has not revealed never reach the model."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from benchmarks.learning_curve import (
    reveal_and_retrain,
    run_curve,
    site_database,
    turn_split,
)
from evaltool import gold
from evaltool.autocode import run
from evaltool.store import open_store

FIXTURES = Path(__file__).parent / "fixtures"
PARTIAL = FIXTURES / "partial"  # kaffe_thisted.txt (20 turns) and its gold codings
MINI = FIXTURES / "mini_kodebog.yaml"
TRANSCRIPT = PARTIAL / "kaffe_thisted.txt"


@pytest.mark.parametrize("n_turns", [20, 7, 67])
def test_first_k_percent_revealed_last_half_scored(n_turns: int) -> None:
    sizes = []
    scored_sets = []
    for k in (0, 10, 25, 50):
        revealed, scored = turn_split(n_turns, k)
        assert revealed == set(range(1, len(revealed) + 1))  # the first turns, in order
        assert len(revealed) == math.ceil(n_turns * k / 100)
        assert not revealed & scored  # nothing revealed is scored
        sizes.append(len(revealed))
        scored_sets.append(scored)
    assert sizes == sorted(sizes) and sizes[0] == 0 and sizes[-1] > 0
    assert all(s == scored_sets[0] for s in scored_sets)  # the same turns at every k
    assert max(scored_sets[0]) == n_turns and len(scored_sets[0]) == n_turns // 2


@pytest.mark.parametrize("n_turns", [20, 7])
def test_spread_order_reveals_odd_turns_and_scores_even_ones(n_turns: int) -> None:
    sizes = []
    for k in (0, 10, 25, 50):
        revealed, scored = turn_split(n_turns, k, "spread")
        assert scored == set(range(2, n_turns + 1, 2)) and not revealed & scored
        assert len(revealed) == min(math.ceil(n_turns * k / 100), (n_turns + 1) // 2)
        sizes.append(len(revealed))
    assert sizes == sorted(sizes)
    assert max(turn_split(20, 25, "spread")[0]) > 10  # spread over the transcript
    with pytest.raises(ValueError):
        turn_split(20, 10, "random")


def test_curve_on_a_small_transcript(tmp_path: Path, model_nlp) -> None:
    result = run_curve([TRANSCRIPT], [], tmp_path, model_nlp, (0, 25, 50),
                       codebook_path=MINI, gold_dir=PARTIAL)
    steps = result["sites"][0]["steps"]
    assert result["sites"][0]["site"] == "Thisted"
    assert [s["revealed_turns"] for s in steps] == [0, 5, 10]
    assert [s["scored_turns"] for s in steps] == [10, 10, 10]
    decisions = [s["decisions"] for s in steps]
    assert decisions[0] == 0 and decisions == sorted(decisions) and decisions[-1] > decisions[1]
    assert [row["k"] for row in result["mean"]] == [0, 25, 50]
    assert all(-1 <= s["cmo_kappa"] <= 1 for s in steps)


@pytest.fixture
def site_db(tmp_path: Path, model_nlp) -> Path:
    """The fixture transcript alone with the mini codebook, auto-coded once."""
    path = tmp_path / "site.db"
    site_database(path, TRANSCRIPT, [], "Thisted", model_nlp, MINI)
    store = open_store(str(path))
    try:
        run.run(store, lambda: model_nlp, retrain=True)
    finally:
        store.close()
    return path


def _reveal(path: Path, copy: Path, shown: set[int], change: set[int], nlp):
    """Reveal ``shown`` on a copy of the site database, with the gold codes of the turns in
    ``change`` replaced by a wrong code; (predictions on the other turns, turns trained on)."""
    shutil.copyfile(path, copy)
    store = open_store(str(copy))
    try:
        doc = store.list_documents()[0]
        item = gold.stored_documents(store, PARTIAL, {c.key for c in store.codes()}, {doc.id})[0]
        turn_of = {s.id: s.turn for s in item.segments}
        labels = {seg: ({"udf_invitationer"} if turn_of[seg] in change else codes)
                  for seg, codes in item.labels().items()}
        labels.update({s.id: {"udf_invitationer"} for s in item.segments
                       if s.turn in change and s.id not in labels})
        _, predicted = reveal_and_retrain(store, doc.id, labels, shown, turn_of, nlp)
        units, _, _ = run.training_data(store)
        return predicted, {u.turn for u in units}
    finally:
        store.close()


def test_unrevealed_gold_never_reaches_the_model(site_db: Path, tmp_path: Path,
                                                 model_nlp) -> None:
    shown, _ = turn_split(20, 25)
    before, trained = _reveal(site_db, tmp_path / "a.db", shown, set(), model_nlp)
    assert trained and trained <= shown  # only revealed turns are training material
    # wrong gold on every turn not revealed: the suggestions there stay exactly the same
    after, _ = _reveal(site_db, tmp_path / "b.db", shown, set(range(1, 21)) - shown, model_nlp)
    assert after == before
    # the check can fail: wrong gold on the revealed turns does change them
    wrong, _ = _reveal(site_db, tmp_path / "c.db", shown, shown, model_nlp)
    assert wrong != before
