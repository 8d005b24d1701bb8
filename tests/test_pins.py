"""Quotes pinned "til rapporten": stored with who and when, in the history, one transaction
each (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from evaltool.cli import cli
from evaltool.errors import NotFoundError, PinError
from evaltool.store.models import Event, QuotePin


def _counts(store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(QuotePin)),
                conn.scalar(select(func.count()).select_from(Event)))


@pytest.fixture
def coded(team_store):
    """Segment 2 (kaffe, theme T1) coded as a sentence; 'satte kaffe' coded as a span."""
    store = team_store
    sentence = store.add_as("Lene", [2], "mek_kaffe")[0]
    text = store.document_text(1)
    start = text.index("nye brugere")
    span = store.code_span(1, start, start + len("nye brugere"), "udf_nye_brugere", coder="Lene")
    return store, sentence, span.id


def test_pin_and_unpin_a_sentence_and_a_span_with_who_when_and_history(coded) -> None:
    store, sentence, span = coded
    p = store.pin_quote(sentence, "T1", "Lene")
    store.pin_quote(span, "T1", "Mads")
    assert (p.coding_id, p.theme, p.coder) == (sentence, "T1", "Lene") and p.at is not None
    pins = store.quote_pins("T1")
    assert [(x.coding_id, x.coder) for x in pins] == [(sentence, "Lene"), (span, "Mads")]
    assert store.quote_pins("T2") == []
    history = store.history(2)
    assert [(e.action, e.coder, (e.after or {}).get("theme")) for e in history][-1] == \
        ("pin", "Lene", "T1")
    store.unpin_quote(sentence, "T1", "Mads")
    assert [x.coding_id for x in store.quote_pins("T1")] == [span]
    last = store.history(2)[-1]
    assert (last.action, last.coder, last.before["theme"], last.after) == \
        ("unpin", "Mads", "T1", None)


@pytest.mark.parametrize(("theme", "kind"), [("T9", "unknown_theme"), ("T2", "not_in_theme")])
def test_a_pin_outside_the_codes_themes_is_refused_writing_nothing(coded, theme, kind) -> None:
    store, sentence, _ = coded
    before = _counts(store)
    with pytest.raises(PinError) as err:
        store.pin_quote(sentence, theme, "Lene")
    assert err.value.kind == kind and theme in str(err.value)
    assert _counts(store) == before


def test_twice_rejected_missing_and_unpinned_are_refused_writing_nothing(coded) -> None:
    store, sentence, span = coded
    store.pin_quote(sentence, "T1", "Lene")
    before = _counts(store)
    with pytest.raises(PinError, match="already"):
        store.pin_quote(sentence, "T1", "Mads")
    with pytest.raises(PinError, match="not pinned"):
        store.unpin_quote(span, "T1", "Lene")
    with pytest.raises(NotFoundError):
        store.pin_quote(999, "T1", "Lene")
    with pytest.raises(PinError, match="who pins"):
        store.pin_quote(span, "T1", " ")
    store.decide_as("Lene", span, "reject")
    after_reject = _counts(store)
    with pytest.raises(PinError, match="rejected"):
        store.pin_quote(span, "T1", "Lene")
    assert _counts(store) == after_reject and after_reject[0] == before[0]


def test_cli_pins_and_unpins(coded, team_db, runner) -> None:
    _, sentence, _ = coded
    result = runner.invoke(cli, ["--db", team_db, "pin", str(sentence), "--theme", "T1",
                                 "--coder", "Lene"])
    assert result.exit_code == 0, result.output
    assert f"coding {sentence} pinned to T1 by Lene" in result.output
    again = runner.invoke(cli, ["--db", team_db, "pin", str(sentence), "--theme", "T1",
                                "--coder", "Lene"])
    assert again.exit_code == 1 and "already" in again.output and "Traceback" not in again.output
    result = runner.invoke(cli, ["--db", team_db, "pin", str(sentence), "--theme", "T1",
                                 "--coder", "Lene", "--unpin"])
    assert result.exit_code == 0 and "unpinned" in result.output


def test_a_coding_in_a_blind_coders_own_layer_is_not_pinned(team_store) -> None:
    store = team_store
    store.assign(1, ["Mads"])
    own = store.add_as("Mads", [2], "mek_kaffe")[0]
    assert store.coding_views(status="all", layer="Mads")[0].id == own
    before = _counts(store)
    with pytest.raises(PinError, match="own"):
        store.pin_quote(own, "T1", "Mads")
    assert _counts(store) == before
