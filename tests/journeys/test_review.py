"""Journeys on the Kodning page: the review queue, undo, filters, two coders at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from evaltool.store import open_store
from tests.browser_util import act
from tests.journeys.journey import (
    CMO,
    STATUS,
    flash,
    main,
    open_document,
    queue_left,
    show_view,
    start,
    toggle_pill,
)

pytestmark = pytest.mark.browser


def _decisions(db: Path, coder: str) -> list:
    """History events of ``coder`` (what the database recorded)."""
    store = open_store(str(db))
    try:
        views = store.coding_views(status="all")
        seen = {v.segment_id for v in views}
        return [e for s in seen for e in store.history(s) if e.coder == coder]
    finally:
        store.close()


def test_accept_in_queue_then_undo(page: Page, app_url: str, demo_db: Path) -> None:
    """A new coder accepts the first 'Næste usikre' suggestion, sees it counted, and undoes it."""
    coder = "Kø Åse"
    start(page, app_url, coder)
    show_view(page, "Næste usikre")
    before = queue_left(page)
    queue = main(page)
    queue.get_by_role("button", name="Accepter").click()
    expect(flash(page, r"^Accepteret")).to_be_visible()
    assert queue_left(page) == before - 1
    events = _decisions(demo_db, coder)
    assert [(e.action, e.before["status"], e.after["status"]) for e in events] == [
        ("accept", "suggested", "accepted")]

    queue.get_by_role("button", name="Fortryd min seneste").click()
    expect(flash(page, r"^Fortrudt")).to_be_visible()
    assert queue_left(page) == before


def test_filters_on_kodning(page: Page, app_url: str) -> None:
    """Status and CMO filters narrow the Dokument tab to what was asked for."""
    start(page, app_url, "Filter Søren")
    open_document(page, "02_morsoe.md", "Morsø")
    panel = main(page)
    shown = panel.get_by_text(re.compile(r"kodninger vist"))
    everything = shown.inner_text()

    # only accepted codings: every row says so, and none is counted as a suggestion
    toggle_pill(page, "Status", STATUS["suggested"], scope=panel)
    expect(shown).not_to_have_text(everything)
    expect(shown).to_have_text(re.compile(r"heraf 0 forslag"))
    rows = panel.get_by_test_id("stHorizontalBlock").filter(
        has=page.get_by_role("button", name="Accepter", exact=True))
    texts = rows.all_inner_texts()
    assert texts
    assert [t for t in texts if f"· {STATUS['accepted']}" not in t] == []

    accepted_only = shown.inner_text()
    toggle_pill(page, "CMO", CMO["outcome"], scope=panel)
    expect(shown).not_to_have_text(accepted_only)
    # the first turns hold no accepted outcome: show only the coded sentences
    act(page, panel.get_by_text("Kun kodede sætninger", exact=True).click)
    texts = rows.all_inner_texts()
    assert texts
    assert [t for t in texts if f"({CMO['outcome']})" not in t] == []
