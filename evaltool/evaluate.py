"""Leave-one-site-out evaluation of auto-coding against gold codings.

For every site, a coder is trained on the gold codings of the other sites (plus the
codebook's examples) and scored on the held-out site's transcripts, so no
transcript is ever scored by a model that saw it. Reported:

- per code: precision, recall, F1 at segment level;
- per CMO kind, theme and goal: precision, recall, F1 at turn level (a turn has a
  theme when any of its codings' codes has it), macro-F1 over themes;
- Cohen's kappa at turn level per CMO kind (presence in a turn, gold vs. predicted)
  and its mean (``cmo_kappa``);
- for four systems: majority class (every codable turn gets the training data's
  most frequent code), rules only, model only, and rules + model combined.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.metrics import cohen_kappa_score

from evaltool import autocode, gold
from evaltool.autocode.model import Params
from evaltool.codebook import CodebookSpec
from evaltool.domain import CMO_KINDS, CodingUnit
from evaltool.errors import EvaltoolError
from evaltool.texttable import table

SYSTEMS = ("majority", "rules", "model", "combined")
SWEEP = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


@dataclass
class Counts:
    """True/false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold_has: bool, pred_has: bool) -> None:
        """Count one binary decision."""
        self.tp += gold_has and pred_has
        self.fp += pred_has and not gold_has
        self.fn += gold_has and not pred_has

    def prf(self) -> dict[str, float]:
        """Precision, recall, F1 and support."""
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
                "support": self.tp + self.fn}


@dataclass
class SystemResult:
    """Metrics of one system."""

    codes: dict[str, Counts] = field(default_factory=dict)
    categories: dict[str, Counts] = field(default_factory=dict)
    kappa_pairs: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)

    def summary(self, themes: Sequence[str], goals: Sequence[str]) -> dict[str, Any]:
        """JSON-ready metrics."""
        cats = {k: v.prf() for k, v in sorted(self.categories.items())}
        kappas = {}
        for kind, (g, p) in self.kappa_pairs.items():
            kappas[kind] = round(float(cohen_kappa_score(g, p)), 3) if len(set(g) | set(p)) > 1 \
                else 0.0
        theme_f1 = [cats.get(f"theme:{t}", {"f1": 0.0})["f1"] for t in themes]
        goal_f1 = [cats.get(f"goal:{g}", {"f1": 0.0})["f1"] for g in goals]
        micro = Counts(*(sum(getattr(c, a) for c in self.codes.values()) for a in ("tp", "fp", "fn")))
        return {
            "theme_macro_f1": round(sum(theme_f1) / len(theme_f1), 3) if theme_f1 else 0.0,
            "goal_macro_f1": round(sum(goal_f1) / len(goal_f1), 3) if goal_f1 else 0.0,
            "cmo_kappa": round(sum(kappas.values()) / len(kappas), 3) if kappas else 0.0,
            "kappa": kappas,
            "code_micro": micro.prf(),
            "categories": cats,
            "codes": {k: v.prf() for k, v in sorted(self.codes.items())},
        }


def _turn_categories(codes: set[str], spec: CodebookSpec) -> set[str]:
    out = set()
    for key in codes:
        code = spec.code(key)
        out.add(f"cmo:{code.cmo}")
        out.update(f"theme:{t}" for t in code.themes)
        out.update(f"goal:{g}" for g in code.goals)
    return out


def _score_fold(result: SystemResult, spec: CodebookSpec, units: Sequence[CodingUnit],
                gold_labels: dict[int, set[str]], predicted: dict[int, set[str]]) -> None:
    """Add one held-out document set's segments and turns to the counts."""
    all_codes = [c.id for c in spec.codes]
    turns_gold: dict[int, set[str]] = {}
    turns_pred: dict[int, set[str]] = {}
    for unit in units:
        g = gold_labels.get(unit.segment_id, set())
        p = predicted.get(unit.segment_id, set())
        for key in all_codes:
            if key in g or key in p:
                result.codes.setdefault(key, Counts()).add(key in g, key in p)
            else:
                result.codes.setdefault(key, Counts())
        turns_gold.setdefault(unit.turn_id, set()).update(g)
        turns_pred.setdefault(unit.turn_id, set()).update(p)
    categories = ([f"cmo:{k}" for k in CMO_KINDS] + [f"theme:{t.id}" for t in spec.themes]
                  + [f"goal:{g.id}" for g in spec.goals])
    for turn_id, g_codes in turns_gold.items():
        g_cats = _turn_categories(g_codes, spec)
        p_cats = _turn_categories(turns_pred.get(turn_id, set()), spec)
        for cat in categories:
            result.categories.setdefault(cat, Counts()).add(cat in g_cats, cat in p_cats)
        for kind in CMO_KINDS:
            gl, pl = result.kappa_pairs.setdefault(kind, ([], []))
            gl.append(int(f"cmo:{kind}" in g_cats))
            pl.append(int(f"cmo:{kind}" in p_cats))


@dataclass
class Report:
    """Evaluation results of all systems."""

    folds: list[dict[str, Any]]
    systems: dict[str, dict[str, Any]]
    threshold: float
    params: dict[str, Any]
    sweep: list[dict[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {"protocol": "leave-one-site-out", "threshold": self.threshold,
                "params": self.params, "folds": self.folds, "systems": self.systems,
                "threshold_sweep_combined": self.sweep}


def load_gold_units(store, gold_dir: Path, spec: CodebookSpec
                    ) -> list[tuple[str, list[CodingUnit], dict[int, set[str]]]]:
    """(site, units, segment → gold codes) for every stored document with a gold file."""
    out = [(item.document.site or item.document.name, store.coding_units(item.document.id),
            item.labels())
           for item in gold.stored_documents(store, gold_dir, {c.id for c in spec.codes})]
    if len({site for site, _, _ in out}) < 2:
        raise EvaltoolError(f"{gold_dir}: need gold codings for documents of at least two sites "
                            "(gold files are named after the imported transcripts)")
    return out


def evaluate(store, gold_dir: Path, spec: CodebookSpec, nlp, *,
             threshold: float = autocode.THRESHOLD, params: Params | None = None) -> Report:
    """Leave-one-site-out evaluation of every system."""
    data = load_gold_units(store, gold_dir, spec)
    results = {name: SystemResult() for name in SYSTEMS}
    sweep: dict[float, SystemResult] = {}
    folds = []
    for site in sorted({s for s, _, _ in data}):
        train_units = [u for s, units, _ in data if s != site for u in units]
        train_labels = {k: v for s, _, lab in data if s != site for k, v in lab.items()}
        test_units = [u for s, units, _ in data if s == site for u in units]
        test_labels = {k: v for s, _, lab in data if s == site for k, v in lab.items()}
        coder = autocode.build(spec, train_units, train_labels, nlp, params=params,
                               threshold=threshold)
        majority = Counter(c for v in train_labels.values() for c in v).most_common(1)
        predictions = {
            "majority": {u.segment_id: {majority[0][0]} for u in test_units
                         if autocode.is_codable(u)} if majority else {},
        }
        for name, (rules, model) in {"rules": (True, False), "model": (False, True),
                                     "combined": (True, True)}.items():
            scored = autocode.score(coder, test_units, use_rules=rules, use_model=model)
            predictions[name] = _above(scored, threshold)
            if name == "combined":
                for cut in SWEEP:
                    _score_fold(sweep.setdefault(cut, SystemResult()), spec, test_units,
                                test_labels, _above(scored, cut))
        for name, pred in predictions.items():
            _score_fold(results[name], spec, test_units, test_labels, pred)
        folds.append({"site": site, "train_segments": len(train_units),
                      "test_segments": len(test_units),
                      "gold_codings": sum(len(v) for v in test_labels.values())})
    themes = [t.id for t in spec.themes]
    goals = [g.id for g in spec.goals]
    systems = {name: r.summary(themes, goals) for name, r in results.items()}
    curve = []
    for cut, r in sorted(sweep.items()):
        summary = r.summary(themes, goals)
        curve.append({"threshold": cut, "theme_macro_f1": summary["theme_macro_f1"],
                      "cmo_kappa": summary["cmo_kappa"],
                      "code_micro_f1": summary["code_micro"]["f1"]})
    return Report(folds, systems, threshold, (params or Params()).as_dict(), curve)


def _above(scored, cut: float) -> dict[int, set[str]]:
    """Segment id → codes whose confidence reaches ``cut``."""
    pred: dict[int, set[str]] = {}
    for unit, scores in scored:
        for key, (conf, _, _) in scores.items():
            if conf >= cut:
                pred.setdefault(unit.segment_id, set()).add(key)
    return pred


def format_table(report: Report) -> str:
    """The headline figures as a plain text table."""
    head = ["system", "theme macro-F1", "goal macro-F1", "CMO kappa", "code micro-F1",
            "κ context", "κ mechanism", "κ outcome"]
    rows = []
    for name in SYSTEMS:
        s = report.systems[name]
        rows.append([name, s["theme_macro_f1"], s["goal_macro_f1"], s["cmo_kappa"],
                     s["code_micro"]["f1"], *(s["kappa"].get(k, 0.0) for k in CMO_KINDS)])
    lines = table(rows, head).split("\n")
    if report.sweep:
        lines.append("")
        lines.append("combined, by threshold: " + "; ".join(
            f"{p['threshold']}: F1 {p['theme_macro_f1']}, κ {p['cmo_kappa']}" for p in report.sweep))
    return "\n".join(lines)
