"""Journeys in Kodning's reading view: a screenful of transcript, and coding a phrase
selected with the mouse (seen highlighted, still there after a reload, exported as is)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, expect

from evaltool.store import open_store
from tests.browser_util import choose_in_form, go_to, pick, wait_idle
from tests.journeys.journey import flash, main, start

pytestmark = pytest.mark.browser

DOCUMENT = "01_broenderslev.txt"  # the first document: the view opens on it
SCREEN = {"width": 1440, "height": 900}
READING = "Læsevisning"
FRAME = "iframe[title$='evaltool_reading']"
FIRST_TURN = 14  # past the first page of turns, where the other journeys pick their targets

# The document range of the first occurrence of `phrase` in turn `n`, as client
# coordinates (inside the component's frame) of its first and last characters.
PHRASE_BOX = """(_, [n, phrase]) => {
  const row = document.querySelector(`.turn[data-turn="${n}"] .text`);
  const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let whole = "";
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    nodes.push([t, whole.length]);
    whole += t.data;
  }
  const at = whole.indexOf(phrase);
  if (at < 0) return null;
  const place = (i, end) => {
    for (const [t, s] of nodes) {
      if (i < s + t.data.length || (end && i === s + t.data.length)) return [t, i - s];
    }
  };
  const range = document.createRange();
  range.setStart(...place(at, false));
  range.setEnd(...place(at + phrase.length, true));
  const rects = range.getClientRects();
  const a = rects[0], b = rects[rects.length - 1];
  return {x1: a.left + 1, y1: a.top + a.height / 2, x2: b.right - 1, y2: b.top + b.height / 2};
}"""

# How many turns lie wholly inside the browser's viewport (the frame is as tall as the
# transcript, so the page's scrolling decides what is on screen).
TURNS_ON_SCREEN = """(_, frameTop) => {
  const height = window.parent.innerHeight;
  return [...document.querySelectorAll(".turn")].filter((t) => {
    const r = t.getBoundingClientRect();
    return frameTop + r.top >= 0 && frameTop + r.bottom <= height;
  }).length;
}"""


@dataclass(frozen=True)
class Plan:
    """The phrase the journey codes (a part of one sentence) and the code it gives it."""

    site: str
    turn: int
    phrase: str
    code_key: str
    label: str


def _plan(db: Path) -> Plan:
    """Four words from the middle of a sentence, unique in DOCUMENT, in a turn past the
    first page, and a code the sentence does not have."""
    store = open_store(str(db))
    try:
        doc = store.get_document(DOCUMENT)
        text = store.document_text(doc.id)
        coded = {(v.segment_id, v.code_key) for v in store.coding_views(status="all",
                                                                        document_id=doc.id)}
        codes = store.codes()
        for s in store.segments(doc.id):
            words = s.text.split()
            if s.turn < FIRST_TURN or len(words) < 9:
                continue
            phrase = " ".join(words[2:6]).strip(",.;:!?")
            if text.count(phrase) != 1:
                continue
            # a top-level code: the dialog's picker names it by its label alone
            code = next(c for c in codes if c.parent is None and (s.id, c.key) not in coded)
            return Plan(doc.site or "", s.turn, phrase, code.key, code.label)
        raise AssertionError(f"no sentence in {DOCUMENT} to take a phrase from")
    finally:
        store.close()


def _open_reading(page: Page) -> FrameLocator:
    """The reading view of the first document, drawn; returns the component's frame (waits
    for the transcript itself rather than counting script runs, which a loaded machine can
    make too quick to see)."""
    option = page.get_by_role("radiogroup", name="Visning").get_by_role(
        "radio", name=READING, exact=True)
    if option.get_attribute("aria-checked") != "true":
        option.click()
    expect(option).to_have_attribute("aria-checked", "true")
    frame = page.frame_locator(FRAME)
    expect(frame.locator(".turn").first).to_be_visible()
    wait_idle(page)
    return frame


def _drag_over(page: Page, frame: FrameLocator, turn: int, phrase: str) -> None:
    """Select ``phrase`` in ``turn`` with the mouse (press, move, release), as a coder does
    (the caller waits for the dialog it opens)."""
    frame.locator(f'.turn[data-turn="{turn}"]').scroll_into_view_if_needed()
    box = page.locator(FRAME).bounding_box()
    spot = frame.locator("body").evaluate(PHRASE_BOX, [turn, phrase])
    assert box and spot, f"turn {turn} does not show the phrase"

    page.mouse.move(box["x"] + spot["x1"], box["y"] + spot["y1"])
    page.mouse.down()
    page.mouse.move(box["x"] + spot["x2"], box["y"] + spot["y2"], steps=6)
    page.mouse.up()


def _choose(page: Page, scope: Locator, label: str, option: str) -> None:
    """Choose ``option`` in a selectbox of the dialog and see it chosen (the dialog's rerun
    is too short for browser_util.act to be sure to see it start)."""
    choose_in_form(page, scope, label, option)
    wait_idle(page)


def _highlighted(frame: FrameLocator, turn: int, coding_id: int) -> Locator:
    """The runs of ``turn`` that carry the coding ``coding_id``."""
    return frame.locator(f'.turn[data-turn="{turn}"] span.run.coded').filter(
        has=frame.locator("xpath=self::*[contains(concat(',', @data-ids, ','), "
                          f"',{coding_id},')]"))


def _span_codings(db: Path, coder: str) -> list:
    store = open_store(str(db))
    try:
        return [v for v in store.coding_views(status="all") if v.coder == coder and v.is_span]
    finally:
        store.close()


def test_code_a_selected_phrase(page: Page, app_url: str, demo_db: Path, tmp_path: Path) -> None:
    """A coder drags over four words, codes them in the dialog, sees them highlighted in
    the code's colour, still after a reload, and Eksport gives exactly those words."""
    plan = _plan(demo_db)
    coder = "Læser Lise"
    start(page, app_url, coder)
    frame = _open_reading(page)
    _drag_over(page, frame, plan.turn, plan.phrase)

    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"»{plan.phrase}«")
    _choose(page, dialog, "Kode til markeringen", plan.label)
    dialog.get_by_label("Memo").fill("fire ord")
    dialog.get_by_role("button", name="Kod markeringen").click()
    expect(flash(page, r"^Kodet: ")).to_contain_text(plan.phrase)
    expect(dialog).to_have_count(0)
    wait_idle(page)

    [coded] = _span_codings(demo_db, coder)
    assert (coded.quote, coded.code_key, coded.memo) == (plan.phrase, plan.code_key, "fire ord")
    runs = _highlighted(frame, plan.turn, coded.id)
    expect(runs.first).to_be_visible()
    assert "".join(runs.all_inner_texts()) == plan.phrase
    chip = frame.locator(f'.turn[data-turn="{plan.turn}"] .chip').filter(has=frame.locator(
        f"xpath=self::*[contains(concat(',', @data-ids, ','), ',{coded.id},')]"))
    expect(chip).to_contain_text(plan.label)

    page.reload()  # a new session: choose the coder and the view again
    start(page, app_url, coder)
    frame = _open_reading(page)
    runs = _highlighted(frame, plan.turn, coded.id)
    expect(runs.first).to_be_attached()
    assert "".join(runs.all_inner_texts()) == plan.phrase

    go_to(page, "Eksport")
    panel = main(page)
    pick(page, "Sted", plan.site, scope=panel)
    pick(page, "Kode", plan.label, scope=panel)
    with page.expect_download() as info:
        panel.get_by_role("button", name="Hent CSV (UTF-8)").click()
    saved = tmp_path / "export.csv"
    info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    mine = [r for r in rows if r["coder"] == coder]
    assert [r["text"] for r in mine] == [plan.phrase]
    assert (int(mine[0]["start_char"]), int(mine[0]["end_char"])) == (coded.start, coded.end)


def test_a_screen_holds_eight_turns(page: Page, app_url: str) -> None:
    """At 1440×900, a screenful of the reading view shows at least eight whole turns of a
    demo focus group (counted at the top of the page and with the text scrolled up)."""
    page.set_viewport_size(SCREEN)
    start(page, app_url, "Læser Lars")
    frame = _open_reading(page)
    body = frame.locator("body")
    frame_top = page.locator(FRAME).bounding_box()["y"]
    at_top = body.evaluate(TURNS_ON_SCREEN, frame_top)
    page.locator(FRAME).evaluate("(f) => f.scrollIntoView({block: 'start'})")
    scrolled = body.evaluate(TURNS_ON_SCREEN, page.locator(FRAME).bounding_box()["y"])
    print(f"turns wholly on a 1440x900 screen: {at_top} at the top of the page, "
          f"{scrolled} with the text scrolled up")
    assert scrolled >= 8, (at_top, scrolled)
    assert re.search(r"\d", frame.locator(".turn .time").first.inner_text())


# Select the `length` characters at `at` in turn `n`'s text with a DOM Range (as a
# keyboard selection would) and release the mouse, which is when the component reads it.
SELECT_RANGE = """(_, [n, at, length]) => {
  const row = document.querySelector(`.turn[data-turn="${n}"] .text`);
  const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let seen = 0;
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    if (at >= seen && at <= seen + t.data.length) {
      range.setStart(t, at - seen);
      range.setEnd(t, at - seen + length);
      break;
    }
    seen += t.data.length;
  }
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  document.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
}"""


def test_selections_over_two_turns_or_from_the_margin_and_of_spaces(
        page: Page, app_url: str, demo_db: Path) -> None:
    """A drag from one turn into the next offers only the first turn's words; one from the
    margin into a turn offers the words from its start; a selection of nothing but a space
    is refused with a Danish message; nothing is stored."""
    store = open_store(str(demo_db))
    try:
        doc = store.get_document(DOCUMENT)
        turns = [t for t in store.turns(doc.id) if t.number >= FIRST_TURN]
        first, second = next((a, b) for a, b in pairwise(turns)
                             if len(a.text.split()) > 12 and len(b.text.split()) > 6)
        before = len(store.coding_views(status="all"))
    finally:
        store.close()
    words = first.text.split()
    begin = " ".join(words[-8:-5])  # three words near the end of the first turn
    into = " ".join(second.text.split()[1:3])  # two words at the start of the next one
    start(page, app_url, "Læser Lone")
    frame = _open_reading(page)
    frame.locator(f'.turn[data-turn="{second.number}"]').scroll_into_view_if_needed()
    box = page.locator(FRAME).bounding_box()
    a = frame.locator("body").evaluate(PHRASE_BOX, [first.number, begin])
    b = frame.locator("body").evaluate(PHRASE_BOX, [second.number, into])

    page.mouse.move(box["x"] + a["x1"], box["y"] + a["y1"])
    page.mouse.down()
    page.mouse.move(box["x"] + b["x2"], box["y"] + b["y2"], steps=8)
    page.mouse.up()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"kun tur {first.number} er med")
    quote = first.text[first.text.rindex(begin):].rstrip()
    expect(dialog).to_contain_text(f"»{quote}«")
    dialog.get_by_role("button", name="Annullér").click()
    expect(dialog).to_have_count(0)
    wait_idle(page)

    # from the speaker's name in the margin into the turn: the words from the turn's start
    who = frame.locator(f'.turn[data-turn="{second.number}"] .margin .who').bounding_box()
    box = page.locator(FRAME).bounding_box()
    b = frame.locator("body").evaluate(PHRASE_BOX, [second.number, into])
    page.mouse.move(who["x"] + 2, who["y"] + who["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + b["x2"], box["y"] + b["y2"], steps=8)
    page.mouse.up()
    head = second.text[:second.text.index(into) + len(into)].strip()
    expect(dialog).to_contain_text(f"»{head}«")
    expect(dialog).not_to_contain_text("kun tur")
    dialog.get_by_role("button", name="Annullér").click()
    expect(dialog).to_have_count(0)
    wait_idle(page)

    space = first.text.index(" ")
    frame.locator("body").evaluate(SELECT_RANGE, [first.number, space, 1])
    expect(flash(page, "ingen ord")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    store = open_store(str(demo_db))
    try:
        assert len(store.coding_views(status="all")) == before
    finally:
        store.close()


def test_decide_a_suggestion_by_key_and_undo(page: Page, app_url: str, demo_db: Path) -> None:
    """A coder clicks a suggested code beside a turn, reads it under the turn and in the
    sidebar, accepts it with the key A in the text and undoes that with Z."""
    coder = "Læser Lea"
    start(page, app_url, coder)
    frame = _open_reading(page)
    chips = frame.locator(".turn .chip.suggested")
    expect(chips.first).to_be_attached()
    place = chips.evaluate_all(
        f"(cs) => cs.findIndex((c) => Number(c.closest('.turn').dataset.turn) >= {FIRST_TURN})")
    chip = chips.nth(place)
    coding_id = int(chip.get_attribute("data-ids").split(",")[0])
    chip.scroll_into_view_if_needed()
    chip.click()
    side = page.get_by_test_id("stSidebar")
    expect(side.get_by_role("button", name="Accepter")).to_be_enabled()
    expect(side).to_contain_text("Forslag")
    bar = frame.locator(".toolbar")  # the same, under the turn
    expect(bar).to_contain_text("Forslag")
    expect(bar.get_by_role("button", name="Accepter (A)")).to_be_enabled()

    frame.locator("body").press("a")
    expect(flash(page, r"^Accepteret: ")).to_be_visible()
    wait_idle(page)
    assert _status(demo_db, coding_id) == ("accepted", coder)
    expect(bar.get_by_role("button", name="Accepter (A)")).to_be_disabled()
    frame.locator("body").press("z")
    expect(flash(page, r"^Fortrudt: ")).to_be_visible()
    assert _status(demo_db, coding_id)[0] == "suggested"


def _status(db: Path, coding_id: int) -> tuple[str, str | None]:
    store = open_store(str(db))
    try:
        [view] = [v for v in store.coding_views(status="all") if v.id == coding_id]
        return view.status, view.coder
    finally:
        store.close()
