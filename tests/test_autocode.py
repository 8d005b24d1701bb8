"""Auto-coding: rules on inflected Danish, training, idempotence, human decisions kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool import autocode, codebook, gold
from evaltool.autocode import run
from evaltool.autocode.rules import RuleCoder

MINI = Path(__file__).parent / "fixtures" / "mini_kodebog.yaml"


@pytest.mark.parametrize(
    ("sentence", "code", "words"),
    [
        ("Vi snakkede over kaffen hver tirsdag.", "mek_kaffe", ["kaffen"]),
        ("Eftermiddagskaffe er vigtig for dem.", "mek_kaffe", ["Eftermiddagskaffe"]),
        ("Der var kager til alle.", "mek_kaffe", ["kager"]),
        ("Kommunens samskabelsesstrategi var vores afsæt.", "ctx_strategi",
         ["samskabelsesstrategi"]),
        ("Strategierne blev skrevet på rådhuset.", "ctx_strategi", ["Strategierne"]),
        ("Mange nye brugere kom ind ad døren.", "udf_nye_brugere", ["nye brugere"]),
        ("Hun havde aldrig før været her.", "udf_nye_brugere", ["aldrig før været"]),
    ],
)
def test_rules_match_inflected_and_compound_forms(model_nlp, sentence: str, code: str,
                                                  words: list[str]) -> None:
    rules = RuleCoder(codebook.load(MINI).codes)
    assert rules.match_text(sentence, model_nlp).get(code) == words


def test_rules_do_not_fire_on_unrelated_text(model_nlp) -> None:
    rules = RuleCoder(codebook.load(MINI).codes)
    assert rules.match_text("Vi talte om vejret og om bussen til Nykøbing.", model_nlp) == {}


def test_autocode_suggests_with_explanations(coded_store, model_nlp) -> None:
    report = run.run(coded_store, lambda: model_nlp)
    assert report.trained and report.documents == 2 and report.added > 0
    views = coded_store.coding_views(status="suggested")
    by_text = {(v.text, v.code_key): v for v in views}
    kaffe = by_text[("Over en kop kaffe begyndte de ældre at fortælle.", "mek_kaffe")]
    assert kaffe.source in ("rules", "combined")
    assert "regel: kaffe" in kaffe.explanation
    assert 0.5 <= kaffe.confidence <= 1.0
    # moderator turns and very short segments get no suggestions
    assert not [v for v in views if v.speaker == "Ordstyrer"]
    assert all(v.coder is None and v.status == "suggested" for v in views)
    # themes, goals and CMO kind come from the code
    assert (kaffe.cmo, kaffe.themes, kaffe.goals) == ("mechanism", ("T1",), ("G1",))


def _state(store) -> list[tuple]:
    return sorted((v.segment_id, v.code_key, v.status, v.source, v.confidence, v.explanation,
                   v.version) for v in store.coding_views(status="all"))


def test_rerun_is_idempotent(coded_store, model_nlp) -> None:
    run.run(coded_store, lambda: model_nlp)
    first = _state(coded_store)
    second_report = run.run(coded_store, lambda: model_nlp)
    assert (second_report.added, second_report.updated, second_report.removed) == (0, 0, 0)
    assert second_report.unchanged == len(first)
    assert _state(coded_store) == first


def test_human_decisions_survive_autocode(coded_store, model_nlp) -> None:
    run.run(coded_store, lambda: model_nlp)
    views = {(v.text, v.code_key): v for v in coded_store.coding_views(status="suggested")}
    accept = views[("Over en kop kaffe begyndte de ældre at fortælle.", "mek_kaffe")]
    reject = next(v for k, v in views.items() if k[1] == "udf_nye_brugere")
    coded_store.decide(accept.id, "accept", "Anna", expected_version=accept.version)
    coded_store.decide(reject.id, "reject", "Anna", expected_version=reject.version,
                       memo="Handler om noget andet")
    quiet = coded_store.segments(1)[3]
    coded_store.add_coding([quiet.id], "ctx_strategi", "Anna")
    before = {v.id: (v.status, v.coder, v.memo) for v in coded_store.coding_views(status="all")
              if v.coder}
    run.run(coded_store, lambda: model_nlp, retrain=True)
    after = {v.id: (v.status, v.coder, v.memo) for v in coded_store.coding_views(status="all")
             if v.id in before}
    assert after == before
    assert after[reject.id] == ("rejected", "Anna", "Handler om noget andet")
    # the rejected suggestion is not suggested again as a second row
    same = [v for v in coded_store.coding_views(status="all")
            if (v.segment_id, v.code_key) == (reject.segment_id, reject.code_key)]
    assert len(same) == 1


def test_retraining_on_new_decisions_changes_suggestions(coded_store, model_nlp) -> None:
    run.run(coded_store, lambda: model_nlp)
    old = {(v.segment_id, v.code_key): v.confidence
           for v in coded_store.coding_views(status="suggested")}
    old_version = coded_store.latest_model()["version"]
    segs = coded_store.segments(2)
    target = next(s for s in segs if s.text.startswith("Det skabte tryghed"))
    coded_store.add_coding([target.id], "mek_kaffe", "Anna")
    report = run.run(coded_store, lambda: model_nlp, retrain=True)
    assert report.trained and report.model_version != old_version
    new = {(v.segment_id, v.code_key): v.confidence
           for v in coded_store.coding_views(status="suggested")}
    assert new != old


def test_latest_model_without_blob_reads_the_same_model(coded_store, model_nlp) -> None:
    """The review queue reads the model's threshold on every click: without the pickle."""
    run.run(coded_store, lambda: model_nlp)
    full, light = coded_store.latest_model(), coded_store.latest_model(blob=False)
    assert full["blob"] and light["blob"] is None
    assert {k: v for k, v in light.items() if k != "blob"} == {
        k: v for k, v in full.items() if k != "blob"}


def test_uncertainty_order_puts_borderline_first(coded_store, model_nlp) -> None:
    run.run(coded_store, lambda: model_nlp)
    queue = run.review_queue(coded_store, order="uncertainty")
    assert queue
    assert [q.uncertainty for q in queue] == sorted((q.uncertainty for q in queue), reverse=True)
    assert autocode.uncertainty(autocode.THRESHOLD) == 1.0
    assert autocode.uncertainty(1.0) == 0.0


def test_gold_load_is_idempotent_and_exact(coded_store, fixtures: Path) -> None:
    n = gold.load_gold(coded_store, fixtures / "gold")
    assert n == 7
    assert gold.load_gold(coded_store, fixtures / "gold") == 0
    views = coded_store.coding_views(status="accepted")
    assert {(v.document, v.turn, v.code_key, v.source, v.coder) for v in views} >= {
        ("kaffe_morsoe.txt", 3, "mek_kaffe", "gold", "guld"),
        ("kaffe_aars.txt", 2, "udf_invitationer", "gold", "guld")}
    memo = next(v for v in views if v.code_key == "udf_nye_brugere" and v.site == "Morsø")
    assert memo.memo == "C: ældre alene; M: kaffe"


def test_cli_ingest_then_autocode_loads_the_codebook(runner, db_path: Path, fixtures: Path) -> None:
    from evaltool.cli import cli

    base = ["--db", str(db_path)]
    assert runner.invoke(cli, [*base, "ingest", str(fixtures / "kaffe_morsoe.txt")]).exit_code == 0
    result = runner.invoke(cli, [*base, "autocode", "--codebook", str(MINI), "--order",
                                 "uncertainty"])
    assert result.exit_code == 0, result.output
    assert "no codebook loaded yet: loaded" in result.output
    assert "1 document," in result.output and "new suggestions" in result.output
    assert "mek_kaffe" in result.output  # the review queue lists it
    again = runner.invoke(cli, [*base, "autocode", "--codebook", str(MINI)])
    assert "no codebook loaded yet" not in again.output
    assert " 0 new suggestions" in again.output


def test_seed_training_data_round_trip(coded_store, fixtures: Path, model_nlp, tmp_path: Path,
                                       db_path: Path) -> None:
    """Gold-coded transcripts written as a seed train a fresh database's model."""
    from evaltool.importer import import_paths
    from evaltool.store import open_store

    seed_file = tmp_path / "mini.seed.jsonl"
    assert gold.write_seed(coded_store, fixtures / "gold", seed_file) == 11  # all turns of both
    lines = seed_file.read_text(encoding="utf-8").splitlines()
    assert '"Over en kop kaffe begyndte de ældre at fortælle.", ["mek_kaffe"]' in lines[1]

    fresh = open_store(str(tmp_path / "fresh.db"))
    import_paths([fixtures / "fokusgruppe.txt"], fresh, lambda: model_nlp)
    codebook_copy = tmp_path / "mini.yaml"
    codebook_copy.write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    codebook.load_codebook_file(fresh, codebook_copy)  # picks up mini.seed.jsonl beside it
    assert len(fresh.codebook_seed()) == 11
    report = run.run(fresh, lambda: model_nlp)
    assert report.trained
    assert fresh.latest_model()["metrics"]["seed_segments"] > 0
    kaffe = [v for v in fresh.coding_views(status="suggested") if v.code_key == "mek_kaffe"]
    assert kaffe and kaffe[0].source in ("model", "combined")
    codebook.load_codebook_file(fresh, codebook_copy, seed=False)
    assert fresh.codebook_seed() == []


def test_bad_seed_file_names_line(tmp_path: Path) -> None:
    from evaltool.errors import IngestError

    path = tmp_path / "x.seed.jsonl"
    path.write_text('{"role": "", "moderator": false, "sentences": [["Hej.", []]]}\n'
                    '{"sentences": [["Kaffe.", ["mek_findes_ikke"]]]}\n', encoding="utf-8")
    with pytest.raises(IngestError, match=r"x\.seed\.jsonl:2: unknown code 'mek_findes_ikke'"):
        gold.read_seed(path, {"mek_kaffe"})
    path.write_text("ikke json\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r":1: not a seed record"):
        gold.read_seed(path, {"mek_kaffe"})
