"""Learning curve: do suggestions improve as a coder reviews a new transcript?

For each demo site held out: a database with that site's transcript alone and the
codebook with its seed minus that site's records (the model a new project runs
on a transcript it has never seen); with ``--cold-start`` also without any seed
(the codebook's examples and the coder's own decisions alone). Then, for k in :data:`STEPS` (% of turns):
the gold decisions of the first k % of turns are revealed as a coder makes them
(suggestions accepted when gold has the code and rejected when not, missing gold
codes added, those turns marked done), the model is retrained and the transcript
auto-coded again. The open suggestions on the *last half* of the turns (never
revealed, the same turns for every k) are scored against gold: turn-level Cohen's
kappa per CMO kind and per theme (means) and segment-level code micro-F1.

    python -m benchmarks.learning_curve --json benchmarks/learning_curve.json
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import CODEBOOK, GOLD, ROOT, segment_nlp

STEPS = (0, 10, 25, 50)
EVAL_FROM = 0.5  # turns after this share of the transcript are scored (never revealed)
CODER = "kurve"


def turn_split(n_turns: int, k: int, order: str = "first") -> tuple[set[int], set[int]]:
    """(revealed, scored) turn numbers.

    ``first`` (the benchmark): the first ``k`` % of the turns (rounded up) are revealed,
    the turns after :data:`EVAL_FROM` of the transcript (rounded up, so that a turn
    revealed at 50 % of an odd number of turns is never scored) are scored.
    ``spread`` (a diagnostic): the even turns are scored, and ``k`` % of all turns are
    revealed from the odd ones, evenly spaced over the transcript, so that revealed and
    scored turns come from the same parts of the interview.
    """
    if order == "spread":
        odd = list(range(1, n_turns + 1, 2))
        m = min(len(odd), math.ceil(n_turns * k / 100)) if k else 0
        revealed = {odd[math.floor(i * len(odd) / m)] for i in range(m)} if m else set()
        return revealed, set(range(2, n_turns + 1, 2))
    if order != "first":
        raise ValueError(f"unknown order {order!r}")
    revealed = set(range(1, math.ceil(n_turns * k / 100) + 1)) if k else set()
    scored = set(range(math.ceil(n_turns * EVAL_FROM) + 1, n_turns + 1))
    return revealed, scored


def site_database(path: Path, transcript: Path, seed: list[dict], site: str, nlp,
                  codebook_path: Path = CODEBOOK) -> None:
    """A database holding one transcript, the codebook and the seed without ``site``."""
    from evaltool import codebook
    from evaltool.importer import import_paths
    from evaltool.store import open_store

    store = open_store(str(path))
    try:
        if import_paths([transcript], store, lambda: nlp).failed:
            raise RuntimeError(f"import failed: {transcript.name}")
        spec = codebook.load(codebook_path)
        store.load_codebook(spec, codebook_path.name, [r for r in seed if r["site"] != site])
    finally:
        store.close()


def reveal(store, doc_id: int, labels: dict[int, set[str]], turns: set[int],
           turn_of: dict[int, int]) -> int:
    """Make the gold decisions of ``turns`` as a coder would; return how many were made."""
    n = 0
    for view in store.coding_views(status="suggested", document_id=doc_id):
        if turn_of[view.segment_id] in turns:
            ok = view.code_key in labels.get(view.segment_id, set())
            store.decide_as(CODER, view.id, "accept" if ok else "reject")
            n += 1
    have = {(v.segment_id, v.code_key)
            for v in store.coding_views(status="accepted", document_id=doc_id)}
    for seg, codes in labels.items():
        if turn_of[seg] in turns:
            for code in sorted(codes):
                if (seg, code) not in have:
                    store.add_as(CODER, [seg], code)
                    n += 1
    for turn in sorted(turns):
        store.mark_done(doc_id, CODER, turn=turn)
    return n


def reveal_and_retrain(store, doc_id: int, labels: dict[int, set[str]], shown: set[int],
                       turn_of: dict[int, int], nlp) -> tuple[int, dict[int, set[str]]]:
    """Reveal the gold decisions of the ``shown`` turns, retrain and code the transcript
    again: (decisions made, segment id → codes suggested on the turns not shown)."""
    from evaltool.autocode import run as autocode_run

    decisions = reveal(store, doc_id, labels, shown, turn_of) if shown else 0
    if shown:
        autocode_run.run(store, lambda: nlp, retrain=True)
    predicted: dict[int, set[str]] = {}
    for view in store.coding_views(status="suggested", document_id=doc_id):
        if turn_of[view.segment_id] not in shown:
            predicted.setdefault(view.segment_id, set()).add(view.code_key)
    return decisions, predicted


def score_rest(store, spec, doc_id: int, labels: dict[int, set[str]],
               rest: set[int], predicted: dict[int, set[str]]) -> dict:
    """Turn-level kappas and code micro-F1 of the open suggestions on the scored turns."""
    from evaltool.evaluate import SystemResult, _score_fold

    units = [u for u in store.coding_units(doc_id) if u.turn in rest]
    result = SystemResult()
    _score_fold(result, spec, units, labels, predicted)
    return result.summary([t.id for t in spec.themes], [g.id for g in spec.goals])


def site_curve(workdir: Path, transcript: Path, seed: list[dict], nlp, steps=STEPS, *,
               codebook_path: Path = CODEBOOK, gold_dir: Path = GOLD) -> dict:
    """One held-out site's figures for every k."""
    from evaltool import codebook, gold
    from evaltool.autocode import run as autocode_run
    from evaltool.ingest import read_document
    from evaltool.store import open_store

    spec = codebook.load(codebook_path)
    base = workdir / f"{transcript.stem}.db"
    site = read_document(transcript).site or transcript.stem
    site_database(base, transcript, seed, site, nlp, codebook_path)
    store = open_store(str(base))
    try:
        autocode_run.run(store, lambda: nlp, retrain=True)
    finally:
        store.close()
    out = {"site": site, "document": transcript.name, "steps": []}
    for k in steps:
        path = workdir / f"{transcript.stem}.k{k}.db"
        shutil.copyfile(base, path)
        store = open_store(str(path))
        try:
            doc = store.list_documents()[0]
            item = gold.stored_documents(store, gold_dir, {c.id for c in spec.codes},
                                         {doc.id})[0]
            labels = item.labels()
            turn_of = {s.id: s.turn for s in item.segments}
            shown, rest = turn_split(len(item.turns), k)
            started = time.perf_counter()
            decisions, predicted = reveal_and_retrain(store, doc.id, labels, shown, turn_of, nlp)
            summary = score_rest(store, spec, doc.id, labels, rest, predicted)
            out["steps"].append({
                "k": k, "revealed_turns": len(shown), "decisions": decisions,
                "scored_turns": len(rest), "cmo_kappa": summary["cmo_kappa"],
                "theme_kappa": summary["theme_kappa"],
                "code_micro_f1": summary["code_micro"]["f1"],
                "theme_macro_f1": summary["theme_macro_f1"],
                "seconds": round(time.perf_counter() - started, 1)})
        finally:
            store.close()
    return out


def mean_curve(sites: list[dict]) -> list[dict]:
    """Per k: the mean of every figure over the sites."""
    keys = ("cmo_kappa", "theme_kappa", "code_micro_f1", "theme_macro_f1")
    out = []
    for i, step in enumerate(sites[0]["steps"]):
        row = {"k": step["k"]}
        for key in keys:
            row[key] = round(sum(s["steps"][i][key] for s in sites) / len(sites), 3)
        out.append(row)
    return out


def markdown(result: dict) -> str:
    """The mean curve and the per-site figures as Markdown tables."""
    lines = ["| revealed turns | CMO κ | theme κ | code micro-F1 | theme macro-F1 |",
             "|---:|---:|---:|---:|---:|"]
    for row in result["mean"]:
        lines.append(f"| {row['k']} % | {row['cmo_kappa']:.3f} | {row['theme_kappa']:.3f} | "
                     f"{row['code_micro_f1']:.3f} | {row['theme_macro_f1']:.3f} |")
    lines += ["", "| site | " + " | ".join(f"CMO κ / theme κ at {k} %" for k in result["steps"])
              + " |", "|---|" + "---:|" * len(result["steps"])]
    for site in result["sites"]:
        cells = [f"{s['cmo_kappa']:.2f} / {s['theme_kappa']:.2f}" for s in site["steps"]]
        lines.append(f"| {site['site']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_curve(transcripts: list[Path], seed: list[dict], workdir: Path, nlp,
              steps=STEPS, **where: Path) -> dict:
    """The learning curve over the held-out transcripts (one per site); ``where``:
    ``codebook_path`` and ``gold_dir`` other than the demo's."""
    sites = [site_curve(workdir, t, seed, nlp, steps, **where) for t in transcripts]
    return {"steps": list(steps), "eval_from": EVAL_FROM, "sites": sites,
            "mean": mean_curve(sites)}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: run the curve on the demo corpus and print the tables."""
    from evaltool import codebook, gold

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="Write the figures as JSON.")
    parser.add_argument("--sites", type=int, default=None, help="Only the first N transcripts.")
    parser.add_argument("--steps", type=lambda v: tuple(int(k) for k in v.split(",")),
                        default=STEPS, help="Comma-separated %% of turns to reveal.")
    parser.add_argument("--cold-start", action="store_true",
                        help="Also run the curve without seed (codebook examples only).")
    args = parser.parse_args(argv)
    spec = codebook.load(CODEBOOK)
    seed = gold.read_seed(gold.seed_path_for(CODEBOOK), {c.id for c in spec.codes})
    transcripts = sorted(p for p in (ROOT / "corpus").iterdir()
                         if p.is_file() and (GOLD / (p.stem + ".csv")).is_file())
    transcripts = transcripts[:args.sites] if args.sites else transcripts
    workdir = Path(tempfile.mkdtemp(prefix="evaltool-curve-"))
    try:
        result = run_curve(transcripts, seed, workdir, segment_nlp(), args.steps)
        if args.cold_start:
            result["cold_start"] = run_curve(transcripts, [], workdir, segment_nlp(), args.steps)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(markdown(result))
    if "cold_start" in result:
        print("\ncold start (no seed):\n" + markdown(result["cold_start"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
