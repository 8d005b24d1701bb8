"""Journey on the Attributter page: a speaker's target group typed in the app becomes a
choice of the Dashboard's Målgruppe filter, and the counts under it are that speaker's."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from evaltool.store import open_store
from tests.browser_util import act, go_to, pick
from tests.journeys.journey import flash, main, start, theme_quotes

pytestmark = pytest.mark.browser

DOCUMENT, SITE = "02_morsoe.md", "Morsø"
GROUP = "Journeymålgruppen"  # a target group no document or speaker has


def _speaker_quotes(db: Path) -> tuple[str, dict[str, int], list[str]]:
    """The non-moderator speaker of the document with the fewest accepted quotes (at least
    one), those quotes per theme (distinct sentences), and the codebook's themes."""
    store = open_store(str(db))
    try:
        doc = store.get_document(DOCUMENT)
        per: dict[str, dict[str, set[int]]] = {}
        for v in store.coding_views(status="accepted", document_id=doc.id):
            for theme in v.themes:
                per.setdefault(v.speaker, {}).setdefault(theme, set()).add(v.segment_id)
        moderators = {s.name for s in store.speaker_facets(doc.id) if s.is_moderator}
        name = min((n for n in per if n not in moderators),
                   key=lambda n: (len(set().union(*per[n].values())), n))
        themes = [t["id"] for t in store.active_codebook()["content"]["themes"]]
        return name, {t: len(per[name].get(t, ())) for t in themes}, themes
    finally:
        store.close()


def test_speaker_target_group_reaches_the_dashboard(page: Page, app_url: str,
                                                    demo_db: Path) -> None:
    """Type a speaker's target group (no Enter), save, and filter the Dashboard by it."""
    speaker, expected, themes = _speaker_quotes(demo_db)
    assert sum(expected.values()) > 0
    try:
        start(page, app_url, "Attribut Anna")
        go_to(page, "Attributter")
        panel = main(page)
        pick(page, "Dokument", f"{SITE} – {DOCUMENT}", scope=panel)
        pick(page, "Taler", speaker, scope=panel)
        panel.get_by_label("Målgruppe (target_group)", exact=True).fill(GROUP)
        act(page, panel.get_by_role("button", name="Gem", exact=True).last.click)
        expect(flash(page, "Gemt for taleren")).to_be_visible()

        go_to(page, "Dashboard")
        pick(page, "Målgruppe", GROUP, scope=main(page))
        assert {t: theme_quotes(page, t) for t in themes} == expected
    finally:  # the other journeys share the database: the speaker gets no group of its own
        store = open_store(str(demo_db))
        try:
            doc = store.get_document(DOCUMENT)
            if "target_group" in store.attributes(doc.id, speaker):
                store.set_attributes(doc.id, unset=["target_group"], speaker=speaker)
        finally:
            store.close()
