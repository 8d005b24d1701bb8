"""The storage layer on both backends: SQLite files and a real PostgreSQL server.

Every test taking ``any_store`` runs twice (``[sqlite]`` and ``[postgres]``); the
PostgreSQL runs skip, with the reason, when no server can be started here.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from evaltool import codebook, export, gold
from evaltool.autocode import run
from evaltool.errors import ConflictError
from evaltool.importer import import_paths
from evaltool.store import Store, open_store
from evaltool.store.db import head_revision
from evaltool.store.models import Base
from evaltool.store.search import not_search_index

FIXTURES = Path(__file__).parent / "fixtures"
TRANSCRIPTS = ["kaffe_morsoe.txt", "kaffe_aars.txt", "fokusgruppe.txt"]

# the search index's FTS5 tables are no ORM models (migration 0009)
SCHEMA_OPTS = {"include_name": not_search_index}


def second_store(store: Store) -> Store:
    """Another Store (own engine and connections) on the same database, like a second coder."""
    return open_store(store.engine.url.render_as_string(hide_password=False))


def fill(store: Store, model_nlp) -> None:
    """Import the fixture transcripts, load the mini codebook and gold codings, auto-code."""
    summary = import_paths([FIXTURES / name for name in TRANSCRIPTS], store, lambda: model_nlp)
    assert summary.failed == 0
    store.load_codebook(codebook.load(FIXTURES / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    gold.load_gold(store, FIXTURES / "gold")
    run.run(store, lambda: model_nlp)


def test_migrations_create_exactly_the_models(any_store) -> None:
    with any_store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=SCHEMA_OPTS), Base.metadata)
    assert diff == []
    assert any_store.schema_version() == head_revision()
    # opening again finds nothing to upgrade
    again = second_store(any_store)
    assert again.schema_version() == head_revision()
    again.close()


def test_import_keeps_offsets_exact(any_store, model_nlp) -> None:
    summary = import_paths([FIXTURES / "kaffe_morsoe.txt", FIXTURES / "fokusgruppe.txt"],
                           any_store, lambda: model_nlp)
    assert summary.failed == 0
    docs = any_store.list_documents()
    assert docs[0].site == "Morsø"
    for doc in docs:
        text = any_store.document_text(doc.id)
        turns = any_store.turns(doc.id)
        segments = any_store.segments(doc.id)
        assert len(turns) == doc.turns and len(segments) == doc.segments > 0
        for t in turns:
            assert text[t.start_char:t.end_char] == t.text
        for s in segments:
            assert text[s.start_char:s.end_char] == s.text
    assert "ældre" in any_store.document_text(docs[0].id)
    # the same content again is skipped, not stored twice
    again = import_paths([FIXTURES / "kaffe_morsoe.txt"], any_store, lambda: model_nlp)
    assert again.count("skipped") == 1 and len(any_store.list_documents()) == 2


def test_overlong_front_matter_imports_the_same_everywhere(any_store, model_nlp,
                                                          tmp_path: Path) -> None:
    # PostgreSQL enforces VARCHAR lengths and SQLite does not: a free-text date longer
    # than the column must not fail the import on PostgreSQL only.
    date = "tirsdag den 1. december 2016 kl. 14.00 på biblioteket i Nykøbing Mors"
    path = tmp_path / "lang_dato.txt"
    path.write_text(f"---\nsite: Morsø\ndate: {date}\n---\nKaren (bibliotekar): Kaffen virkede "
                    "godt for de ældre.\n", encoding="utf-8")
    summary = import_paths([path], any_store, lambda: model_nlp)
    assert summary.failed == 0, [r.message for r in summary.results]
    doc = any_store.list_documents()[0]
    assert doc.date == date[:39] + "…"
    assert doc.attributes["date"] == date  # the whole value is kept


def test_codebook_load_and_reload(any_store) -> None:
    spec = codebook.load(FIXTURES / "mini_kodebog.yaml")
    first = any_store.load_codebook(spec, "mini_kodebog.yaml")
    assert (first.added, first.updated, first.retired) == (len(spec.codes), 0, 0)
    codes = any_store.codes()
    assert [c.key for c in codes] == [c.id for c in spec.codes]
    kaffe = next(c for c in codes if c.key == "mek_kaffe")
    assert (kaffe.themes, kaffe.goals, kaffe.cmo) == (("T1",), ("G1",), "mechanism")
    shorter = spec.model_copy(update={"codes": spec.codes[1:], "version": 2})
    second = any_store.load_codebook(shorter, "mini_kodebog.yaml")
    assert (second.added, second.updated, second.retired) == (0, len(spec.codes) - 1, 1)
    assert any_store.active_codebook()["version"] == 2
    assert spec.codes[0].id not in [c.key for c in any_store.codes()]


def test_autocode_writes_suggestions_idempotently(any_store, model_nlp) -> None:
    fill(any_store, model_nlp)
    suggested = any_store.coding_views(status="suggested")
    assert suggested and all(v.source in ("rules", "model", "combined") for v in suggested)
    assert all(v.explanation for v in suggested)
    again = run.run(any_store, lambda: model_nlp)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == len(suggested)
    assert again.human_kept > 0  # gold codings that the model also suggests stay human


def test_stale_version_is_a_conflict_and_nothing_is_lost(any_store, model_nlp) -> None:
    fill(any_store, model_nlp)
    other = second_store(any_store)
    seen = any_store.coding_views(status="suggested")[0]
    assert any_store.decide(seen.id, "accept", "Åse", expected_version=seen.version) == \
        seen.version + 1
    with pytest.raises(ConflictError, match="ændret af Åse"):
        other.decide(seen.id, "reject", "Bjørn", expected_version=seen.version)
    now = next(v for v in other.coding_views(status="all") if v.id == seen.id)
    assert (now.status, now.coder, now.version) == ("accepted", "Åse", seen.version + 1)
    # with the current version the second coder's change goes through
    other.decide(seen.id, "reject", "Bjørn", expected_version=now.version, memo="Uenig")
    final = next(v for v in any_store.coding_views(status="all") if v.id == seen.id)
    assert (final.status, final.coder, final.memo) == ("rejected", "Bjørn", "Uenig")
    other.close()


def test_simultaneous_saves_one_wins_one_conflicts(any_store, model_nlp) -> None:
    fill(any_store, model_nlp)
    stores = [any_store, second_store(any_store)]
    targets = any_store.coding_views(status="suggested")[:10]
    for seen in targets:
        barrier = threading.Barrier(2)
        outcome: dict[str, str] = {}

        def save(i: int, seen=seen, barrier=barrier, outcome=outcome) -> None:
            coder = ["Åse", "Bjørn"][i]
            barrier.wait()
            try:
                stores[i].decide(seen.id, ["accept", "reject"][i], coder,
                                 expected_version=seen.version, memo=f"af {coder}")
                outcome[coder] = "saved"
            except ConflictError:
                outcome[coder] = "conflict"

        threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcome.values()) == ["conflict", "saved"], outcome
        winner = next(c for c, o in outcome.items() if o == "saved")
        now = next(v for v in any_store.coding_views(status="all") if v.id == seen.id)
        # the stored state is exactly the winner's save, one version further
        assert (now.coder, now.memo, now.version) == (winner, f"af {winner}", seen.version + 1)
    stores[1].close()


@pytest.mark.postgres
def test_export_is_the_same_on_both_backends(store, postgres_server, model_nlp) -> None:
    pg = open_store(postgres_server.create_database())
    try:
        for s in (store, pg):
            fill(s, model_nlp)
            first = s.coding_views(status="suggested")[0]
            s.decide(first.id, "accept", "Åse", expected_version=first.version, memo="Kaffe, ja")
        for unit in ("segment", "turn"):
            frames = [export.build_frame(s, status="all", unit=unit) for s in (store, pg)]
            assert len(frames[0]) > 3
            pd.testing.assert_frame_equal(frames[0], frames[1])
    finally:
        pg.close()


def test_dashboard_counts_match_the_codings_on_both_backends(any_store, model_nlp) -> None:
    """Every dashboard figure recomputed from the coded quotes one by one."""
    from evaltool import analysis

    fill(any_store, model_nlp)
    views = [v for v in any_store.coding_views(status="all")
             if v.status in ("accepted", "suggested")]
    board = analysis.dashboard(any_store, statuses=("accepted", "suggested"))
    assert views and board.themes
    for card in board.themes:
        mine = [v for v in views if card.id in v.themes]
        assert card.quotes == len({v.segment_id for v in mine})
        assert card.sites == sorted({v.site for v in mine if v.site})
        for kind, n in card.cmo.items():
            assert n == len({v.segment_id for v in mine if v.cmo == kind})
        assert len(card.strongest) <= 3
        for q in card.strongest:
            assert 40 <= len(q.text) <= 400 and q.segment_id in {v.segment_id for v in mine}
    shown = [q.segment_id for c in board.themes for q in c.strongest]
    assert len(shown) == len(set(shown))  # a quote is shown under one theme only
    for goal in board.goals:
        assert goal.quotes == len({v.segment_id for v in views if goal.key in v.goals})
    by_site = {(r.site, r.theme): r.quotes for r in board.site_theme}
    for (site, theme), n in by_site.items():
        assert n == len({v.segment_id for v in views if v.site == site and theme in v.themes})
