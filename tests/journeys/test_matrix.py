"""Journey on the Matricer page: open the code × site matrix and click through to quotes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from evaltool import analysis
from evaltool.store import open_store
from evaltool.ui.codes import code_labels
from tests.browser_util import go_to, pick
from tests.journeys.journey import main, start

pytestmark = pytest.mark.browser


def test_code_by_site_to_quotes(page: Page, app_url: str, demo_db: Path) -> None:
    """A coder opens codes × site, picks a cell, and reads as many quotes as it counts."""
    store = open_store(str(demo_db))
    try:
        m = store.matrix("site")
        row, col = max(((r, c) for r in m.rows for c in m.cols), key=lambda rc: m.count(*rc))
        quotes = analysis.matrix_quotes(store, m, row, col)
        n = m.count(row, col)
        option = code_labels(store.codes()).get(row, row)  # the page names codes by their path
    finally:
        store.close()
    assert n > 0 and len(quotes) == n
    start(page, app_url, "Matrix Mads")
    go_to(page, "Matricer")
    panel = main(page)
    pick(page, "Kolonner", "Sted", scope=panel)
    expect(panel.get_by_test_id("stDataFrame")).to_be_visible()
    pick(page, "Kode", option, scope=panel)
    pick(page, "Kolonne", col, scope=panel)
    expect(panel.get_by_text(re.compile(rf"^{n} citat(er)?$"))).to_be_visible()
    expect(panel.get_by_text(f"»{quotes[0].text}«", exact=True)).to_be_visible()
    expect(panel.get_by_role("button", name="Hent matricen (CSV)")).to_be_visible()
