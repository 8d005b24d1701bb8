"""Journey on the Enighed page: reliability against a coder who barely coded."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_util import act, alerts, go_to, pick
from tests.journeys.journey import coding_row, find_suggestion, open_document, start

pytestmark = pytest.mark.browser


def test_reliability_with_sparse_coder_warns(page: Page, app_url: str, demo_db: Path) -> None:
    """A coder who decided two suggestions is compared with the full gold coding: the Enighed
    page warns that one side barely coded, naming them."""
    coder = "Sparsom Sif"
    start(page, app_url, coder)
    for _ in range(2):  # the first open suggestion, twice
        target = find_suggestion(demo_db, "01_broenderslev.txt")
        open_document(page, target.document, target.site)
        act(page, coding_row(page, target).get_by_role("button", name="Accepter").click)
        expect(coding_row(page, target)).to_contain_text("Accepteret")

    go_to(page, "Enighed")
    pick(page, "Koder A", "guld")
    pick(page, "Koder B", coder)
    warning = alerts(page).filter(has_text=coder)
    expect(warning).to_be_visible()
