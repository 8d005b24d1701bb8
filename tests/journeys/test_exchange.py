"""Journey on Eksport: the project downloaded as REFI-QDA for another QDA tool."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page

from evaltool.refi import schema
from tests.browser_util import go_to
from tests.journeys.journey import export_rows, main, start

pytestmark = pytest.mark.browser


def test_project_and_codebook_download_as_valid_refi_qda(page: Page, app_url: str,
                                                         demo_db: Path) -> None:
    """The person opens Eksport, downloads the project (.qdpx) and the codebook (.qdc); both
    validate against the REFI-QDA schemas and the project holds one coding per exported row."""
    start(page, app_url)
    go_to(page, "Eksport")
    rows = export_rows(page)
    with page.expect_download() as info:
        main(page).get_by_role("button", name="Hent projekt (REFI-QDA .qdpx)").click()
    assert info.value.suggested_filename == "projekt.qdpx"
    with zipfile.ZipFile(info.value.path()) as archive:
        xml = archive.read(schema.PROJECT_FILE)
        sources = [n for n in archive.namelist() if n.startswith("sources/")]
    assert schema.errors(xml, "project") == []
    root = etree.fromstring(xml)
    ns = {"q": schema.PROJECT_NS}
    assert len(sources) == len(root.findall(".//q:TextSource", ns)) >= 1
    assert len(root.findall(".//q:PlainTextSelection/q:Coding", ns)) == rows
    with page.expect_download() as info:
        main(page).get_by_role("button", name="Hent kodebog (REFI-QDA .qdc)").click()
    assert schema.errors(Path(info.value.path()).read_bytes(), "codebook") == []
