"""Dashboard aggregation, dashboard page render, and CSV/XLSX export at 10k and 100k segments.

The databases are built quickly: generated transcripts imported with spaCy's
tokenizer + rule sentencizer (segments, not lemmas, matter here), the Småt
Brændbart codebook loaded, then synthetic codings in bulk through the store:
one machine suggestion per segment (``write_suggestions``, code and confidence
drawn with a fixed seed) and an accepted human coding of another code on every
tenth segment (``add_coding``, one call per code).

Baselines, same database and run: for the aggregation, one SQL pass counting the
distinct coded segments (the least any dashboard must read); for exports, the
same rows read with one SQL join and written with ``csv.writer``, and the export
frame written with openpyxl's write-only mode; for the page, AppTest rendering a
one-line Streamlit script (the framework's own cost).
"""

from __future__ import annotations

import csv
import os
import random
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import CODEBOOK, ROOT, Config, Row, measure, median_seconds, sentencizer_nlp
from benchmarks.throughput import fresh_store, import_into

NAME = "dashboard"
AGG_TARGET_S = 0.100
CSV_TARGET_S = 2.0
STATUSES = ("accepted", "suggested")
WORDS_PER_SEGMENT = 10.6  # generated words per sentencizer segment (measured: 100 k segments ≈ 1.06 M words)


def build_db(cfg: Config, segments: int) -> Path:
    """A database with about ``segments`` segments, each coded (built once per run)."""
    def build() -> Path:
        from evaltool import codebook
        from evaltool.domain import Suggestion

        words = int(segments * WORDS_PER_SEGMENT)
        db = cfg.workdir / f"dash-{segments}.db"
        store = fresh_store(db)
        try:
            import_into(store, cfg.corpus(words), sentencizer_nlp())
            store.load_codebook(codebook.load(CODEBOOK), CODEBOOK.name)
            keys = [c.key for c in store.codes()]
            with store.engine.connect() as conn:
                from sqlalchemy import select

                from evaltool.store.models import Segment
                seg_ids = list(conn.scalars(select(Segment.id).order_by(Segment.id)))
            rng = random.Random(7)
            picks = [(s, rng.randrange(len(keys))) for s in seg_ids]
            suggestions = [Suggestion(s, keys[k], rng.choice(["rules", "model", "combined"]),
                                      round(rng.uniform(0.5, 1.0), 4), "benchmark")
                           for s, k in picks]
            store.write_suggestions(suggestions, segment_ids=seg_ids, model_version="bench",
                                    codebook_version=1)
            accepted: dict[str, list[int]] = {}
            for s, k in picks[::10]:
                accepted.setdefault(keys[(k + 1) % len(keys)], []).append(s)
            for key, ids in accepted.items():
                store.add_coding(ids, key, "benchmark")
        finally:
            store.close()
        return db
    return cfg.memo(f"dash-db-{segments}", build)


def _count_coded(db: Path, statuses: tuple[str, ...] = STATUSES) -> int:
    """Baseline: one SQL pass over the codings."""
    with sqlite3.connect(db) as conn:
        marks = ",".join("?" * len(statuses))
        return conn.execute(f"SELECT count(DISTINCT segment_id) FROM codings "
                            f"WHERE status IN ({marks})", statuses).fetchone()[0]


def _raw_csv(db: Path, out: Path) -> int:
    """Baseline: the export's rows read with one SQL join and written by csv.writer."""
    query = """
        SELECT d.name, d.site, sp.name, coalesce(t.role, sp.role), t.number, s.id, s.start_char,
               s.end_char, s.text, c.key, c.label, c.cmo, k.source, k.confidence, k.status,
               k.memo
        FROM codings k JOIN segments s ON s.id = k.segment_id JOIN turns t ON t.id = s.turn_id
        JOIN speakers sp ON sp.id = s.speaker_id JOIN documents d ON d.id = s.document_id
        JOIN codes c ON c.id = k.code_id ORDER BY d.id, s.start_char"""
    with sqlite3.connect(db) as conn, out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        n = 0
        for row in conn.execute(query):
            writer.writerow(row)
            n += 1
    return n


def _raw_xlsx(frame, out: Path) -> None:
    """Baseline: the same frame written with openpyxl's write-only workbook."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Kodede citater")
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([None if v != v else v for v in row])  # NaN → empty cell
    wb.save(out)


def page_render(db: Path, repeats: int = 1) -> tuple[float, float] | str:
    """(dashboard page seconds, trivial page seconds) with AppTest, or why it was skipped."""
    try:
        import streamlit as st
        from streamlit.testing.v1 import AppTest
    except ImportError as exc:
        return f"streamlit testing unavailable ({exc})"
    app = ROOT / "app.py"
    page = ROOT / "evaltool" / "ui" / "pages" / "dashboard.py"
    if not app.exists() or not page.exists():
        return "dashboard page not found (evaltool/ui/pages/dashboard.py)"
    env = {"EVALTOOL_DB": str(db), "EVALTOOL_MODE": "lead"}  # lead mode opens the dashboard
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        def render() -> AppTest:
            st.cache_data.clear()
            st.cache_resource.clear()
            at = AppTest.from_file(str(app), default_timeout=300)
            at.run()
            if at.exception:
                raise RuntimeError(f"dashboard page raised: {at.exception[0].message}")
            return at
        render()  # warm-up: imports, migrations check
        page_s = median_seconds(render, repeats)
        with tempfile.TemporaryDirectory() as tmp:
            trivial = Path(tmp) / "trivial.py"
            trivial.write_text("import streamlit as st\nst.title('Dashboard')\n", encoding="utf-8")
            base_s = median_seconds(lambda: AppTest.from_file(str(trivial)).run(), max(repeats, 3))
    except RuntimeError as exc:
        return str(exc)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        st.cache_resource.clear()
    return page_s, base_s


def _rows_at(cfg: Config, segments: int) -> list[Row]:
    """All dashboard/export figures for one database size."""
    from evaltool import analysis, export
    from evaltool.store import open_store

    db = build_db(cfg, segments)
    store = open_store(str(db))
    repeats = 2 if cfg.quick else (5 if segments < 50_000 else 3)
    label = f"{segments // 1000}k segments" if segments >= 1000 else f"{segments} segments"
    rows: list[Row] = []
    try:
        big = segments >= 100_000
        for statuses, what in ((("accepted",), "accepted (default view)"),
                               (STATUSES, "accepted + suggested")):
            # the default view is cheap: more calls make its median steadier on a shared machine
            n = repeats if cfg.quick or statuses == STATUSES else 9
            analysis.dashboard(store, statuses=statuses)  # warm the page cache
            agg = median_seconds(lambda st=statuses: analysis.dashboard(store, statuses=st), n)
            base = median_seconds(lambda st=statuses: _count_coded(db, st), n)
            rows.append(Row(NAME, f"dashboard aggregation, {label}, {what}", agg * 1000, "ms",
                            "one SQL pass counting coded segments", base * 1000,
                            f"≤ {AGG_TARGET_S * 1000:.0f} ms" if big else "",
                            agg <= AGG_TARGET_S if big else None,
                            note=f"analysis.dashboard; {_count_coded(db, statuses)} coded segments",
                            higher_is_better=False))
        rendered = page_render(db)
        if isinstance(rendered, str):
            print(f"  page render skipped: {rendered}")
            rows.append(Row(NAME, f"dashboard page render, {label}", None, "ms",
                            note=f"skipped: {rendered}", higher_is_better=False))
        else:
            rows.append(Row(NAME, f"dashboard page render, {label}", rendered[0] * 1000, "ms",
                            "AppTest of a one-line page", rendered[1] * 1000,
                            note="AppTest, lead mode, accepted codings, caches cleared",
                            higher_is_better=False))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            count: list[int] = []

            def csv_export() -> None:
                # what `evaltool export --format csv` runs
                count[:] = [export.export_file(store, out / "x.csv", fmt="csv", status="all")]

            csv_s = median_seconds(csv_export, min(repeats, 2))
            base_csv = median_seconds(lambda: _raw_csv(db, out / "raw.csv"), min(repeats, 2))
            rows.append(Row(NAME, f"CSV export, {label} ({count[0]} rows)", csv_s, "s",
                            "SQL join + csv.writer", base_csv,
                            f"≤ {CSV_TARGET_S:g} s" if big else "", csv_s <= CSV_TARGET_S if big else None,
                            note="export_file (streams from the store)", higher_is_better=False))
            frame = export.build_frame(store, status="all")
            xlsx_s, _, _ = measure(lambda: export.write(export.build_frame(store, status="all"),
                                                        out / "x.xlsx", "xlsx"))
            base_xlsx, _, _ = measure(lambda: _raw_xlsx(frame, out / "raw.xlsx"))
            rows.append(Row(NAME, f"XLSX export, {label} ({len(frame)} rows)", xlsx_s, "s",
                            "openpyxl write-only of the same frame", base_xlsx,
                            note="build_frame + write", higher_is_better=False))
    finally:
        store.close()
    return rows


def run(cfg: Config, sizes: Callable[[Config], tuple[int, ...]] | None = None) -> list[Row]:
    """Dashboard and export figures at each database size."""
    chosen = sizes(cfg) if sizes else ((300,) if cfg.quick else (10_000, 100_000))
    return [row for n in chosen for row in _rows_at(cfg, n)]
