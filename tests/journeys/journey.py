"""Steps the journeys share: who is coding, where on the Kodning page, what the pages show.

Targets (which suggestion to decide) are picked from the database, so that each journey
works on its own document and knows what the page should then show; every assertion is
on what the page shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from evaltool.store import open_store
from tests.browser_util import (
    LOAD_TIMEOUT_MS,
    act,
    alerts,
    choose_coder,
    danish_int,
    go_to,
    metric,
    open_app,
    pick,
    wait_idle,
)

# The Kodning page's document view shows this many turns per page (see ui/pages/coding.py).
TURNS_PER_PAGE = 12
STATUS = {"suggested": "Forslag", "accepted": "Accepteret", "rejected": "Afvist"}
CMO = {"context": "Kontekst", "mechanism": "Mekanisme", "outcome": "Udfald"}


@dataclass(frozen=True)
class Target:
    """A suggestion a journey decides, with what identifies it on the page."""

    coding_id: int
    document: str
    site: str
    sentence: str
    code_key: str
    label: str
    themes: tuple[str, ...]


def find_suggestion(db: Path, document: str, *, skip: int = 0, lonely: bool = True) -> Target:
    """A suggestion on the first page of ``document``'s turns, on a sentence that has no other
    coding (``lonely``) and no twin sentence, whose code belongs to exactly one theme.

    ``skip`` takes a later one, so that two journeys on one document pick different sentences.
    """
    store = open_store(str(db))
    try:
        doc = store.get_document(document)
        codes = {c.key: c for c in store.codes()}
        segments = [s for s in store.segments(doc.id) if s.turn <= TURNS_PER_PAGE]
        texts = [s.text for s in segments]
        views = store.coding_views(status="all", document_id=doc.id)
        per_segment: dict[int, list] = {}
        for v in views:
            per_segment.setdefault(v.segment_id, []).append(v)
        found = []
        for s in segments:
            mine = per_segment.get(s.id, [])
            if not mine or (lonely and len(mine) > 1) or texts.count(s.text) > 1:
                continue
            for v in mine:
                if v.status == "suggested" and len(codes[v.code_key].themes) == 1:
                    found.append(Target(v.id, doc.name, doc.site or "", s.text, v.code_key,
                                        codes[v.code_key].label, tuple(codes[v.code_key].themes)))
        if len(found) <= skip:
            raise AssertionError(f"the demo database has no suggestion #{skip} to decide in "
                                 f"{document}")
        return found[skip]
    finally:
        store.close()


def start(page: Page, url: str, coder: str | None = None, heading: str = "Kodning") -> None:
    """Open the app (as ``coder`` when given)."""
    open_app(page, url, heading)
    if coder:
        choose_coder(page, coder)


def main(page: Page) -> Locator:
    """The page's main area (not the sidebar)."""
    return page.get_by_test_id("stMain")


def show_view(page: Page, name: str) -> None:
    """Choose the Kodning page's view, 'Dokument' or 'Næste usikre' (only it is drawn)."""
    option = page.get_by_role("radiogroup", name="Visning").get_by_role(
        "radio", name=name, exact=True)
    if option.get_attribute("aria-checked") != "true":
        act(page, option.click)
    expect(option).to_have_attribute("aria-checked", "true")


def toggle_pill(page: Page, group: str, option: str, scope: Locator | None = None) -> None:
    """Switch one option of a pills filter (e.g. Status: Forslag) on or off."""
    act(page, (scope or page).get_by_role("toolbar", name=group, exact=True).get_by_role(
        "button", name=option, exact=True).click)


def open_document(page: Page, document: str, site: str) -> None:
    """On the Kodning page's Dokument view, show ``document``."""
    show_view(page, "Dokument")
    panel = main(page)
    box = panel.get_by_role("combobox", name="Dokument", exact=True)
    if box.input_value() != f"{site} – {document}":
        pick(page, "Dokument", f"{site} – {document}", scope=panel)
    expect(panel.get_by_text(re.compile(r"kodninger vist"))).to_be_visible()
    wait_idle(page)


def sentence_box(page: Page, sentence: str) -> Locator:
    """The bordered box of one sentence on the Dokument tab (its codings and their buttons)."""
    return page.get_by_test_id("stVerticalBlock").filter(
        has=page.get_by_text(sentence, exact=True)).filter(
        has=page.get_by_role("button", name="Accepter", exact=True)).last


def coding_row(page: Page, target: Target) -> Locator:
    """The row of ``target``'s coding (its label, status, buttons) in its sentence's box."""
    return sentence_box(page, target.sentence).get_by_test_id("stHorizontalBlock").filter(
        has_text=target.label).filter(has=page.get_by_role("button", name="Accepter", exact=True))


def row_text(row: Locator) -> str:
    """The status line of a coding row (label · CMO · status · confidence · source · coder)."""
    return row.get_by_test_id("stMarkdownContainer").first.inner_text()


def flash(page: Page, pattern: str) -> Locator:
    """The message box whose text matches ``pattern`` (a regular expression)."""
    return alerts(page).filter(has_text=re.compile(pattern))


def theme_quotes(page: Page, theme: str) -> int:
    """The 'Citater' figure of one theme's card on the Dashboard."""
    card = page.get_by_test_id("stVerticalBlock").filter(
        has=page.get_by_role("heading", name=re.compile(rf"^{re.escape(theme)} ·"))).filter(
        has=page.get_by_test_id("stMetric")).last
    return metric(card, "Citater")


def export_rows(page: Page) -> int:
    """The Eksport page's row count ('N rækker')."""
    caption = page.get_by_text(re.compile(r"^[\d.]+ rækker$"))
    caption.wait_for(timeout=LOAD_TIMEOUT_MS)
    return danish_int(caption.inner_text())


def queue_left(page: Page) -> int:
    """The 'Næste usikre' view's count of suggestions left (once the page has settled: the
    message of a decision is drawn before the count below it)."""
    wait_idle(page)
    caption = main(page).get_by_text(
        re.compile(r"forslag tilbage"))
    caption.wait_for(timeout=LOAD_TIMEOUT_MS)
    return danish_int(caption.inner_text())


# --- documents of the journeys' own (the fixture transcript under other sites' names) ---

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "journey_toender.txt"
# A sentence of the fixture the auto-coder suggests 'Nye brugere og målgrupper nået' (T1) for.
NEW_USERS = "Der kom nye brugere, som aldrig havde haft et lånerkort."
NEW_USERS_LABEL = "Nye brugere og målgrupper nået"
# Another, suggested 'Landdistrikt og affolkning' (T1).
VILLAGE = "Vi har mistet både skolen og købmanden i landsbyen."
VILLAGE_LABEL = "Landdistrikt og affolkning"


def transcript(folder: Path, site: str, name: str, edit: tuple[str, str] | None = None) -> Path:
    """The fixture transcript as another site's file (its own content), optionally edited."""
    text = FIXTURE.read_text(encoding="utf-8").replace("Tønder", site)
    if edit:
        assert edit[0] in text
        text = text.replace(*edit)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def upload(page: Page, path: Path, *, replace: bool = False) -> None:
    """On the Import page, upload one file (auto-coding on) and wait for the result."""
    go_to(page, "Import")
    # the transcripts' uploader (the page also has one for REFI-QDA projects)
    uploader = page.get_by_test_id("stFileUploader").filter(has=page.get_by_role(
        "region", name="Vælg filer", exact=True))
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    expect(uploader.get_by_text(path.name)).to_be_visible()
    if replace:
        page.get_by_text("Importér igen", exact=False).click()
    act(page, page.get_by_role("button", name="Importér", exact=True).click, timeout=180_000)


def accept(page: Page, sentence: str, label: str) -> None:
    """Accept the suggestion ``label`` on ``sentence`` (Dokument view) and see it accepted."""
    box = sentence_box(page, sentence)
    row = box.get_by_test_id("stHorizontalBlock").filter(has_text=label).filter(
        has=page.get_by_role("button", name="Accepter", exact=True))
    expect(row).to_contain_text(STATUS["suggested"])
    act(page, row.get_by_role("button", name="Accepter").click)
    expect(sentence_box(page, sentence).get_by_test_id("stHorizontalBlock").filter(
        has_text=label)).to_contain_text(STATUS["accepted"])
