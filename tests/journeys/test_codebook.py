"""Journeys on the Kodebog page: merge two codes and see the counts move; add a code under a
parent and find it under that parent in the Kodning page's code picker.

The codes are the journeys' own (added through the library, removed from the codebook
afterwards), and their codings sit on sentences after the first page of turns of one
document, where no other journey looks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from evaltool import codebook
from evaltool.store import open_store
from tests.browser_util import act, choose_in_form, go_to, scroll_to
from tests.journeys.journey import TURNS_PER_PAGE, flash, main, open_document, start

pytestmark = pytest.mark.browser

DOCUMENT = "05_ringkoebing_skjern.txt"
MERGE_A = ("jr_flet_a", "Journeykode A")
MERGE_B = ("jr_flet_b", "Journeykode B")
PARENT = ("jr_foraelder", "Journeyforælder")
CHILD = ("jr_barn", "Journeybarn")


def _open(db: Path):
    return open_store(str(db))


def _own_code(store, key: str, label: str) -> None:
    """Add one of the journey's codes (on the codebook's first theme and goal)."""
    content = store.active_codebook()["content"]
    codebook.add_code(store, {"id": key, "label": label, "definition": "Journeyens egen kode.",
                              "cmo": "context", "column": content["columns"][0],
                              "themes": [content["themes"][0]["id"]],
                              "goals": [content["goals"][0]["id"]]}, coder="journey")


def _retire(db: Path, *keys: str) -> None:
    """Take the journey's codes out of the codebook again (their codings are kept)."""
    store = _open(db)
    try:
        live = {c.key for c in store.codes()}
        for key in keys:
            if key in live:
                codebook.retire_code(store, key, coder="journey")
    finally:
        store.close()


def _late_sentences(db: Path, n: int) -> list[int]:
    """``n`` sentences of DOCUMENT after its first page of turns, none coded yet."""
    store = _open(db)
    try:
        doc = store.get_document(DOCUMENT)
        coded = {v.segment_id for v in store.coding_views(status="all", document_id=doc.id)}
        free = [s.id for s in store.segments(doc.id) if s.turn > TURNS_PER_PAGE
                and s.id not in coded]
        assert len(free) >= n, f"{DOCUMENT} has too few uncoded sentences after page 1"
        return free[-n:]
    finally:
        store.close()


def _in_form(page: Page, scope: Locator, label: str, option: str) -> None:
    """Choose ``option`` in a selectbox inside a form (no script run until the form is sent)."""
    choose_in_form(page, scope, label, option)


def _code_row(page: Page, key: str) -> Locator:
    """A code's line on the Kodebog page (its expander's summary)."""
    return main(page).get_by_test_id("stExpander").filter(
        has=page.locator("summary", has_text=f" · {key} · "))


def _accepted(page: Page, key: str) -> int:
    """The 'N accepteret' count of a code on the Kodebog page."""
    text = _code_row(page, key).first.locator("summary").inner_text()
    return int(re.search(r"(\d+) accepteret", text).group(1))


def test_merge_two_codes_and_see_the_counts_move(page: Page, app_url: str,
                                                 demo_db: Path) -> None:
    """Two codes with codings (one sentence has both); merging A into B leaves B with every
    sentence once and A gone from the codebook."""
    s1, s2, s3 = _late_sentences(demo_db, 3)
    store = _open(demo_db)
    try:
        _own_code(store, *MERGE_A)
        _own_code(store, *MERGE_B)
        store.add_coding([s1, s2], MERGE_A[0], "journey")
        store.add_coding([s2, s3], MERGE_B[0], "journey")
    finally:
        store.close()
    try:
        start(page, f"{app_url}/kodebog", "Fletter Frida", heading="Kodebog")
        assert (_accepted(page, MERGE_A[0]), _accepted(page, MERGE_B[0])) == (2, 2)
        panel = main(page)
        panel.get_by_role("tab", name="Flet koder").click()  # a tab runs no script
        _in_form(page, panel, "Flet koden", MERGE_A[1])
        _in_form(page, panel, "ind i", MERGE_B[1])
        act(page, panel.get_by_role("button", name="Flet", exact=True).click)
        expect(flash(page, rf"^Flettet: »{MERGE_A[1]}« ind i »{MERGE_B[1]}«: 1 kodning "
                           r"flyttet, 1 lagt sammen")).to_be_visible()
        assert _accepted(page, MERGE_B[0]) == 3
        expect(_code_row(page, MERGE_A[0])).to_have_count(0)
        expect(panel.get_by_test_id("stExpander").filter(has_text="Ændringer").locator(
            "summary")).to_be_visible()
    finally:
        _retire(demo_db, MERGE_B[0], MERGE_A[0])


def test_add_a_code_under_a_parent_and_pick_it_on_kodning(page: Page, app_url: str,
                                                          demo_db: Path) -> None:
    """Add a code in the form (text typed without Enter), under the journey's parent code;
    the Kodning page's code picker lists it as 'Forælder › Barn' right after its parent."""
    store = _open(demo_db)
    try:
        _own_code(store, *PARENT)
        doc = store.get_document(DOCUMENT)
    finally:
        store.close()
    path = f"{PARENT[1]} › {CHILD[1]}"
    try:
        start(page, f"{app_url}/kodebog", "Kodebog Karl", heading="Kodebog")
        panel = main(page)
        form = panel.get_by_test_id("stForm").filter(
            has=page.get_by_role("button", name="Tilføj kode", exact=True))
        form.get_by_label("Id (fx mek_samtale)").fill(CHILD[0])
        form.get_by_label("Navn", exact=True).fill(CHILD[1])
        form.get_by_label("Definition", exact=True).fill("Journeyens barn.")
        _in_form(page, form, "Overordnet kode", PARENT[1])
        for group in ("Temaer", "Mål"):
            form.get_by_role("toolbar", name=group, exact=True).get_by_role("button").first.click()
        act(page, form.get_by_role("button", name="Tilføj kode", exact=True).click)
        expect(flash(page, rf"^Gemt: ny kode »{re.escape(path)}« \({CHILD[0]}\)")).to_be_visible()
        expect(_code_row(page, CHILD[0]).first).to_contain_text(path)

        go_to(page, "Kodning")
        open_document(page, DOCUMENT, doc.site or "")
        main(page).get_by_role("button", name="Tilføj kode til tur 1", exact=True).click()
        body = page.get_by_test_id("stPopoverBody").filter(
            has=page.get_by_role("combobox", name="Kode", exact=True)).last
        body.get_by_role("combobox", name="Kode", exact=True).click()
        child = page.get_by_role("option", name=path, exact=True)
        listbox = page.get_by_role("listbox").last
        scroll_to(page, listbox, child)
        expect(child).to_be_visible()
        shown = [t.strip() for t in listbox.get_by_role("option").all_inner_texts()]
        assert shown[shown.index(path) - 1] == PARENT[1]
    finally:
        _retire(demo_db, CHILD[0], PARENT[0])
