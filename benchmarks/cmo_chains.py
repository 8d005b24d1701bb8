"""CMO chain aggregation (``Store.cmo_chains``) at 100 k segments with accepted codings.

The database is the dashboard benchmark's (generated transcripts, the Småt Brændbart
codebook, a suggestion on every segment and an accepted coding of another code on every
tenth). The figure is the one SQL query that finds every chain with its support per
document and outcome speaker; beside it (in the note) the ranking in Python
(``chains.rank``) and the evidence query for the 50 strongest chains
(``Store.chain_evidence``). Baseline, same database and run: one SQL pass counting the
distinct accepted coded segments (the least any chain query must read).
"""

from __future__ import annotations

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
    finally:
        store.close()
    return out


def run(cfg: Config, sizes: Callable[[Config], tuple[int, ...]] | None = None) -> list[Row]:
    """Chain aggregation figures at each database size."""
    chosen = sizes(cfg) if sizes else ((300,) if cfg.quick else (100_000,))
    return [row for n in chosen for row in _rows_at(cfg, n)]
