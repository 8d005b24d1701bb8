"""Journey with hostile but legitimate transcript text: emoji, ZWJ sequences, combining
accents, characters outside the BMP, RTL text, HTML, Markdown and LaTeX look-alikes, a long
line without spaces and a speaker named with a tag. Every page shows it literally, no script
runs, and words coded after an emoji are exactly the words selected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from evaltool.store import open_store
from tests.browser_util import act, alerts, go_to, pick, wait_idle
from tests.journeys.journey import flash, main, start, upload
from tests.journeys.test_reading import _choose, _drag_over, _open_reading

pytestmark = pytest.mark.browser

SITE = "Fjendtligby"
NAME = "hostile_tekst.txt"
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
LONG = "a" * 300
PHRASE = "kaffeklubben hjælper"  # coded after an emoji and a non-BMP character
TEXT = f"""---
title: Fjendtlig tekst
site: {SITE}
date: 2026-11-30
target_groups: [Senioren]
moderator: Ordstyrer
---
[00:00:01] Ordstyrer: Velkommen 👩‍👩‍👧 til café\u0301en. {SCRIPT} og {IMG} står her.
[00:00:09] Lise <b>fed</b>: Jeg siger 🎉𝕏 {PHRASE} os hver uge, med **fed** og [link](javascript:alert(3)).
[00:00:20] Jens: Prisen er $x$ og $y$ kroner\tmed tab, og עברית שלום står her.
[00:00:31] Lise <b>fed</b>: {LONG} slut.
"""


def test_hostile_text_shows_literally(page: Page, app_url: str, demo_db: Path,
                                      journey_dir: Path) -> None:
    """Hostile text is shown as written on Kodning, Læsevisning and Søg, no dialog opens,
    and a phrase selected after an emoji is stored as exactly those words."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    path = journey_dir / "hostile" / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEXT, encoding="utf-8")
    coder = "Fjendtlig Frida"
    start(page, app_url, coder)
    upload(page, path)
    expect(alerts(page).filter(has_text=re.compile(r"importeret"))).to_be_visible()

    go_to(page, "Kodning")
    panel = main(page)
    panel.get_by_role("combobox", name="Dokument", exact=True).click()
    page.get_by_role("option", name=f"{SITE} – {NAME}", exact=True).click()
    expect(panel.get_by_text(SCRIPT, exact=False).first).to_be_visible()
    expect(panel.get_by_text("**fed**", exact=False).first).to_be_visible()
    expect(panel.get_by_text("$x$ og $y$", exact=False).first).to_be_visible()
    expect(panel.locator(".katex")).to_have_count(0)  # no LaTeX rendered
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(panel.locator("a[href^='javascript']")).to_have_count(0)
    expect(panel.get_by_text("Lise <b>fed</b>", exact=False).first).to_be_visible()

    frame = _open_reading(page)
    main(page).get_by_role("combobox", name="Dokument", exact=True).click()
    page.get_by_role("option", name=f"{SITE} – {NAME}", exact=True).click()
    expect(frame.locator('.turn[data-turn="1"] .text')).to_contain_text("Velkommen")
    wait_idle(page)
    expect(frame.locator('.turn[data-turn="1"] .text')).to_contain_text(SCRIPT)
    expect(frame.locator('.turn[data-turn="2"] .who')).to_contain_text("<b>fed</b>")
    expect(frame.locator("img, script:not([src]) >> text=alert")).to_have_count(0)
    _drag_over(page, frame, 2, PHRASE)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"»{PHRASE}«")
    box = dialog.get_by_role("combobox", name="Kode til markeringen", exact=True)
    box.click()
    label = page.get_by_role("option").first.inner_text()
    page.keyboard.press("Escape")
    _choose(page, dialog, "Kode til markeringen", label)
    dialog.get_by_role("button", name="Kod markeringen").click()
    expect(flash(page, r"^Kodet: ")).to_contain_text(PHRASE)
    wait_idle(page)
    store = open_store(str(demo_db))
    try:
        quotes = [v.quote for v in store.coding_views(status="all") if v.coder == coder]
    finally:
        store.close()
    assert quotes == [PHRASE]

    go_to(page, "Søg")
    panel = main(page)
    search = panel.get_by_role("textbox", name="Søg i alle transskriptioner")
    search.fill("kaffeklubben")
    act(page, lambda: search.press("Enter"))
    pick(page, "Dokument", NAME, scope=panel)
    hit = panel.get_by_test_id("stMarkdown").filter(has_text="🎉𝕏").first
    expect(hit).to_be_visible()
    marked = hit.locator("mark, strong, b").all_inner_texts()
    assert any(m.strip().lower() == "kaffeklubben" for m in marked), marked
    assert dialogs == []
