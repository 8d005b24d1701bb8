"""Journey to the report: from the Dashboard to a theme's chapter, a quote pinned "til
rapporten", still first after a reload, the Word report downloaded and read back, and the
quote's link to its turn in Kodning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import Locator, Page, expect

from evaltool.report import CHAIN_HEAD
from evaltool.store import open_store
from tests.browser_util import LOAD_TIMEOUT_MS, act, alerts, go_to, wait_idle
from tests.journeys.journey import main, start

pytestmark = pytest.mark.browser

CODER = "Kamma"  # this journey's own coder (pins carry the coder's name)
LEAD = "Lisbeth"  # the lead journey's name
# the report is built on the click (charts rendered by vl-convert): slow on a loaded machine
DOWNLOAD_TIMEOUT_MS = 240_000
THEME = "T2"
PLACE = re.compile(r", tur \d+")  # a quote's caption: '**Speaker** (role) · … doc, tur N · …'


def _theme(db: Path) -> tuple[str, list[str]]:
    """The theme's heading on its chapter page ('T2 · label') and all themes' keys."""
    store = open_store(str(db))
    try:
        themes = store.active_codebook()["content"]["themes"]
    finally:
        store.close()
    label = next(t["label"] for t in themes if t["id"] == THEME)
    return f"{THEME} · {label}", [t["id"] for t in themes]


def _captions(page: Page) -> list[str]:
    """The quotes' captions in the page's order."""
    return [c for c in main(page).get_by_test_id("stCaptionContainer").all_inner_texts()
            if PLACE.search(c)]


def _quote_box(page: Page, caption: str) -> Locator:
    """The bordered box of the quote with this caption (its text, caption, buttons)."""
    return main(page).get_by_test_id("stVerticalBlock").filter(
        has=page.get_by_test_id("stCaptionContainer").get_by_text(caption, exact=True)).filter(
        has=page.get_by_test_id("stMarkdownContainer")).last


def _section(doc, chapter: str) -> list:
    """The paragraphs and tables of one theme chapter of the .docx, in order."""
    body, out, inside = doc.element.body, [], False
    paragraphs = {p._p: p for p in doc.paragraphs}
    tables = {t._tbl: t for t in doc.tables}
    for child in body.iterchildren():
        p = paragraphs.get(child)
        if p is not None and p.style.name == "Heading 1":
            inside = p.text.startswith(chapter)
        elif inside:
            out.append(p if p is not None else tables.get(child))
    return [x for x in out if x is not None]


def test_pin_a_quote_and_download_the_report(page: Page, app_url: str, demo_db: Path,
                                             tmp_path: Path) -> None:
    heading, themes = _theme(demo_db)
    start(page, app_url, coder=CODER)
    go_to(page, "Dashboard")  # drawn whole: a card half drawn is not yet its own block
    card = main(page).get_by_test_id("stVerticalBlock").filter(
        has=page.get_by_role("heading", name=re.compile(rf"^{THEME} ·"))).filter(
        has=page.get_by_test_id("stMetric")).last
    act(page, card.get_by_role("link", name="Åbn temakapitlet").click)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert f"tema={THEME}" in page.url

    # the first site's last quote is pinned: it moves to the top of its section
    first_site = next(h for h in main(page).get_by_role("heading", level=3).all_inner_texts()
                      if h != "Rapporten")  # the sites' sections follow the report's box
    before = _captions(page)
    per_site = int(main(page).get_by_role("spinbutton", name="Citater pr. sted").input_value())
    chosen = before[per_site - 1]
    text = _quote_box(page, chosen).get_by_test_id("stMarkdownContainer").first.inner_text()
    act(page, _quote_box(page, chosen).get_by_role("button", name="Til rapporten").click)
    expect(alerts(page).filter(has_text="valgt til rapporten")).to_be_visible()
    assert _captions(page)[0] == chosen
    expect(_quote_box(page, chosen).get_by_text(re.compile(rf"Valgt til rapporten · {CODER}"))
           ).to_be_visible()

    # a reload (a new session: no coder chosen) opens the same chapter, the quote still first
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(
        timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)
    assert _captions(page)[0] == chosen
    expect(_quote_box(page, chosen).get_by_text(re.compile(rf"Valgt til rapporten · {CODER}"))
           ).to_be_visible()

    # the Word report: every theme's chapter, the pinned quote first at its site, the chains
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as info:
        main(page).get_by_role("button", name="Hent rapport (Word)").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".docx"
    doc = Document(str(saved))
    chapters = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"
                and p.text.startswith("Tema ")]
    assert [c.split(":")[0] for c in chapters] == [f"Tema {t}" for t in themes]
    chapter = _section(doc, f"Tema {THEME}:")
    sites = [x.text for x in chapter if hasattr(x, "style") and x.style.name == "Heading 2"
             and x.text != "CMO-kæder"]
    assert sites and sites[0] == first_site and len(sites) >= 2
    start_at = next(i for i, x in enumerate(chapter)
                    if hasattr(x, "style") and x.text == first_site)
    quote = next(x for x in chapter[start_at:] if hasattr(x, "style") and x.style.name == "Quote")
    assert quote.text.split() == text.split()  # the whole turn, as the page showed it
    assert "valgt til rapporten" in chapter[chapter.index(quote) + 1].text
    chains = [t for t in chapter if hasattr(t, "rows")]
    assert chains and tuple(c.text for c in chains[0].rows[0].cells) == CHAIN_HEAD
    assert len(chains[0].rows) > 1

    # the quote's link opens its turn in Kodning (after choosing a coder again)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name="Koder").click()
    act(page, page.get_by_role("option", name=CODER, exact=True).click)
    turn = re.search(r"tur (\d+)", chosen).group(1)
    act(page, _quote_box(page, chosen).get_by_role("link", name="Åbn i Kodning").click)
    expect(page.get_by_role("heading", name="Kodning", exact=True)).to_be_visible()
    expect(alerts(page).filter(has_text=f"Tur {turn} er åbnet fra Temakapitel")).to_be_visible()
    expect(main(page).get_by_text(re.compile(rf"(^|\s){turn}\. \S")).first).to_be_visible()


def test_a_lead_pins_a_quote_in_their_name_and_codes_nothing(page: Page, lead_url: str,
                                                           tmp_path: Path) -> None:
    """Issue #15's lead: on the read-only lead server, from the Dashboard to a chapter, a name
    typed once, a quote pinned in that name, no way into Kodning, the pin in the report."""
    start(page, lead_url, heading="Dashboard")
    card = main(page).get_by_test_id("stVerticalBlock").filter(
        has=page.get_by_role("heading", name=re.compile(r"^T1 ·"))).filter(
        has=page.get_by_test_id("stMetric")).last
    act(page, card.get_by_role("link", name="Åbn temakapitlet").click)
    expect(main(page).get_by_text("Skriv dit navn i sidepanelet", exact=False)).to_be_visible()
    expect(main(page).get_by_role("button", name="Til rapporten")).to_have_count(0)
    name = page.get_by_test_id("stSidebar").get_by_role("textbox", name="Dit navn")
    name.fill(LEAD)
    act(page, lambda: name.press("Enter"))
    chosen = _captions(page)[1]  # a quote no other journey pins first
    act(page, _quote_box(page, chosen).get_by_role("button", name="Til rapporten").click)
    expect(alerts(page).filter(has_text="valgt til rapporten")).to_be_visible()
    expect(_quote_box(page, chosen).get_by_text(re.compile(rf"Valgt til rapporten · {LEAD}"))
           ).to_be_visible()
    expect(main(page).get_by_role("link", name="Åbn i Kodning")).to_have_count(0)
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as info:
        main(page).get_by_role("button", name="Hent rapport (Markdown)").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    report = saved.read_text(encoding="utf-8").replace("\\", "")  # Markdown escapes off
    t1 = report.split("## Tema T1:")[1].split("## Tema ")[0]
    where = re.search(r"[^·]+, tur \d+", chosen).group(0).strip()
    assert [line for line in t1.splitlines() if where in line and "valgt til rapporten" in line]
