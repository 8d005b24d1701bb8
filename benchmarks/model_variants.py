"""Model variants, one at a time: leave-one-site-out figures and a learning-curve probe.

Screening for issue 13 (``benchmarks/RESULTS.md``, "Model variants"). Each variant is a
set of :class:`~evaltool.autocode.model.Params` overrides, fixed before it is run (no
value is searched). Two measurements, both on the demo corpus:

- ``loso``: :func:`evaltool.evaluate.evaluate` with the threshold fixed at the default
  0.3 for every variant (no threshold is chosen per variant; the shipped settings are
  then confirmed by ``evaltool evaluate`` with the per-fold threshold choice);
- ``curve``: the learning curve in memory (each site held out; the seed of the other
  sites plus the gold decisions of its revealed turns; threshold 0.3), the mean over
  sites of CMO κ, theme κ and code micro-F1 on the scored turns at each k, in the
  order of :func:`benchmarks.learning_curve.turn_split` (``first`` or ``spread``),
  with the seed or without (``--cold``).

The development set is never used here.

    python -m benchmarks.model_variants --db evaluation.db loso cue '{"cue_weight": 0.3}'
    python -m benchmarks.model_variants --db evaluation.db curve base '{}' --order spread

The database holds the demo corpus and the codebook loaded with its seed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.common import GOLD
from benchmarks.learning_curve import turn_split


def loso(store, spec, nlp, params) -> dict:
    """Leave-one-site-out figures at threshold 0.3: combined (with seed and cold start)
    and model only."""
    from evaltool import evaluate as ev

    report = ev.evaluate(store, GOLD, spec, nlp, seed=store.codebook_seed(), params=params,
                         threshold=0.3).as_dict()
    out = {}
    for regime in ("systems", "cold_start"):
        s = report[regime]["combined"]
        out[regime] = {k: s[k] for k in ("theme_macro_f1", "cmo_kappa", "theme_kappa")} | {
            "code_f1": s["code_micro"]["f1"]}
    out["model_only"] = {k: report["systems"]["model"][k]
                         for k in ("theme_macro_f1", "cmo_kappa", "theme_kappa")}
    return out


def curve(store, spec, nlp, params, steps: tuple[int, ...], order: str, seeded: bool) -> dict:
    """Per k: mean over sites of (CMO κ, theme κ, code micro-F1) on the scored turns."""
    from evaltool import autocode
    from evaltool import evaluate as ev

    data = ev.load_gold_units(store, GOLD, spec)
    pool = ev.training_pool(store.codebook_seed() if seeded else [], data, nlp)
    if not seeded:
        pool = ev.Pool([], [], pool.labels)
    themes, goals = [t.id for t in spec.themes], [g.id for g in spec.goals]
    rows: dict[int, list[tuple[float, float, float]]] = {k: [] for k in steps}
    for part in data:
        n = max(u.turn for u in part.units)
        for k in steps:
            shown, rest = turn_split(n, k, order)
            train = pool.without({part.site}) + [u for u in part.units if u.turn in shown]
            coder = autocode.build(spec, train, pool.labels, nlp, params=params)
            pred = ev._above(autocode.score(coder, part.units), autocode.THRESHOLD)
            result = ev.SystemResult()
            ev._score_fold(result, spec, [u for u in part.units if u.turn in rest],
                           part.labels, pred)
            s = result.summary(themes, goals)
            rows[k].append((s["cmo_kappa"], s["theme_kappa"], s["code_micro"]["f1"]))
    return {str(k): [round(sum(v[i] for v in rows[k]) / len(rows[k]), 3) for i in range(3)]
            for k in steps}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: one variant, one measurement, one JSON line."""
    from evaltool import nlp as nlpmod
    from evaltool.autocode.model import Params
    from evaltool.codebook import active_spec
    from evaltool.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="Database with the corpus and seed.")
    parser.add_argument("what", choices=["loso", "curve"])
    parser.add_argument("name")
    parser.add_argument("params", help="Params overrides as JSON.")
    parser.add_argument("--steps", default="0,50")
    parser.add_argument("--order", default="first", choices=["first", "spread"])
    parser.add_argument("--cold", action="store_true", help="curve: without any seed.")
    parser.add_argument("--out", type=Path, help="Append the JSON line to this file.")
    args = parser.parse_args(argv)
    overrides = json.loads(args.params)
    store = open_store(args.db)
    try:
        spec, _ = active_spec(store)
        nlp = nlpmod.load("segment")
        started = time.process_time()
        if args.what == "loso":
            figures = loso(store, spec, nlp, Params(**overrides))
        else:
            steps = tuple(int(k) for k in args.steps.split(","))
            figures = {"order": args.order, "seed": not args.cold, **curve(
                store, spec, nlp, Params(**overrides), steps, args.order, not args.cold)}
    finally:
        store.close()
    line = json.dumps({"what": args.what, "name": args.name, "params": overrides, **figures,
                       "cpu": round(time.process_time() - started)}, ensure_ascii=False)
    print(line)
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
