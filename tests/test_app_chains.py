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


def test_the_chapter_page_says_the_chains_were_stopped_and_shows_the_quotes(app_db,
                                                                          no_time) -> None:
    at = open_page(start(), "chapter_page.py")
    at.toggle(key="kap_sugg").set_value(True).run()
    assert not at.exception
    assert any(HINT in w.value for w in at.warning)
    assert not at.error
    assert at.metric and at.subheader  # the chapter's counts and its sites' sections stay


def test_a_report_whose_chains_were_stopped_says_so_and_keeps_its_quotes(app_db, no_time,
                                                                         tmp_path) -> None:
    """The report is still made: each chapter keeps its quotes and says in Danish, where its
    chain table would be, that the chains were left out and how to get them."""
    from docx import Document

    from evaltool import report

    r = report.build_report(app_db, statuses=("accepted", "suggested"))
    assert r.chapters and all(ch.chains_stopped == 0.0 and not ch.chains for ch in r.chapters)
    assert any(s.shown for ch in r.chapters for s in ch.sections)
    out = report.write_report(r, tmp_path / "rapport.docx")
    text = [p.text for p in Document(str(out)).paragraphs]
    stopped = [t for t in text if t.startswith("CMO-kæderne er udeladt")]
    assert len(stopped) == len(r.chapters) and "kun accepterede kodninger" in stopped[0]


def test_with_time_the_pages_show_no_such_message(app_db) -> None:
    at = open_page(start(), "dashboard.py")
    at.toggle(key="dash_sugg").set_value(True).run()
    assert not any(HINT in w.value for w in at.warning)



def test_a_report_asks_for_its_chains_once(app_db, monkeypatch) -> None:
    """The report takes the dashboard's chain rows (the same filters) instead of running the
    chain query again: with suggestions on a big project that query is the slow part."""
    from evaltool import report

    calls = []
    query = app_db.cmo_chains
    monkeypatch.setattr(app_db, "cmo_chains", lambda *a, **k: calls.append(a) or query(*a, **k))
    report.build_report(app_db, statuses=("accepted", "suggested"), target_group=None)
    assert len(calls) == 1
