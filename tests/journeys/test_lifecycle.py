"""Journeys over a document's life: re-import with decisions, delete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_util import act, alerts, go_to, pick
from tests.journeys.journey import (
    NEW_USERS,
    NEW_USERS_LABEL,
    STATUS,
    VILLAGE,
    VILLAGE_LABEL,
    accept,
    export_rows,
    open_document,
    sentence_box,
    show_view,
    start,
    transcript,
    upload,
)

pytestmark = pytest.mark.browser

ENGLISH = re.compile(r"\b(turns|segments|already|imported|replace|human|decisions|would|lost|"
                     r"carried|codings)\b|--")


def test_reimport_keeps_decisions(page: Page, app_url: str, journey_dir: Path) -> None:
    """Re-importing a transcript whose decided sentence changed is refused (in Danish) and
    changes nothing; re-importing it with that sentence intact carries the decision over."""
    folder = journey_dir / "reimport"
    name = "journey_fanoe.txt"
    start(page, app_url, "Genimport Gorm")
    upload(page, transcript(folder / "v1", "Fanø", name))
    expect(alerts(page).filter(has_text=re.compile(r"^1 (fil )?importeret"))).to_be_visible()
    go_to(page, "Kodning")
    open_document(page, name, "Fanø")
    accept(page, VILLAGE, VILLAGE_LABEL)

    changed = transcript(folder / "v2", "Fanø", name,
                         edit=(VILLAGE, "Vi har mistet både skolen, kroen og købmanden i landsbyen."))
    upload(page, changed, replace=True)
    refusal = alerts(page).filter(has_text=name).first
    expect(refusal).to_be_visible()
    assert not ENGLISH.search(refusal.inner_text()), refusal.inner_text()
    expect(alerts(page).filter(has_text=re.compile(r"0 (filer )?importeret|1 med fejl|1 fejl"))
           ).to_be_visible()
    go_to(page, "Kodning")
    open_document(page, name, "Fanø")
    expect(sentence_box(page, VILLAGE).get_by_test_id("stHorizontalBlock").filter(
        has_text=VILLAGE_LABEL)).to_contain_text(f"{STATUS['accepted']}")

    other = transcript(folder / "v3", "Fanø", name, edit=("Tak for i dag.", "Tak for i dag, alle."))
    upload(page, other, replace=True)
    expect(alerts(page).filter(has_text=re.compile(r"^1 (fil )?importeret"))).to_be_visible()
    go_to(page, "Kodning")
    open_document(page, name, "Fanø")
    row = sentence_box(page, VILLAGE).get_by_test_id("stHorizontalBlock").filter(
        has_text=VILLAGE_LABEL)
    expect(row).to_contain_text(STATUS["accepted"])
    expect(row).to_contain_text("Genimport Gorm")
    expect(page.get_by_text("Tak for i dag, alle.", exact=True)).to_be_visible()


def options(page: Page, label: str) -> list[str]:
    """The options a selectbox offers (opened, read, closed again)."""
    page.get_by_test_id("stMain").get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("listbox").last.wait_for()
    found = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return found


def test_delete_document_gone_from_every_page(page: Page, app_url: str,
                                              journey_dir: Path) -> None:
    """A document deleted (and confirmed) on the Import page is gone from Kodning, the queue,
    the Dashboard and Eksport, and its accepted quote no longer counts."""
    path = transcript(journey_dir / "delete", "Læsø", "journey_laesoe.txt")
    shown = f"Læsø – {path.name}"
    start(page, app_url, "Sletter Sune")
    upload(page, path)
    go_to(page, "Kodning")
    open_document(page, path.name, "Læsø")
    accept(page, NEW_USERS, NEW_USERS_LABEL)
    go_to(page, "Eksport")
    assert "Læsø" in options(page, "Sted")
    rows = export_rows(page)

    go_to(page, "Import")
    pick(page, "Dokument der skal slettes", shown)
    expect(alerts(page).filter(has_text="kan ikke fortrydes")).to_be_visible()
    button = page.get_by_role("button", name="Slet dokument")
    expect(button).to_be_disabled()  # not before the confirmation
    act(page, page.get_by_text(f"Ja, slet »{path.name}«").click)
    act(page, button.click)
    expect(alerts(page).filter(has_text=re.compile(rf"^Slettet: »{re.escape(path.name)}«"))
           ).to_be_visible()

    go_to(page, "Kodning")
    show_view(page, "Dokument")
    assert shown not in options(page, "Dokument")
    show_view(page, "Næste usikre")
    assert not [o for o in options(page, "Dokumenter") if path.name in o]
    go_to(page, "Dashboard")
    assert "Læsø" not in options(page, "Sted")
    go_to(page, "Eksport")
    assert "Læsø" not in options(page, "Sted")
    assert export_rows(page) == rows - 1
