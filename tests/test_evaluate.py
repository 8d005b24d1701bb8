"""Leave-one-site-out evaluation: metric arithmetic and the protocol."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from evaltool import codebook, gold
from evaltool.cli import cli
from evaltool.errors import EvaltoolError
from evaltool.evaluate import (
    SWEEP,
    Counts,
    SystemResult,
    dev_agreement,
    evaluate,
    fold_predictions,
    format_dev,
    load_gold_units,
    read_dev,
    training_pool,
)

MINI = Path(__file__).parent / "fixtures" / "mini_kodebog.yaml"


def test_counts_by_hand() -> None:
    c = Counts()
    for truth, pred in [(1, 1), (1, 1), (1, 1), (0, 1), (1, 0), (1, 0), (0, 0)]:
        c.add(bool(truth), bool(pred))
    assert (c.tp, c.fp, c.fn) == (3, 1, 2)
    assert c.prf() == {"precision": 0.75, "recall": 0.6, "f1": 0.667, "support": 5}


def test_kappa_by_hand() -> None:
    # observed agreement 0.75; chance 0.5*0.25 + 0.5*0.75 = 0.5; kappa (0.75-0.5)/0.5 = 0.5
    r = SystemResult(kappa_pairs={"context": ([1, 1, 0, 0], [1, 0, 0, 0])})
    assert r.summary([], [])["kappa"] == {"context": 0.5}


def test_leave_one_site_out(coded_store, fixtures: Path, model_nlp) -> None:
    spec = codebook.load(MINI)
    report = evaluate(coded_store, fixtures / "gold", spec, model_nlp, threshold=0.3)
    sizes = {d.site: d.segments for d in coded_store.list_documents()}
    assert [(f["site"], f["train_segments"], f["test_segments"]) for f in report.folds] == [
        ("Morsø", sizes["Vesthimmerland"], sizes["Morsø"]),
        ("Vesthimmerland", sizes["Morsø"], sizes["Vesthimmerland"])]
    assert set(report.systems) == {"majority", "rules", "model", "combined"}
    assert set(report.cold_start) == {"rules", "model", "combined"}  # no labels: no majority
    rules = report.systems["rules"]
    # every gold quote but one is caught by a pattern: "Og kagen!" has two words, and
    # segments that short get no suggestions
    assert rules["code_micro"]["recall"] == round(6 / 7, 3)
    assert rules["code_micro"]["precision"] == 1.0
    assert rules["categories"]["theme:T1"]["support"] == 5  # turns with a T1 code in gold
    majority = report.systems["majority"]
    assert majority["codes"]["mek_kaffe"]["support"] == 3


def _sites(store, fixtures: Path, spec, nlp):
    data = load_gold_units(store, fixtures / "gold", spec)
    seed = []
    for part in data:  # the same material as a seed file written by `gold seed`
        for doc_id, name in part.documents.items():
            labels = {s: c for s, c in part.labels.items()}
            seed.extend(gold.seed_records(store.turns(doc_id), store.segments(doc_id), labels,
                                          name, part.site))
    return data, seed


def test_held_out_labels_cannot_change_own_predictions(coded_store, fixtures: Path,
                                                       model_nlp) -> None:
    """Perturbation: scramble the held-out site's gold and seed labels; its predictions and
    its chosen threshold stay exactly the same (and another site's labels do matter)."""
    spec = codebook.load(MINI)
    data, seed = _sites(coded_store, fixtures, spec, model_nlp)
    held = data[0].site
    codes = [c.id for c in spec.codes]

    def scrambled(site: str) -> tuple[list, list]:
        new_data = [replace(p, labels={s: {codes[(s + i) % len(codes)]} for i, s in
                                       enumerate(u.segment_id for u in p.units)})
                    if p.site == site else p for p in data]
        new_seed = [{**r, "sentences": [[t, [codes[0]]] for t, _ in r["sentences"]]}
                    if r["site"] == site else r for r in seed]
        return new_data, new_seed

    def run_fold(d, sd):
        pool = training_pool(sd, d, model_nlp)
        cut, pred, _ = fold_predictions(spec, pool, d, held, model_nlp)
        return cut, pred

    before = run_fold(data, seed)
    assert run_fold(*scrambled(held)) == before
    other = data[1].site
    assert run_fold(*scrambled(other)) != before  # the check can fail: training labels count


def test_seed_without_sites_is_refused(coded_store, fixtures: Path, model_nlp) -> None:
    spec = codebook.load(MINI)
    _, seed = _sites(coded_store, fixtures, spec, model_nlp)
    old = [{k: v for k, v in r.items() if k not in ("site", "document")} for r in seed]
    with pytest.raises(EvaltoolError, match="do not name their source site"):
        evaluate(coded_store, fixtures / "gold", spec, model_nlp, seed=old)


def test_seed_records_keep_document_and_site(coded_store, fixtures: Path, tmp_path: Path) -> None:
    coded_store_seed = tmp_path / "mini.seed.jsonl"
    gold.write_seed(coded_store, fixtures / "gold", coded_store_seed)
    records = gold.read_seed(coded_store_seed, {c.id for c in codebook.load(MINI).codes})
    assert {(r["document"], r["site"]) for r in records} == {
        ("kaffe_morsoe.txt", "Morsø"), ("kaffe_aars.txt", "Vesthimmerland")}


def test_cli_evaluate_prints_table_and_json(coded_store, db_path: Path, fixtures: Path,
                                            tmp_path: Path, runner) -> None:
    out = tmp_path / "metrics.json"
    result = runner.invoke(cli, ["--db", str(db_path), "evaluate", "--gold",
                                 str(fixtures / "gold"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["system", "theme", "macro-F1"]
    assert [line.split()[0] for line in lines[2:6]] == ["majority", "rules", "model", "combined"]
    assert [" ".join(line.split()[:3]) for line in lines[6:9]] == [
        "cold start: rules", "cold start: model", "cold start: combined"]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["protocol"] == "leave-one-site-out"
    assert data["threshold_choice"].startswith("per fold")
    assert data["systems"]["rules"]["theme_macro_f1"] == float(lines[3].split()[1])
    assert "theme kappa" in lines[0]  # theme κ beside CMO κ, with seed and at cold start
    assert data["systems"]["rules"]["theme_kappa"] == float(lines[3].split()[4])
    assert data["cold_start"]["combined"]["theme_kappa"] == float(lines[8].split()[6])
    assert all(f["threshold"] in SWEEP for f in data["folds"])


DEV = """quote_id,source_lines,kind,quote,code,note
q1,1-1,citat,"Vi drak kaffe og spiste kage hver tirsdag, og så begyndte de at fortælle.",mek_kaffe,
q2,2-2,case,Kommunens strategi for samskabelse gav os ryg at stå op ad.,ctx_strategi,
q2,2-2,case,Kommunens strategi for samskabelse gav os ryg at stå op ad.,udf_invitationer,
"""


def test_development_set_agreement(tmp_path: Path, model_nlp) -> None:
    spec = codebook.load(MINI)
    path = tmp_path / "dev.csv"
    path.write_text(DEV, encoding="utf-8")
    rows = read_dev(path, {c.id for c in spec.codes})
    assert [(q.quote_id, q.kind, sorted(q.codes)) for q in rows] == [
        ("q1", "citat", ["mek_kaffe"]), ("q2", "case", ["ctx_strategi", "udf_invitationer"])]
    seed = [{"site": "A", "document": "a.txt", "role": "", "moderator": False, "sentences": [
        ["Over en kop kaffe blev stemningen helt afslappet.", ["mek_kaffe"]],
        ["Vi talte om vejret og bussen.", []],
        ["Der kom mange nye brugere på biblioteket.", ["udf_nye_brugere"]]]}]
    dev = dev_agreement(spec, seed, rows, model_nlp)
    assert dev["quotes"] == 2 and dev["majority_code"] in {"mek_kaffe", "udf_nye_brugere"}
    assert dev["combined"]["code_turn_f1"] > 0  # the coffee quote is caught
    assert 0 <= dev["combined"]["theme_agreement"] <= 1
    # beside the model a project runs: the codebook's examples alone and the majority guess
    assert set(dev) >= {"combined", "cold_start", "majority", "by_kind"}
    assert {k: v["quotes"] for k, v in dev["by_kind"].items()} == {"case": 1, "citat": 1}
    assert dev["by_kind"]["citat"]["combined"]["code_turn_f1"] > 0  # the coffee quote
    text = format_dev(dev)
    assert "development set (2 quotes" in text
    assert all(w in text for w in ("with seed:", "cold start:", "majority:", "theme κ",
                                   "citat (1 quote)"))
    path.write_text(DEV.replace("mek_kaffe,", "mek_te,"), encoding="utf-8")
    with pytest.raises(EvaltoolError, match=r"dev.csv:2: unknown code 'mek_te'"):
        read_dev(path, {c.id for c in spec.codes})
