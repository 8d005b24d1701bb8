"""CMO chain aggregation (``Store.cmo_chains``) at 100 k segments: accepted codings, then
accepted + suggested.

The database is the dashboard benchmark's (generated transcripts, the Småt Brændbart
codebook, a suggestion on every segment and an accepted coding of another code on every
tenth). The figure is the one SQL query that finds every chain with its support per
document and outcome speaker; beside it (in the note) the ranking in Python
(``chains.rank``) and the evidence query for the 50 strongest chains
(``Store.chain_evidence``). Baseline, same database and run: one SQL pass counting the
distinct accepted coded segments (the least any chain query must read).

With suggestions (a suggestion on every generated segment) the chains run to hundreds of
thousands of rows; the figure is one call's time, or, when the query ran past its budget
(``CHAIN_BUDGET_S``), the time until it stopped with ``ChainsTooHeavyError``: the target is
that it is bounded (the page answers, with the chains or with the hint).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks.common import Config, Row, median_seconds
from benchmarks.dashboard import _count_coded, build_db

NAME = "cmo_chains"
TARGET_S = 0.100


def _rows_at(cfg: Config, segments: int) -> list[Row]:
    from evaltool import chains
    from evaltool.store import open_store

    db = build_db(cfg, segments)
    store = open_store(str(db))
    label = f"{segments // 1000}k segments" if segments >= 1000 else f"{segments} segments"
    big = segments >= 100_000
    n = 3 if cfg.quick else 9
    out: list[Row] = []
    try:
        # accepted codings only: with a suggestion on every generated segment the chains of
        # accepted + suggested codings run to millions of instances (see RESULTS.md)
        for statuses, what in ((("accepted",), "accepted"),):
            found = store.cmo_chains(statuses)  # warm the page cache
            agg = median_seconds(lambda st=statuses: store.cmo_chains(st), n)
            base = median_seconds(lambda st=statuses: _count_coded(db, st), n)
            ranked = median_seconds(lambda f=found: chains.rank(f), n)
            evidence = median_seconds(lambda f=found, st=statuses: store.chain_evidence(
                [t.keys for t in chains.rank(f)][:50], st), n)
            target = big and statuses == ("accepted",)
            out.append(Row(NAME, f"CMO chain aggregation, {label}, {what}", agg * 1000, "ms",
                           "one SQL pass counting coded segments", base * 1000,
                           f"≤ {TARGET_S * 1000:.0f} ms" if target else "",
                           agg <= TARGET_S if target else None,
                           note=f"Store.cmo_chains: {len(found)} rows (chain × document × "
                                f"outcome speaker), {len(chains.rank(found))} chains; ranking them "
                                f"in Python {ranked * 1000:.2f} ms; evidence of the first 50 "
                                f"(Store.chain_evidence) {evidence * 1000:.0f} ms; "
                                f"{_count_coded(db, statuses)} coded segments",
                           higher_is_better=False))
        out.append(_with_suggestions(store, db, label, big))
    finally:
        store.close()
    return out


def _with_suggestions(store, db, label: str, big: bool) -> Row:
    """One call of the chains with suggestions: its time, or the time until it was stopped."""
    from evaltool import chains
    from evaltool.domain import CHAIN_BUDGET_S
    from evaltool.errors import ChainsTooHeavyError

    statuses = ("accepted", "suggested")
    base = median_seconds(lambda: _count_coded(db, statuses), 3)
    start = time.perf_counter()
    try:
        found = store.cmo_chains(statuses)
        agg = time.perf_counter() - start
        ranked = chains.rank(found)
        start = time.perf_counter()
        store.chain_evidence([t.keys for t in ranked][:50], statuses)
        note = (f"Store.cmo_chains: {len(found)} rows, {len(ranked)} chains; evidence of the "
                f"first 50 {time.perf_counter() - start:.1f} s; one call")
    except ChainsTooHeavyError as exc:
        agg = time.perf_counter() - start
        note = f"bounded: stopped with the 'choose accepted codings' message ({exc.seconds:g} s budget)"
    limit = CHAIN_BUDGET_S + 5  # the budget, and a little for the last progress check
    return Row(NAME, f"CMO chain aggregation, {label}, accepted + suggested", agg, "s",
               "one SQL pass counting coded segments", base,
               f"bounded (≤ {limit:.0f} s)" if big else "", agg <= limit if big else None,
               note=note + f"; {_count_coded(db, statuses)} coded segments",
               higher_is_better=False)


def run(cfg: Config, sizes: Callable[[Config], tuple[int, ...]] | None = None) -> list[Row]:
    """Chain aggregation figures at each database size."""
    chosen = sizes(cfg) if sizes else ((300,) if cfg.quick else (100_000,))
    return [row for n in chosen for row in _rows_at(cfg, n)]
