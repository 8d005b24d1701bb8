"""Journey of a new document: upload, auto-code, review, Dashboard."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_util import alerts, go_to, pick
from tests.journeys.journey import (
    NEW_USERS,
    NEW_USERS_LABEL,
    accept,
    open_document,
    start,
    theme_quotes,
    transcript,
    upload,
)

pytestmark = pytest.mark.browser

def test_import_autocode_review_dashboard(page: Page, app_url: str, journey_dir: Path) -> None:
    """A transcript uploaded on the Import page is auto-coded; a suggestion accepted on
    Kodning is counted on the Dashboard for the new site."""
    path = transcript(journey_dir / "upload", "Tønder", "journey_toender.txt")
    start(page, app_url, "Import Ida")
    upload(page, path)
    expect(alerts(page).filter(has_text=re.compile(r"^1 (fil )?importeret"))).to_be_visible()
    expect(alerts(page).filter(has_text="Autokodning kørt")).to_be_visible()

    go_to(page, "Dashboard")
    pick(page, "Sted", "Tønder")
    before = theme_quotes(page, "T1")

    go_to(page, "Kodning")
    open_document(page, path.name, "Tønder")
    accept(page, NEW_USERS, NEW_USERS_LABEL)

    go_to(page, "Dashboard")
    pick(page, "Sted", "Tønder")
    assert theme_quotes(page, "T1") == before + 1
