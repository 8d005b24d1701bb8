"""Journey on the Memoer page: memos written on Kodning and on Memoer, listed together,
filtered, still there after a reload, and downloaded."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_util import act, choose_coder, go_to, pick, wait_idle
from tests.journeys.journey import (
    coding_row,
    find_suggestion,
    flash,
    main,
    open_document,
    start,
    toggle_pill,
)

pytestmark = pytest.mark.browser

CODER = "Memo Magnus"
CODING_MEMO = "Kaffen åbner samtalen (kodningens memo)"
DOCUMENT_MEMO = "Aabenraa: de frivillige bærer det hele (dokumentmemo)"
PROJECT_MEMO = "=Mekanismen går igen i alle fem kommuner (projektmemo)"


def _listed(page: Page, count: str, texts: tuple[str, ...]) -> None:
    """The Memoer page shows ``count`` ('3 memoer') and each of ``texts``."""
    panel = main(page)
    expect(panel.get_by_text(count, exact=True)).to_be_visible()
    for text in texts:
        expect(panel.get_by_text(text, exact=True)).to_be_visible()


def test_memos_of_every_kind_on_one_page(page: Page, app_url: str, demo_db: Path) -> None:
    """A coder writes a memo on a coding in Kodning, a document memo and a project memo on
    Memoer, sees all three, filters by kind, reloads, and downloads them."""
    target = find_suggestion(demo_db, "04_aabenraa.vtt", skip=1)
    start(page, app_url, CODER)
    open_document(page, target.document, target.site)
    coding_row(page, target).get_by_role("button", name="Memo").click()
    box = page.get_by_role("textbox", name="Memo").last
    box.fill(CODING_MEMO)
    act(page, page.get_by_role("button", name="Gem memo").click)
    expect(flash(page, "^Memo gemt")).to_be_visible()

    go_to(page, "Memoer")
    panel = main(page)
    pick(page, "Memoets dokument", target.document, scope=panel)
    panel.get_by_role("textbox", name="Dokumentmemo").fill(DOCUMENT_MEMO)  # no Ctrl+Enter
    act(page, panel.get_by_role("button", name="Gem dokumentmemo").click)
    expect(flash(page, "^Dokumentmemo gemt på")).to_be_visible()
    panel.get_by_role("textbox", name="Projektmemo").fill(PROJECT_MEMO)
    act(page, panel.get_by_role("button", name="Gem projektmemo").click)
    expect(flash(page, "^Projektmemo gemt")).to_be_visible()

    pick(page, "Koder", CODER, scope=panel)
    _listed(page, "3 memoer", (CODING_MEMO, DOCUMENT_MEMO, PROJECT_MEMO))
    toggle_pill(page, "Art", "Projekt", scope=panel)
    _listed(page, "1 memo", (PROJECT_MEMO,))
    expect(panel.get_by_text(DOCUMENT_MEMO, exact=True)).to_have_count(0)
    toggle_pill(page, "Art", "Projekt", scope=panel)

    page.reload()  # the app opens again on Memoer, with a new session (no coder chosen)
    page.get_by_role("heading", name="Memoer", exact=True).wait_for()
    choose_coder(page, CODER)
    expect(main(page).get_by_role("button", name="Gem projektmemo")).to_be_visible()
    wait_idle(page)  # the coder's run has drawn the forms: the filter is chosen after it
    pick(page, "Koder", CODER, scope=main(page))
    _listed(page, "3 memoer", (CODING_MEMO, DOCUMENT_MEMO, PROJECT_MEMO))

    with page.expect_download() as info:
        main(page).get_by_role("button", name="Hent CSV (UTF-8)").click()
    rows = list(csv.DictReader(io.StringIO(
        Path(info.value.path()).read_text(encoding="utf-8"))))
    assert sorted((r["kind"], r["document"], r["code_id"], r["coder"], r["memo"])
                  for r in rows) == sorted([
        ("coding", target.document, target.code_key, CODER, CODING_MEMO),
        ("document", target.document, "", CODER, DOCUMENT_MEMO),
        ("project", "", "", CODER, "'" + PROJECT_MEMO),  # a formula-like memo is defused
    ])
    assert next(r for r in rows if r["kind"] == "coding")["quote"] == target.sentence
