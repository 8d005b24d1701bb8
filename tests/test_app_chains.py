"""CMO chains that run past their time budget: the Dashboard and the Temakapitel page say
so in Danish (choose accepted codings only) instead of hanging or showing a traceback."""

from __future__ import annotations

import pytest

from tests.app_util import open_page, start

HINT = "Vælg kun accepterede kodninger"


@pytest.fixture
def no_time(monkeypatch) -> None:
    """Chain queries get no time at all (as if each ran past its budget at once)."""
    from evaltool.store import aggregates

    monkeypatch.setattr(aggregates, "CHAIN_BUDGET_S", 0.0)


def test_the_dashboard_says_the_chains_were_stopped_and_shows_the_rest(app_db, no_time) -> None:
    at = open_page(start(), "dashboard.py")
    at.toggle(key="dash_sugg").set_value(True).run()
    assert not at.exception
    assert any(HINT in w.value for w in at.warning)
    assert at.metric  # the theme cards are still there


def test_the_chapter_page_says_the_chains_were_stopped(app_db, no_time) -> None:
    at = open_page(start(), "chapter_page.py")
    at.toggle(key="kap_sugg").set_value(True).run()
    assert not at.exception
    assert any(HINT in e.value for e in at.error)


def test_with_time_the_pages_show_no_such_message(app_db) -> None:
    at = open_page(start(), "dashboard.py")
    at.toggle(key="dash_sugg").set_value(True).run()
    assert not any(HINT in w.value for w in at.warning)
