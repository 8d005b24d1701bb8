"""Leave-one-site-out evaluation: metric arithmetic and the protocol."""

from __future__ import annotations

import json
from pathlib import Path

from evaltool import codebook
from evaltool.cli import cli
from evaltool.evaluate import Counts, SystemResult, evaluate

MINI = Path(__file__).parent / "fixtures" / "mini_kodebog.yaml"


def test_counts_by_hand() -> None:
    c = Counts()
    for gold, pred in [(1, 1), (1, 1), (1, 1), (0, 1), (1, 0), (1, 0), (0, 0)]:
        c.add(bool(gold), bool(pred))
    assert (c.tp, c.fp, c.fn) == (3, 1, 2)
    assert c.prf() == {"precision": 0.75, "recall": 0.6, "f1": 0.667, "support": 5}


def test_kappa_by_hand() -> None:
    # observed agreement 0.75; chance 0.5*0.25 + 0.5*0.75 = 0.5; kappa (0.75-0.5)/0.5 = 0.5
    r = SystemResult(kappa_pairs={"context": ([1, 1, 0, 0], [1, 0, 0, 0])})
    assert r.summary([], [])["kappa"] == {"context": 0.5}


def test_leave_one_site_out(coded_store, fixtures: Path, model_nlp) -> None:
    spec = codebook.load(MINI)
    report = evaluate(coded_store, fixtures / "gold", spec, model_nlp)
    sizes = {d.site: d.segments for d in coded_store.list_documents()}
    assert [(f["site"], f["train_segments"], f["test_segments"]) for f in report.folds] == [
        ("Morsø", sizes["Vesthimmerland"], sizes["Morsø"]),
        ("Vesthimmerland", sizes["Morsø"], sizes["Vesthimmerland"])]
    assert set(report.systems) == {"majority", "rules", "model", "combined"}
    rules = report.systems["rules"]
    # every gold quote but one is caught by a pattern: "Og kagen!" has two words, and
    # segments that short get no suggestions
    assert rules["code_micro"]["recall"] == round(6 / 7, 3)
    assert rules["code_micro"]["precision"] == 1.0
    assert rules["categories"]["theme:T1"]["support"] == 5  # turns with a T1 code in gold
    majority = report.systems["majority"]
    assert majority["codes"]["mek_kaffe"]["support"] == 3


def test_cli_evaluate_prints_table_and_json(coded_store, db_path: Path, fixtures: Path,
                                            tmp_path: Path, runner) -> None:
    out = tmp_path / "metrics.json"
    result = runner.invoke(cli, ["--db", str(db_path), "evaluate", "--gold",
                                 str(fixtures / "gold"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["system", "theme", "macro-F1"]
    assert [line.split()[0] for line in lines[2:6]] == ["majority", "rules", "model", "combined"]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["protocol"] == "leave-one-site-out"
    assert data["systems"]["rules"]["theme_macro_f1"] == float(lines[3].split()[1])
