"""Journey to results: the Excel file as the evaluator downloads it."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page

from evaltool.export import COLUMNS
from tests.browser_util import go_to, pick
from tests.journeys.journey import export_rows, start

pytestmark = pytest.mark.browser


def test_excel_download_opens(page: Page, app_url: str, tmp_path: Path) -> None:
    """The XLSX downloaded from Eksport opens, with the columns and the rows the page counted."""
    start(page, app_url, heading="Kodning")
    go_to(page, "Eksport")
    pick(page, "Sted", "Morsø")
    rows = export_rows(page)
    assert rows > 0
    with page.expect_download() as info:
        page.get_by_role("button", name="Hent XLSX").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    assert list(table[0][:len(COLUMNS)]) == COLUMNS
    assert len(table) - 1 == rows
    site = COLUMNS.index("site")
    assert {r[site] for r in table[1:]} == {"Morsø"}
