"""Leave-one-site-out evaluation of auto-coding against gold codings.

For every site, a coder is trained the way a project's coder is (the codebook's
examples plus the seed records and gold documents of the *other* sites) and scored
on the held-out site's transcripts; its threshold is chosen by an inner
leave-one-site-out on those other sites alone, so nothing of the held-out site
enters the fold. "Cold start" is the codebook's examples alone. Reported:

- per code: precision, recall, F1 at segment level;
- per CMO kind, theme and goal: precision, recall, F1 at turn level (a turn has a
  theme when any of its codings' codes has it), macro-F1 over themes;
- Cohen's kappa at turn level per CMO kind (presence in a turn, gold vs. predicted)
  and its mean (``cmo_kappa``); the same per theme and its mean (``theme_kappa``);
- for four systems: majority class (every codable turn gets the training data's
  most frequent code), rules only, model only, and rules + model combined.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sklearn.metrics import cohen_kappa_score

from evaltool import autocode, gold
from evaltool.autocode.model import Params
from evaltool.codebook import CodebookSpec
from evaltool.domain import CMO_KINDS, CodingUnit
from evaltool.errors import EvaltoolError
from evaltool.texttable import counted, table

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
    theme_pairs: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)

    def summary(self, themes: Sequence[str], goals: Sequence[str]) -> dict[str, Any]:
        """JSON-ready metrics."""
        cats = {k: v.prf() for k, v in sorted(self.categories.items())}
        kappas = {kind: _kappa(g, p) for kind, (g, p) in self.kappa_pairs.items()}
        theme_kappas = {t: _kappa(g, p) for t, (g, p) in sorted(self.theme_pairs.items())}
        theme_f1 = [cats.get(f"theme:{t}", {"f1": 0.0})["f1"] for t in themes]
        goal_f1 = [cats.get(f"goal:{g}", {"f1": 0.0})["f1"] for g in goals]
        micro = Counts(*(sum(getattr(c, a) for c in self.codes.values()) for a in ("tp", "fp", "fn")))
        return {
            "theme_macro_f1": round(sum(theme_f1) / len(theme_f1), 3) if theme_f1 else 0.0,
            "goal_macro_f1": round(sum(goal_f1) / len(goal_f1), 3) if goal_f1 else 0.0,
            "cmo_kappa": round(sum(kappas.values()) / len(kappas), 3) if kappas else 0.0,
            "kappa": kappas,
            "theme_kappa": (round(sum(theme_kappas.values()) / len(theme_kappas), 3)
                            if theme_kappas else 0.0),
            "theme_kappas": theme_kappas,
            "code_micro": micro.prf(),
            "categories": cats,
            "codes": {k: v.prf() for k, v in sorted(self.codes.items())},
        }


def _kappa(gold_values: list[int], predicted: list[int]) -> float:
    """Cohen's kappa of two presence lists (0 when either side never varies)."""
    if len(set(gold_values) | set(predicted)) < 2:
        return 0.0
    return round(float(cohen_kappa_score(gold_values, predicted)), 3)


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
        for theme in spec.themes:
            gl, pl = result.theme_pairs.setdefault(theme.id, ([], []))
            gl.append(int(f"theme:{theme.id}" in g_cats))
            pl.append(int(f"theme:{theme.id}" in p_cats))


@dataclass
class Report:
    """Evaluation results: per regime and system, with the protocol's choices."""

    folds: list[dict[str, Any]]
    systems: dict[str, dict[str, Any]]  # with seed: the model a project runs
    cold_start: dict[str, dict[str, Any]]
    threshold: float | None  # fixed by the caller, or None: chosen per fold
    params: dict[str, Any]
    sweep: list[dict[str, float]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {"protocol": "leave-one-site-out",
                "threshold_choice": ("fixed" if self.threshold is not None else
                                     "per fold, by inner leave-one-site-out on its training "
                                     "sites (maximising CMO kappa + theme macro-F1)"),
                "threshold": self.threshold, "params": self.params, "folds": self.folds,
                "systems": self.systems, "cold_start": self.cold_start,
                "threshold_sweep_with_seed_diagnostic": self.sweep, **self.extra}


@dataclass(frozen=True)
class GoldSite:
    """One site's stored gold-coded documents: units and segment → gold codes."""

    site: str
    documents: dict[int, str]  # document id → file name
    units: list[CodingUnit]
    labels: dict[int, set[str]]


def load_gold_units(store, gold_dir: Path, spec: CodebookSpec) -> list[GoldSite]:
    """Every site with a stored document that has a gold file, in site order."""
    by_site: dict[str, GoldSite] = {}
    for item in gold.stored_documents(store, gold_dir, {c.id for c in spec.codes}):
        site = item.document.site or item.document.name
        cur = by_site.setdefault(site, GoldSite(site, {}, [], {}))
        cur.documents[item.document.id] = item.document.name
        cur.units.extend(store.coding_units(item.document.id))
        cur.labels.update(item.labels())
    if len(by_site) < 2:
        raise EvaltoolError(f"{gold_dir}: need gold codings for documents of at least two sites "
                            "(gold files are named after the imported transcripts)")
    return [by_site[k] for k in sorted(by_site)]


@dataclass
class Pool:
    """All training material of an evaluation, each unit with the site it comes from."""

    units: list[CodingUnit]
    sites: list[str]
    labels: dict[int, set[str]]

    def without(self, sites: set[str]) -> list[CodingUnit]:
        """The units of every other site."""
        return [u for u, s in zip(self.units, self.sites, strict=True) if s not in sites]


def training_pool(seed: list[dict], data: Sequence[GoldSite], nlp) -> Pool:
    """Seed records (by their source site) plus the gold documents the seed does not hold.

    Raises when a seed record does not say which site it comes from: without that, a
    held-out site's own seed records could not be left out of its training data.
    """
    if any(not rec.get("site") for rec in seed):
        raise EvaltoolError("seed records do not name their source site; write the seed "
                            "again with `evaltool gold seed` and load the codebook again")
    units, labels = autocode.seed_units(seed, nlp)
    sites = [seed[-u.turn_id - 1]["site"] for u in units]  # seed turn ids are -(record + 1)
    in_seed = {rec.get("document") for rec in seed}
    for part in data:
        for unit in part.units:
            if part.documents[unit.document_id] not in in_seed:
                units.append(unit)
                sites.append(part.site)
        labels.update(part.labels)
    return Pool(units, sites, labels)


def choose_threshold(spec: CodebookSpec, pool: Pool, data: Sequence[GoldSite], held_out: str,
                     nlp, params: Params | None = None) -> tuple[float, dict[float, float]]:
    """The threshold for the fold that holds ``held_out`` out, chosen on its training sites
    alone: each is held out in turn from the rest (inner leave-one-site-out)."""
    themes = [t.id for t in spec.themes]
    goals = [g.id for g in spec.goals]
    sweep: dict[float, SystemResult] = {}
    for part in data:
        if part.site == held_out:
            continue
        coder = autocode.build(spec, pool.without({held_out, part.site}), pool.labels, nlp,
                               params=params)
        scored = autocode.score(coder, part.units)
        for cut in SWEEP:
            _score_fold(sweep.setdefault(cut, SystemResult()), spec, part.units, part.labels,
                        _above(scored, cut))
    if not sweep:
        return autocode.THRESHOLD, {}
    value = {}
    for cut, result in sweep.items():
        summary = result.summary(themes, goals)
        value[cut] = round(summary["cmo_kappa"] + summary["theme_macro_f1"], 4)
    best = max(SWEEP, key=lambda c: (value[c], -abs(c - autocode.THRESHOLD)))
    return best, value


def fold_predictions(spec: CodebookSpec, pool: Pool, data: Sequence[GoldSite], held_out: str,
                     nlp, *, params: Params | None = None, threshold: float | None = None
                     ) -> tuple[float, dict[str, dict[int, set[str]]], list]:
    """One outer fold of the with-seed regime: (threshold, system → predictions, scores).

    Nothing of ``held_out`` enters: its seed records and gold documents are left out
    of training, and the threshold is chosen on the other sites alone.
    """
    test = next(p for p in data if p.site == held_out)
    train_units = pool.without({held_out})
    if threshold is None:
        threshold, _ = choose_threshold(spec, pool, data, held_out, nlp, params)
    coder = autocode.build(spec, train_units, pool.labels, nlp, params=params,
                           threshold=threshold)
    counts = Counter(c for u in train_units for c in pool.labels.get(u.segment_id, ()))
    majority = counts.most_common(1)
    predictions = {"majority": {u.segment_id: {majority[0][0]} for u in test.units
                                if autocode.is_codable(u)} if majority else {}}
    scored = autocode.score(coder, test.units)
    for name, (rules, model) in {"rules": (True, False), "model": (False, True)}.items():
        predictions[name] = _above(autocode.score(coder, test.units, use_rules=rules,
                                                  use_model=model), threshold)
    predictions["combined"] = _above(scored, threshold)
    return threshold, predictions, scored


def evaluate(store, gold_dir: Path, spec: CodebookSpec, nlp, *, seed: list[dict] | None = None,
             threshold: float | None = None, params: Params | None = None) -> Report:
    """Leave-one-site-out evaluation of every system, cold start and with seed.

    Cold start: the codebook's examples alone (no labelled data, so the default
    threshold). With seed: the codebook's examples, the seed records of the other
    sites and the gold documents of the other sites the seed does not hold (the
    model a project runs); its threshold is chosen per fold on the training sites
    unless ``threshold`` fixes it.
    """
    data = load_gold_units(store, gold_dir, spec)
    pool = training_pool(seed or [], data, nlp)
    themes = [t.id for t in spec.themes]
    goals = [g.id for g in spec.goals]
    results = {name: SystemResult() for name in SYSTEMS}
    cold = {name: SystemResult() for name in SYSTEMS if name != "majority"}
    sweep: dict[float, SystemResult] = {}
    cold_coder = autocode.build(spec, [], {}, nlp, params=params)
    folds = []
    for part in data:
        cut, predictions, scored = fold_predictions(spec, pool, data, part.site, nlp,
                                                    params=params, threshold=threshold)
        for name, pred in predictions.items():
            _score_fold(results[name], spec, part.units, part.labels, pred)
        for c in SWEEP:
            _score_fold(sweep.setdefault(c, SystemResult()), spec, part.units, part.labels,
                        _above(scored, c))
        for name, (rules, model) in {"rules": (True, False), "model": (False, True),
                                     "combined": (True, True)}.items():
            _score_fold(cold[name], spec, part.units, part.labels,
                        _above(autocode.score(cold_coder, part.units, use_rules=rules,
                                              use_model=model), autocode.THRESHOLD))
        train_units = pool.without({part.site})
        folds.append({"site": part.site, "threshold": cut, "train_segments": len(train_units),
                      "train_seed_segments": sum(1 for u in train_units if u.segment_id < 0),
                      "test_segments": len(part.units),
                      "gold_codings": sum(len(v) for v in part.labels.values())})
    curve = []
    for c, r in sorted(sweep.items()):
        summary = r.summary(themes, goals)
        curve.append({"threshold": c, "theme_macro_f1": summary["theme_macro_f1"],
                      "cmo_kappa": summary["cmo_kappa"],
                      "code_micro_f1": summary["code_micro"]["f1"]})
    return Report(folds, {k: r.summary(themes, goals) for k, r in results.items()},
                  {k: r.summary(themes, goals) for k, r in cold.items()}, threshold,
                  (params or Params()).as_dict(), curve)


class DevQuote(NamedTuple):
    """One quote of a development set: its id, text, hand-coded codes and kind."""

    quote_id: str
    quote: str
    codes: set[str]
    kind: str = ""  # e.g. 'citat' (a quotation) or 'case' (a project leader's own account)


def read_dev(path: Path, known_codes: set[str]) -> list[DevQuote]:
    """The quotes of a development set CSV (``quote_id,source_lines,quote,code`` and an
    optional ``kind``), one per quote id with all its codes."""
    import csv

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaltoolError(f"{path}: cannot read development set ({exc.__class__.__name__})"
                            ) from None
    quotes: dict[str, DevQuote] = {}
    reader = csv.DictReader(text.splitlines())
    if not {"quote_id", "quote", "code"} <= set(reader.fieldnames or ()):
        raise EvaltoolError(f"{path}: header must name quote_id, quote and code")
    for line, row in enumerate(reader, start=2):
        if row["code"] not in known_codes:
            raise EvaltoolError(f"{path}:{line}: unknown code {row['code']!r}")
        item = quotes.setdefault(row["quote_id"], DevQuote(row["quote_id"], row["quote"], set(),
                                                           row.get("kind") or ""))
        if item.quote != row["quote"]:
            raise EvaltoolError(f"{path}:{line}: quote {row['quote_id']} has two texts")
        item.codes.add(row["code"])
    return list(quotes.values())


def dev_agreement(spec: CodebookSpec, seed: list[dict], rows: Sequence[DevQuote],
                  nlp, *, threshold: float = autocode.THRESHOLD,
                  params: Params | None = None) -> dict[str, Any]:
    """Agreement with a hand-coded development set, each quote one turn: the model a
    project runs (``combined``: codebook examples + the whole seed), the codebook's
    examples alone (``cold_start``) and the seed's most frequent code on every quote
    (``majority``); overall and per kind of quote."""
    records = [{"site": "dev", "document": q.quote_id, "role": "", "moderator": False,
                "sentences": [[sent.text, []] for sent in nlp(q.quote).sents
                              if sent.text.strip()]}
               for q in rows]
    units, _ = autocode.seed_units(records, nlp)
    first: dict[int, int] = {}  # the quote's codes go on its first sentence (turn level only)
    for unit in units:
        first.setdefault(unit.turn_id, unit.segment_id)
    labels = {first[-(i + 1)]: set(q.codes) for i, q in enumerate(rows)}
    train_units, train_labels = autocode.seed_units(seed, nlp)
    coder = autocode.build(spec, train_units, train_labels, nlp, params=params,
                           threshold=threshold)
    cold = autocode.build(spec, [], {}, nlp, params=params, threshold=threshold)
    majority = Counter(c for v in train_labels.values() for c in v).most_common(1)
    systems = {"combined": _above(autocode.score(coder, units), threshold),
               "cold_start": _above(autocode.score(cold, units), threshold),
               "majority": {first[-(i + 1)]: {majority[0][0]} for i in range(len(rows))}
               if majority else {}}
    out: dict[str, Any] = {"quotes": len(rows), "threshold": threshold,
                           "majority_code": majority[0][0] if majority else None}
    kinds = sorted({q.kind for q in rows if q.kind})
    for name, pred in systems.items():
        out[name] = _dev_scores(spec, units, labels, pred)
    if len(kinds) > 1:
        out["by_kind"] = {}
        for kind in kinds:
            turns = {-(i + 1) for i, q in enumerate(rows) if q.kind == kind}
            part = [u for u in units if u.turn_id in turns]
            out["by_kind"][kind] = {"quotes": len(turns), **{
                name: _dev_scores(spec, part, labels, pred) for name, pred in systems.items()}}
    return out


def _dev_scores(spec: CodebookSpec, units: Sequence[CodingUnit], labels: dict[int, set[str]],
                predicted: dict[int, set[str]]) -> dict[str, Any]:
    """Turn-level theme and CMO agreement of one system on (part of) a development set."""
    result = SystemResult()
    _score_fold(result, spec, units, labels, predicted)
    summary = result.summary([t.id for t in spec.themes], [g.id for g in spec.goals])
    agree = [sum(int(g == p) for g, p in zip(*pairs, strict=True)) / len(pairs[0])
             for pairs in result.theme_pairs.values()]
    return {"theme_agreement": round(sum(agree) / len(agree), 3) if agree else 0.0,
            "theme_macro_f1": summary["theme_macro_f1"],
            "theme_kappa": summary["theme_kappa"], "cmo_kappa": summary["cmo_kappa"],
            "kappa": summary["kappa"], "code_turn_f1": _turn_code_f1(units, labels, predicted)}


def _turn_code_f1(units: Sequence[CodingUnit], labels: dict[int, set[str]],
                  predicted: dict[int, set[str]]) -> float:
    """Micro-F1 of (turn, code) pairs."""
    gold_pairs = {(u.turn_id, c) for u in units for c in labels.get(u.segment_id, ())}
    pred_pairs = {(u.turn_id, c) for u in units for c in predicted.get(u.segment_id, ())}
    tp = len(gold_pairs & pred_pairs)
    return round(2 * tp / (len(gold_pairs) + len(pred_pairs)), 3) if gold_pairs or pred_pairs \
        else 0.0


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
    head = ["system", "theme macro-F1", "goal macro-F1", "CMO kappa", "theme kappa",
            "code micro-F1", "κ context", "κ mechanism", "κ outcome"]
    rows = []
    for label, systems in (("", report.systems), ("cold start: ", report.cold_start)):
        for name in SYSTEMS:
            s = systems.get(name)
            if s is None:
                continue
            rows.append([label + name, s["theme_macro_f1"], s["goal_macro_f1"], s["cmo_kappa"],
                         s["theme_kappa"], s["code_micro"]["f1"],
                         *(s["kappa"].get(k, 0.0) for k in CMO_KINDS)])
    lines = table(rows, head).split("\n")
    if report.sweep:
        lines.append("")
        lines.append("with seed, by threshold (diagnostic, not used to choose it): " + "; ".join(
            f"{p['threshold']}: F1 {p['theme_macro_f1']}, κ {p['cmo_kappa']}" for p in report.sweep))
    return "\n".join(lines)


def format_dev(dev: dict[str, Any]) -> str:
    """The development set's figures: one line per system, then per kind of quote."""
    names = (("combined", "with seed"), ("cold_start", "cold start"),
             ("majority", "majority"))
    lines = [f"development set ({counted(dev['quotes'], 'quote')}, threshold {dev['threshold']}):"]

    def line(d: dict[str, Any], label: str, indent: str) -> str:
        return (f"{indent}{label}: theme macro-F1 {d['theme_macro_f1']}, theme κ "
                f"{d['theme_kappa']}, CMO κ {d['cmo_kappa']}, theme agreement "
                f"{d['theme_agreement']}, code F1 (per quote) {d['code_turn_f1']}")
    lines += [line(dev[key], label, "  ") for key, label in names if key in dev]
    for kind, part in dev.get("by_kind", {}).items():
        lines.append(f"  {kind} ({counted(part['quotes'], 'quote')}):")
        lines += [line(part[key], label, "    ") for key, label in names if key in part]
    return "\n".join(lines)
