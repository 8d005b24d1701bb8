"""The learning loop: training takes negatives only from what a human has seen."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import codebook, gold
from evaltool.autocode import run
from evaltool.cli import cli
from evaltool.importer import import_paths

FIXTURES = Path(__file__).parent / "fixtures"
PARTIAL = FIXTURES / "partial"
TOUCHED = "mek_kaffe"  # the only code the coder reviews in the first half
HALF = 10  # turns 1..10 reviewed, 11..20 not


@pytest.fixture
def thisted(store, model_nlp):
    """A 20-turn transcript with the mini codebook loaded (no seed) and its gold rows."""
    assert import_paths([PARTIAL / "kaffe_thisted.txt"], store, lambda: model_nlp).failed == 0
    store.load_codebook(codebook.load(FIXTURES / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    doc = store.list_documents()[0]
    turns, segments = store.turns(doc.id), store.segments(doc.id)
    rows = gold.read_file(PARTIAL / "kaffe_thisted.csv")
    labels: dict[int, set[str]] = {}
    for seg, code, _ in gold.resolve(rows, turns, segments):
        labels.setdefault(seg, set()).add(code)
    turn_of = {s.id: s.turn for s in segments}
    return store, doc, labels, turn_of


def _open(store, doc_id: int) -> dict[tuple[int, str], float]:
    return {(v.segment_id, v.code_key): v.confidence or 0.0
            for v in store.coding_views(status="suggested", document_id=doc_id)}


def _f1(pred: set[tuple[int, str]], truth: set[tuple[int, str]]) -> float:
    tp = len(pred & truth)
    return 2 * tp / (len(pred) + len(truth)) if pred or truth else 1.0


def _review_first_half(store, doc_id: int, labels: dict[int, set[str]], turn_of: dict[int, int],
                       n: int | None = None) -> int:
    """The coder decides the first half's suggestions of one code, as gold says (at most n)."""
    done = 0
    for v in store.coding_views(status="suggested", document_id=doc_id):
        if turn_of[v.segment_id] <= HALF and v.code_key == TOUCHED and (n is None or done < n):
            ok = TOUCHED in labels.get(v.segment_id, set())
            store.decide_as("ana", v.id, "accept" if ok else "reject")
            done += 1
    if n is None:  # codes the machine missed are added
        have = {v.segment_id for v in store.coding_views(status="accepted", document_id=doc_id)}
        for seg, codes in labels.items():
            if turn_of[seg] <= HALF and TOUCHED in codes and seg not in have:
                store.add_as("ana", [seg], TOUCHED)
    return done


def test_partial_review_does_not_harm_the_unreviewed_part(thisted, model_nlp) -> None:
    store, doc, labels, turn_of = thisted
    run.run(store, lambda: model_nlp, retrain=True)
    before = _open(store, doc.id)
    assert _review_first_half(store, doc.id, labels, turn_of) > 0
    run.run(store, lambda: model_nlp, retrain=True)
    after = _open(store, doc.id)
    rest = {s for s, t in turn_of.items() if t > HALF}
    truth = {(s, c) for s, codes in labels.items() if s in rest for c in codes}
    for code in ("ctx_strategi", "udf_nye_brugere", "udf_invitationer"):
        b = {k for k in before if k[0] in rest and k[1] == code}
        a = {k for k in after if k[0] in rest and k[1] == code}
        t = {k for k in truth if k[1] == code}
        assert b & t <= a, f"{code}: correct suggestions on unreviewed text were withdrawn"
        assert _f1(a, t) >= _f1(b, t), code


def test_retraining_after_a_few_decisions_keeps_open_suggestions(thisted, model_nlp) -> None:
    store, doc, labels, turn_of = thisted
    run.run(store, lambda: model_nlp, retrain=True)
    n_open = len(_open(store, doc.id))
    assert _review_first_half(store, doc.id, labels, turn_of, n=2) == 2
    report = run.run(store, lambda: model_nlp, retrain=True)
    assert report.removed <= max(1, n_open // 10), (report.removed, n_open)


def test_seen_turns_and_done_marks(thisted, model_nlp) -> None:
    store, doc, _, turn_of = thisted
    run.run(store, lambda: model_nlp, retrain=True)
    assert store.reviewed_labels().turns == frozenset()  # nothing seen: nothing to learn from
    first = next(v for v in store.coding_views(status="suggested", document_id=doc.id)
                 if turn_of[v.segment_id] == 3)
    store.decide_as("ana", first.id, "reject")
    seen = store.reviewed_labels()
    assert seen.turns == {(doc.id, 3)}
    still = {(s, c) for s, cs in seen.open.items() for c in cs}
    assert all(turn_of[s] == 3 for s, _ in still)  # undecided suggestions there: unknown
    assert (first.segment_id, first.code_key) not in still
    assert store.mark_done(doc.id, "ana", turn=3) and not store.mark_done(doc.id, "ana", turn=3)
    assert store.reviewed_labels().open == {}  # a turn marked done: left-off codes are negatives
    assert store.mark_done(doc.id, "ana")
    assert store.reviewed_labels().turns == {(doc.id, t) for t in range(1, 21)}
    assert store.mark_done(doc.id, "ana", done=False)
    assert store.reviewed_labels().turns == {(doc.id, 3)}


def test_review_done_cli(thisted, runner, db_path: Path) -> None:
    store, doc, _, _ = thisted
    args = ["--db", str(db_path), "review", "--done", doc.name, "--coder", "ana"]
    result = runner.invoke(cli, [*args, "--turn", "4"])
    assert result.exit_code == 0, result.output
    assert "turn 4" in result.output and "done" in result.output
    assert store.reviewed_labels().turns == {(doc.id, 4)}
    result = runner.invoke(cli, [*args, "--turn", "4", "--undone"])
    assert result.exit_code == 0 and store.reviewed_labels().turns == frozenset()
    result = runner.invoke(cli, [*args, "--turn", "99"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: document {doc.id} has no turn 99"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0 and len(store.reviewed_labels().turns) == 20
