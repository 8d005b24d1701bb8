"""Journeys from a decision on the Kodning page to what every page then shows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_util import act, alerts, choose_coder, go_to, pick
from tests.journeys.journey import (
    STATUS,
    coding_row,
    export_rows,
    find_suggestion,
    flash,
    open_document,
    queue_left,
    row_text,
    sentence_box,
    show_view,
    start,
    theme_quotes,
)

pytestmark = pytest.mark.browser

ENGLISH = re.compile(r"\b(the|was|changed|coding|since|accept|reject|recode|undo)\b")


def _download_csv(page: Page, button: str = "Hent CSV (UTF-8)") -> list[dict[str, str]]:
    """Click an Eksport download button and read the file the person gets."""
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    path = info.value.path()
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))


def test_decision_shows_on_dashboard_and_export(page: Page, app_url: str, demo_db: Path) -> None:
    """Accepting a suggestion adds its quote to the Dashboard's theme and a row to Eksport."""
    target = find_suggestion(demo_db, "05_ringkoebing_skjern.txt")
    theme = target.themes[0]
    start(page, app_url, "Beslutter Bent")
    go_to(page, "Dashboard")
    quotes = theme_quotes(page, theme)
    go_to(page, "Eksport")
    rows = export_rows(page)

    go_to(page, "Kodning")
    open_document(page, target.document, target.site)
    act(page, coding_row(page, target).get_by_role("button", name="Accepter").click)
    expect(flash(page, r"^Accepteret")).to_be_visible()

    go_to(page, "Dashboard")
    expect(page.get_by_role("heading", name=re.compile(rf"^{theme} ·"))).to_be_visible()
    assert theme_quotes(page, theme) == quotes + 1
    go_to(page, "Eksport")
    assert export_rows(page) == rows + 1
    exported = _download_csv(page)
    assert len(exported) == rows + 1
    assert any(r["text"] == target.sentence and r["code_id"] == target.code_key
               and r["coder"] == "Beslutter Bent" for r in exported)


def test_memo_saved_without_enter(page: Page, app_url: str, demo_db: Path) -> None:
    """A memo typed and saved with the button (no Enter) is shown after a reload and exported."""
    target = find_suggestion(demo_db, "03_vesthimmerland.docx")
    memo = "Se også tur 14: samme pointe om kaffen (æøå)"
    start(page, app_url, "Memo Mette")
    open_document(page, target.document, target.site)
    row = coding_row(page, target)
    row.get_by_role("button", name="Memo").click()
    box = page.get_by_role("textbox", name="Memo").last
    box.fill(memo)  # typed, not confirmed with Ctrl+Enter
    act(page, page.get_by_role("button", name="Gem memo").click)
    expect(flash(page, "[Mm]emo")).to_be_visible()

    page.reload()
    page.get_by_role("heading", name="Kodning", exact=True).wait_for()
    choose_coder(page, "Memo Mette")
    open_document(page, target.document, target.site)
    expect(sentence_box(page, target.sentence).get_by_text(f"Memo: {memo}")).to_be_visible()

    go_to(page, "Eksport")
    pick(page, "Status", "Alle")
    exported = _download_csv(page)
    assert [r["memo"] for r in exported if r["text"] == target.sentence] == [memo]


def test_shortcut_on_document_tab_does_nothing_hidden(page: Page, app_url: str) -> None:
    """Pressing A while reading a document decides nothing in the hidden queue; on the
    queue it accepts the suggestion shown, and says so."""
    start(page, app_url, "Tast Tove")
    show_view(page, "Næste usikre")
    before = queue_left(page)
    show_view(page, "Dokument")
    page.get_by_role("heading", name="Kodning", exact=True).click()  # focus on the page
    page.keyboard.press("a")
    page.wait_for_timeout(1500)  # a rerun would have started by now
    expect(flash(page, r"^Accepteret")).to_have_count(0)
    show_view(page, "Næste usikre")
    assert queue_left(page) == before

    page.get_by_role("heading", name="Kodning", exact=True).click()
    act(page, lambda: page.keyboard.press("a"))
    expect(flash(page, r"^Accepteret")).to_be_visible()
    assert queue_left(page) == before - 1


def test_recode_history_shows_label_and_coder(page: Page, app_url: str, demo_db: Path) -> None:
    """A coder recodes a suggestion: the row is a human coding now, and the segment's history
    names the new code by its label and the coder who chose it."""
    target = find_suggestion(demo_db, "03_vesthimmerland.docx", skip=1)
    coder = "Omkoder Ole"
    start(page, app_url, coder)
    open_document(page, target.document, target.site)
    new_label = "Fælles ejerskab og borgerne som ressource"
    assert new_label != target.label
    opener = coding_row(page, target).get_by_role("button", name="Skift kode")
    opener.click()
    pick(page, "Ny kode", new_label, opener=opener)
    act(page, page.get_by_role("button", name="Gem", exact=True).click)
    expect(flash(page, r"^Koden er ændret")).to_be_visible()

    box = sentence_box(page, target.sentence)
    row = box.get_by_test_id("stHorizontalBlock").filter(has_text=new_label)
    line = row_text(row)
    assert f"· {STATUS['accepted']}" in line and "manuel" in line and coder in line
    assert "%" not in line  # no machine confidence on a human's choice
    box.get_by_role("button", name="Historik").click()
    history = page.get_by_test_id("stPopoverBody").filter(has_text=coder).last
    expect(history).to_contain_text(new_label)
    assert not ENGLISH.search(history.inner_text())


def test_two_coders_on_one_coding_get_danish_conflict(new_page: Callable[[], Page], app_url: str,
                                                       demo_db: Path) -> None:
    """Two coders have the same suggestion open; the first accepts, the second's reject is
    refused with a Danish message saying who changed it, and nothing is overwritten."""
    target = find_suggestion(demo_db, "05_ringkoebing_skjern.txt", skip=1)
    anna, bo = new_page(), new_page()
    for page, coder in ((anna, "Anna Konflikt"), (bo, "Bo Konflikt")):
        start(page, app_url, coder)
        open_document(page, target.document, target.site)
        expect(coding_row(page, target)).to_contain_text(STATUS["suggested"])

    act(anna, coding_row(anna, target).get_by_role("button", name="Accepter").click)
    expect(flash(anna, r"^Accepteret")).to_be_visible()
    act(bo, coding_row(bo, target).get_by_role("button", name="Afvis").click)
    message = alerts(bo).filter(has_text="Anna Konflikt")
    expect(message).to_be_visible()
    assert STATUS["accepted"] in message.inner_text()
    assert not ENGLISH.search(message.inner_text())
    line = row_text(coding_row(bo, target))
    assert f"· {STATUS['accepted']}" in line and "Anna Konflikt" in line


def test_lead_sees_decision_on_reload(new_page: Callable[[], Page], app_url: str, lead_url: str,
                                      demo_db: Path) -> None:
    """The project lead's read-only app shows an evaluator's decision at the next reload."""
    target = find_suggestion(demo_db, "04_aabenraa.vtt")
    theme = target.themes[0]
    lead = new_page()
    start(lead, lead_url, heading="Dashboard")
    quotes = theme_quotes(lead, theme)
    go_to(lead, "Eksport")
    rows = export_rows(lead)

    evaluator = new_page()
    start(evaluator, app_url, "Evaluator Eva")
    open_document(evaluator, target.document, target.site)
    act(evaluator, coding_row(evaluator, target).get_by_role("button", name="Accepter").click)
    expect(flash(evaluator, r"^Accepteret")).to_be_visible()

    lead.reload()
    assert export_rows(lead) == rows + 1
    go_to(lead, "Dashboard")
    assert theme_quotes(lead, theme) == quotes + 1
