"""Screenshots of every page of the app, taken in Debian's Chromium at 1400×1000, and of
the report document's first theme chapter, rendered by LibreOffice.

Usage: ``.venv/bin/python scripts/screenshots.py [--out docs/screenshots]``

Builds a fresh demo database in a temp folder (never touches ``data/``), adds two
coders' blind decisions on one transcript so that the Enighed page has something to
show, serves the app with ``streamlit run app.py`` and saves one PNG per page.
Emoji in the UI need a colour emoji font (Debian: ``apt-get install fonts-noto-color-emoji``).
The report's page needs LibreOffice and Poppler (Debian: ``apt-get install
libreoffice-writer-nogui poppler-utils``): ``soffice --headless --convert-to pdf``, then
``pdftoppm`` of the first chapter's page.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a plain script: make `tests.browser_util` importable

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from evaltool.store import open_store  # noqa: E402
from tests.browser_util import (  # noqa: E402
    VIEWPORT,
    build_demo_db,
    choose_coder,
    count_runs,
    go_to,
    launch_chromium,
    open_app,
    pick,
    serve_app,
    wait_idle,
)

CODERS = ("Anna", "Bo")
DOUBLE_CODED = "02_morsoe.md"  # not the first transcript, which the Kodning screenshot shows
DECISIONS = 40
# Full-page shots grow the viewport to the page's height, up to this many pixels.
MAX_HEIGHT = 4000
SETTLE_MS = 1500


def add_double_coding(db: Path) -> None:
    """Assign one transcript blind to two coders, who decide its first suggestions a bit differently."""
    store = open_store(str(db))
    try:
        doc_id = store.get_document(DOUBLE_CODED).id
        store.assign(doc_id, list(CODERS))
        for n, coder in enumerate(CODERS):
            open_ = [v for v in store.coder_view(doc_id, coder) if v.status == "suggested"]
            for i, view in enumerate(open_[:DECISIONS]):
                # every 5th (Anna) or 4th (Bo) suggestion rejected: some agreement, some not
                action = "reject" if i % (5 - n) == 0 else "accept"
                store.decide_as(coder, view.id, action, expected_version=view.version)
    finally:
        store.close()


# Memos for the Memoer page (the demo has the gold codings' memos; these add the other kinds)
PROJECT_MEMO = "Før rapporten: sammenlign mekanismerne på tværs af de fem fokusgrupper."
DOCUMENT_MEMO = ("Læs interviewet igen med fokus på konteksten: hvem taler om kommunens "
                 "strategi?")


def add_memos(db: Path) -> None:
    """A project memo and a document memo by the first coder, for the Memoer page."""
    store = open_store(str(db))
    try:
        store.add_project_memo(CODERS[0], PROJECT_MEMO)
        store.add_document_memo(store.get_document(DOUBLE_CODED).id, CODERS[0], DOCUMENT_MEMO)
    finally:
        store.close()


def memo_page(page: Page, out: Path) -> None:
    """Memoer as a coder: the forms, the filters and the first memos."""
    go_to(page, "Memoer")
    page.get_by_text("memoer", exact=False).first.wait_for()
    shoot(page, out / "memoer.png", max_height=1600)


# A quote pinned "til rapporten" before the shots: the Temakapitel page and the report show it
PINNED_THEME = "T1"


def pin_a_quote(db: Path) -> None:
    """Pin the first site's second-strongest T1 quote as the first coder (as Temakapitel does)."""
    from evaltool import report

    store = open_store(str(db))
    try:
        section = report.build_report(store, themes=[PINNED_THEME]).chapters[0].sections[0]
        store.pin_quote(section.shown[1].coding_id, PINNED_THEME, CODERS[0])
    finally:
        store.close()


def chapter_page(page: Page, out: Path) -> None:
    """Temakapitel for T1: its counts, the first site's quotes (the pinned one first)."""
    go_to(page, "Temakapitel")
    page.get_by_test_id("stMain").get_by_text("Valgt til rapporten", exact=False).first.wait_for()
    shoot(page, out / "temakapitel.png", max_height=1900)


def dashboard_only(page: Page, url: str, out: Path) -> None:
    """Only the Dashboard screenshot (its theme cards link to their chapters)."""
    open_app(page, url, "Kodning")
    choose_coder(page, CODERS[0])
    go_to(page, "Dashboard")
    shoot(page, out / "dashboard.png")


def chapter_only(page: Page, url: str, out: Path) -> None:
    """Only the Temakapitel screenshot."""
    open_app(page, url, "Kodning")
    choose_coder(page, CODERS[0])
    chapter_page(page, out)


def report_page(db: Path, out: Path) -> None:
    """The report's first theme chapter as LibreOffice renders the .docx (page 2: the title
    page comes first)."""
    from evaltool import report

    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        print("skipped report.png: needs soffice and pdftoppm "
              "(apt-get install libreoffice-writer-nogui poppler-utils)")
        return
    store = open_store(str(db))
    try:
        docx = report.write_report(report.build_report(store), db.parent / "rapport.docx")
    finally:
        store.close()
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(db.parent),
                    str(docx)], check=True, capture_output=True, timeout=300)
    subprocess.run([pdftoppm, "-f", "2", "-l", "2", "-r", "90", "-png", "-singlefile",
                    str(docx.with_suffix(".pdf")), str(out / "report")], check=True, timeout=120)
    print(f"saved {(out / 'report.png').relative_to(REPO) if out.is_relative_to(REPO) else out}")


def shoot(page: Page, path: Path, *, full: bool = True, max_height: int = MAX_HEIGHT) -> None:
    """Save a PNG of the page; ``full`` grows the viewport to the scrolled content first."""
    wait_idle(page)
    # widgets are drawn a moment after the script run ends; before that they are grey boxes
    page.wait_for_timeout(SETTLE_MS)
    if full:
        height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
        page.set_viewport_size({"width": VIEWPORT["width"],
                                "height": max(VIEWPORT["height"], min(height, max_height))})
        wait_idle(page)
        page.wait_for_timeout(SETTLE_MS)  # charts re-render for the new size
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)
    print(f"saved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def evaluator_pages(page: Page, url: str, out: Path) -> None:
    """Kodning (document, queue, reading view), Import, Dashboard, Enighed, Kodebog, Eksport,
    Memoer as a coder."""
    open_app(page, url, "Kodning")
    choose_coder(page, CODERS[0])
    views = page.get_by_role("radiogroup", name="Visning")
    views.get_by_role("radio", name="Dokument").wait_for()
    # only coded sentences: the transcript opens with the moderator's uncoded welcome
    page.get_by_text("Kun kodede sætninger").click()
    wait_idle(page)
    shoot(page, out / "kodning.png", max_height=2000)
    views.get_by_role("radio", name="Næste usikre").click()
    page.get_by_test_id("stMain").get_by_text("forslag tilbage").wait_for()
    shoot(page, out / "naeste-usikre.png", full=False)
    views.get_by_role("radio", name="Læsevisning").click()
    reading = page.frame_locator("iframe[title$='evaltool_reading']")
    chip = reading.locator(".chip.suggested").first  # a suggestion: confidence and why
    chip.wait_for()
    chip.click()  # its confidence, source and why show under the turn and in the sidebar
    page.get_by_test_id("stSidebar").get_by_role("button", name="Afvis").wait_for()
    shoot(page, out / "laesevisning.png", full=False)
    go_to(page, "Import")
    shoot(page, out / "import.png", full=False)
    go_to(page, "Dashboard")
    shoot(page, out / "dashboard.png")
    chapter_page(page, out)
    go_to(page, "Enighed")
    page.get_by_text("Uenigheder").wait_for()
    shoot(page, out / "enighed.png", full=False)
    codebook_page(page, out)
    go_to(page, "Eksport")
    page.get_by_text(re.compile(r"^[\d.]+ rækker$")).wait_for()
    shoot(page, out / "eksport.png", full=False)
    memo_page(page, out)
    search_page(page, out)
    matrix_page(page, out)


def search_page(page: Page, out: Path) -> None:
    """Søg: a lemma search across the transcripts with its hits in context."""
    go_to(page, "Søg")
    main = page.get_by_test_id("stMain")
    box = main.get_by_role("textbox", name="Søg i alle transskriptioner")
    box.fill("samskabe")
    box.press("Enter")
    main.get_by_text(re.compile(r" · tur \d+ · ")).first.wait_for()  # a hit's place
    shoot(page, out / "soeg.png", max_height=1800)


def matrix_page(page: Page, out: Path) -> None:
    """Matricer: codes × site, with the quotes of one cell."""
    go_to(page, "Matricer")
    main = page.get_by_test_id("stMain")
    main.get_by_role("combobox", name="Kolonner", exact=True).click()
    page.get_by_role("option", name="Sted", exact=True).click()
    wait_idle(page)
    main.get_by_test_id("stDataFrame").first.wait_for()
    shoot(page, out / "matricer.png", max_height=2400)


def codebook_page(page: Page, out: Path) -> None:
    """Kodebog: the merge form filled in, and a sub-code opened under its parent."""
    go_to(page, "Kodebog")
    main = page.get_by_test_id("stMain")
    main.get_by_role("tab", name="Flet koder").click()
    for label, option in (("Flet koden", "Målgruppens livssituation › Unge uden for uddannelse"),
                          ("ind i", "Målgruppens livssituation")):
        main.get_by_role("combobox", name=label, exact=True).click()
        page.get_by_role("option", name=option, exact=True).click()
    # open a sub-code so its definition, criteria and examples show
    main.get_by_test_id("stExpander").filter(has_text="› ").first.click()
    page.get_by_role("heading", name="Kodebog", exact=True).scroll_into_view_if_needed()
    shoot(page, out / "kodebog.png", max_height=2400)


def codebook_only(page: Page, url: str, out: Path) -> None:
    """Only the Kodebog screenshot."""
    open_app(page, url, "Kodning")
    choose_coder(page, CODERS[0])
    codebook_page(page, out)


def attribute_page(page: Page, url: str, out: Path) -> None:
    """Attributter: a Morsø speaker with a target group of their own (set first in the store)."""
    count_runs(page.context)  # pick() waits for the script run it causes
    open_app(page, url, "Kodning")
    choose_coder(page, CODERS[0])
    go_to(page, "Attributter")
    main = page.get_by_test_id("stMain")
    pick(page, "Dokument", "Morsø – 02_morsoe.md", scope=main)
    pick(page, "Taler", "Inge", scope=main)
    shoot(page, out / "attributter.png", max_height=1800)


def set_speaker_group(db: Path) -> None:
    """Give one Morsø speaker a target group and an age band of their own."""
    store = open_store(str(db))
    try:
        doc_id = store.get_document("02_morsoe.md").id
        store.set_attributes(doc_id, {"target_group": "Senioren", "age_band": "65+"},
                             speaker="Inge", actor=CODERS[0])
    finally:
        store.close()


def lead_pages(page: Page, url: str, out: Path) -> None:
    """The Dashboard in the read-only project-lead mode (EVALTOOL_MODE=lead)."""
    open_app(page, url, "Dashboard")
    shoot(page, out / "dashboard-projektleder.png", full=False)


def main() -> None:
    """Build the database, serve the app twice (coder, lead) and save the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--only", choices=["attributter", "kodebog", "dashboard", "temakapitel",
                                           "rapport"],
                        help="Take only this page's screenshot.")
    parser.add_argument("--demo", type=Path,
                        help="Copy this demo database (built earlier) instead of building one.")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="evaltool-shots-") as tmp:
        db = (Path(shutil.copy(args.demo, Path(tmp) / "demo.db")) if args.demo
              else build_demo_db(Path(tmp) / "demo.db"))
        add_double_coding(db)
        add_memos(db)
        set_speaker_group(db)
        pin_a_quote(db)
        if args.only in (None, "rapport"):
            report_page(db, out)
        if args.only == "rapport":
            return
        only = {"attributter": attribute_page, "kodebog": codebook_only,
                "dashboard": dashboard_only, "temakapitel": chapter_only}
        runs = ([(None, only[args.only])] if args.only else
                [(None, evaluator_pages), (None, attribute_page), ("lead", lead_pages)])
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                for mode, shots in runs:
                    with serve_app(db, mode=mode) as url:
                        page = browser.new_page(viewport=VIEWPORT)
                        shots(page, url, out)
                        page.close()
            finally:
                browser.close()


if __name__ == "__main__":
    main()
