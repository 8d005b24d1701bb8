"""Journeys on the Søg page: find a word in every transcript, code two hits, see them coded;
narrow the hits to what speakers with one attribute value said."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from evaltool import attributes
from evaltool.store import open_store
from evaltool.ui.codes import code_labels
from tests.browser_util import act, go_to, pick
from tests.journeys.journey import TURNS_PER_PAGE, flash, main, open_document, sentence_box, start

pytestmark = pytest.mark.browser

DOCUMENT = "01_broenderslev.txt"
WORDS = ("kaffe", "frivillig", "borger", "kommune", "bibliotek", "hjælpe", "tid")


@dataclass(frozen=True)
class Plan:
    """What the journey searches, which two hits (1-based places in the list) it codes, how."""

    word: str
    site: str
    places: tuple[int, int]
    sentences: tuple[str, str]
    code_key: str
    option: str  # the code as the Søg page's selectbox shows it
    label: str


def _plan(db: Path) -> Plan:
    """A word with two hits in the first page of turns of DOCUMENT, on unique sentences that
    do not have the code yet."""
    store = open_store(str(db))
    try:
        doc = store.get_document(DOCUMENT)
        segments = store.segments(doc.id)
        text_of = {s.id: s.text for s in segments}
        texts = [s.text for s in segments]
        codes = store.codes()
        paths = code_labels(codes)  # the Søg page names a code by its path in the hierarchy
        coded = {(v.segment_id, v.code_key) for v in store.coding_views(status="all",
                                                                        document_id=doc.id)}
        for word in WORDS:
            hits = store.search(word, lemma=True, documents=[doc.id], limit=100)
            for code in codes:
                good = [(n, h) for n, h in enumerate(hits, 1)
                        if h.turn <= TURNS_PER_PAGE and (h.segment_id, code.key) not in coded
                        and texts.count(text_of[h.segment_id]) == 1]
                if len(good) >= 2:
                    (n1, h1), (n2, h2) = good[:2]
                    return Plan(word, doc.site or "", (n1, n2),
                                (text_of[h1.segment_id], text_of[h2.segment_id]),
                                code.key, f"{code.key} – {paths[code.key]}", code.label)
        raise AssertionError(f"no word of {WORDS} has two codable hits in {DOCUMENT}")
    finally:
        store.close()


def test_search_and_code_two_hits(page: Page, app_url: str, demo_db: Path) -> None:
    """A coder searches a word, sees the hits in context, codes two of them, and finds them
    coded on the Kodning page."""
    plan = _plan(demo_db)
    coder = "Søger Signe"
    start(page, app_url, coder)
    go_to(page, "Søg")
    panel = main(page)
    box = panel.get_by_role("textbox", name="Søg i alle transskriptioner")
    box.fill(plan.word)
    act(page, lambda: box.press("Enter"))
    pick(page, "Dokument", DOCUMENT, scope=panel)
    expect(panel.get_by_text(plan.sentences[0].split()[0], exact=False).first).to_be_visible()

    for n in plan.places:
        box = panel.get_by_test_id("stCheckbox").filter(
            has=page.get_by_role("checkbox", name=f"Vælg hit {n}", exact=True))
        act(page, box.click)
        expect(box.get_by_role("checkbox")).to_be_checked()
    pick(page, "Kode til de valgte hits", plan.option, scope=panel)
    act(page, panel.get_by_role("button", name="Kod valgte hits").click)
    expect(flash(page, r"^Kodet: 2 sætninger")).to_be_visible()

    store = open_store(str(demo_db))
    try:
        mine = {v.text for v in store.coding_views(status="accepted")
                if v.coder == coder and v.code_key == plan.code_key}
    finally:
        store.close()
    assert mine == set(plan.sentences)

    go_to(page, "Kodning")
    open_document(page, DOCUMENT, plan.site)
    for sentence in plan.sentences:
        expect(sentence_box(page, sentence)).to_contain_text(plan.label)


ATTRIBUTE_WORD = "kaffe"


def _role_plan(db: Path) -> tuple[int, str, list, list]:
    """All hits of ATTRIBUTE_WORD, a speaker role whose speakers said some but not all of
    them, and the hits with and without that role filter (as the page shows them)."""
    store = open_store(str(db))
    try:
        every = store.search(ATTRIBUTE_WORD, lemma=True, limit=100)
        roles = sorted({s.role for s in store.speaker_facets() if s.role})
        for role in roles:
            scope = attributes.scope(store, filters=[attributes.AttributeFilter(
                "speaker", "role", role)])
            some = store.search(ATTRIBUTE_WORD, lemma=True, scope=scope, limit=100)
            if 1 < len(some) < len(every) < 100:
                return len(every), role, every, some
        raise AssertionError(f"no role narrows the hits of {ATTRIBUTE_WORD!r}")
    finally:
        store.close()


def _caption(hit) -> str:
    return f"{hit.document} · tur {hit.turn} · {hit.speaker}"


def test_attribute_filter_narrows_the_hits(page: Page, app_url: str, demo_db: Path) -> None:
    """A coder searches a word, then keeps only what speakers of one role said: the hit
    count drops to theirs and the other speakers' hits are gone."""
    total, role, every, some = _role_plan(demo_db)
    start(page, app_url, "Søger Sofie")
    go_to(page, "Søg")
    panel = main(page)
    box = panel.get_by_role("textbox", name="Søg i alle transskriptioner")
    box.fill(ATTRIBUTE_WORD)
    act(page, lambda: box.press("Enter"))
    expect(panel.get_by_text(f"{total} hits", exact=True)).to_be_visible()

    pick(page, "Attribut", "Taler · Rolle (role)", scope=panel)
    pick(page, "Værdi", role, scope=panel)
    expect(panel.get_by_text(f"{len(some)} hits", exact=True)).to_be_visible()
    kept = {_caption(h) for h in some}
    gone = next(h for h in every if _caption(h) not in kept)
    expect(panel.get_by_text(_caption(some[0]), exact=False).first).to_be_visible()
    expect(panel.get_by_text(_caption(gone), exact=False)).to_have_count(0)
