"""End to end in a real browser: `streamlit run app.py` on a demo database, driven by
Playwright in Debian's Chromium; accepting a suggestion must change the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltool.store import open_store

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import expect, sync_playwright

from tests.browser_util import (
    LOAD_TIMEOUT_MS,
    VIEWPORT,
    BrowserUnavailable,
    build_demo_db,
    choose_coder,
    find_chromium,
    launch_chromium,
    open_app,
    serve_app,
)

CODER = "Testkoder Åse"


def _accepted_by(db: Path, coder: str) -> tuple[int, int, list]:
    """(accepted codings of ``coder``, all accepted codings, their history events)."""
    store = open_store(str(db))
    try:
        accepted = store.coding_views(status="accepted")
        mine = [v for v in accepted if v.coder == coder]
        events = [e for v in mine for e in store.history(v.segment_id)
                  if e.coder == coder and e.action == "accept"]
        return len(mine), len(accepted), events
    finally:
        store.close()


@pytest.fixture(scope="module")
def chromium() -> str:
    """Path of the system Chromium, or skip with the reason."""
    try:
        return find_chromium()
    except BrowserUnavailable as exc:
        pytest.skip(f"Chromium not available: {exc}")


@pytest.mark.browser
def test_accept_in_queue_changes_database(chromium: str, tmp_path: Path) -> None:
    """A new coder accepts the first 'Næste usikre' suggestion; the database records it."""
    db = build_demo_db(tmp_path / "demo.db")
    mine_before, total_before, _ = _accepted_by(db, CODER)
    assert mine_before == 0

    with serve_app(db) as url, sync_playwright() as p:
        browser = launch_chromium(p, chromium)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(LOAD_TIMEOUT_MS)
            open_app(page, url, "Kodning")
            choose_coder(page, CODER)
            page.get_by_role("tab", name="Næste usikre").click()
            queue = page.get_by_role("tabpanel", name="Næste usikre")
            expect(queue.get_by_text("forslag tilbage")).to_be_visible(timeout=LOAD_TIMEOUT_MS)
            queue.get_by_role("button", name="Accepter").click()
            # the flash message appears only after the decision was stored and the page rerun
            expect(page.get_by_text("Accepteret.", exact=True)).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        finally:
            browser.close()

    mine_after, total_after, events = _accepted_by(db, CODER)
    assert mine_after == 1
    assert total_after == total_before + 1
    assert len(events) == 1
    assert events[0].before["status"] == "suggested"
    assert events[0].after["status"] == "accepted"
