"""Span codings: coding any words of a turn with exact document offsets (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from evaltool import codebook
from evaltool.errors import ConflictError, NotFoundError, SpanError
from evaltool.store.models import Coding, Event
from tests.conftest import FIXTURES


def _counts(store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(Coding)),
                conn.scalar(select(func.count()).select_from(Event)))


def _span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


def test_a_span_is_stored_with_exact_offsets_and_its_quote(team_store) -> None:
    store = team_store
    text = store.document_text(1)
    start, end = _span(text, "satte kaffe")
    view = store.code_span(1, start, end, "mek_kaffe", coder="Åse", memo="kernen")
    assert (view.start, view.end, view.is_span) == (start, end, True)
    assert view.quote == "satte kaffe" == text[view.start:view.end]
    assert (view.status, view.source, view.coder, view.memo) == ("accepted", "human", "Åse",
                                                                 "kernen")
    assert view.confidence is None and view.explanation == "" and view.layer == ""
    # its sentence, turn and document are those of the words
    sentence = next(s for s in store.segments(1) if s.start_char <= start < s.end_char)
    assert (view.segment_id, view.turn, view.document_id) == (sentence.id, 1, 1)
    # the sentence itself is not coded; a sentence coding beside the span is allowed
    views = store.coding_views(status="all", document_id=1)
    assert [(v.id, v.is_span) for v in views] == [(view.id, True)]
    store.add_coding([sentence.id], "mek_kaffe", "Åse")
    both = store.coding_views(status="all", document_id=1)
    assert sorted((v.is_span, v.text) for v in both) == [
        (False, sentence.text), (True, "satte kaffe")]
    assert all(text[v.start:v.end] == v.quote for v in both)
    # the decision is an event, as any other
    entries = store.history(sentence.id)
    assert entries[0].action == "add" and entries[0].after["start_char"] == start


def test_a_span_across_the_sentences_of_a_turn_belongs_to_the_first(team_store) -> None:
    store = team_store
    text = store.document_text(1)
    start, end = _span(text, "kaffe på bordet. Der kom nye")
    view = store.code_span(1, start, end, "udf_nye_brugere", coder="Åse")
    first = next(s for s in store.segments(1) if s.start_char <= start < s.end_char)
    assert view.segment_id == first.id and view.quote == "kaffe på bordet. Der kom nye"
    assert first.end_char < end  # it reaches into the next sentence


def test_whitespace_around_a_selection_is_left_off(team_store) -> None:
    store = team_store
    text = store.document_text(1)
    start, end = _span(text, "Der kom nye brugere.")
    # a selection that runs from the space before into the blank lines after the turn
    view = store.code_span(1, start - 1, end + 2, "udf_nye_brugere", coder="Åse")
    assert (view.start, view.end) == (start, end)
    assert view.quote == "Der kom nye brugere."


@pytest.mark.parametrize(("case", "kind"), [
    ("empty", "empty"), ("blank", "empty"), ("gap", "empty"), ("reversed", "out_of_range"),
    ("negative", "out_of_range"), ("past_end", "out_of_range"), ("two_turns", "across_turns"),
])
def test_refused_selections_leave_nothing_written(team_store, case: str, kind: str) -> None:
    store = team_store
    text = store.document_text(1)
    turn1_end = store.turns(1)[0].end_char
    start, end = _span(text, "satte kaffe")
    space = text.index(" ", start)
    selection = {"empty": (start, start), "blank": (space, space + 1),
                 "gap": (turn1_end, turn1_end + 2), "reversed": (end, start),
                 "negative": (-3, 4), "past_end": (len(text) - 3, len(text) + 1),
                 "two_turns": (turn1_end - 8, turn1_end + 6)}[case]
    before = _counts(store)
    with pytest.raises(SpanError) as err:
        store.code_span(1, *selection, "mek_kaffe", coder="Åse")
    assert err.value.kind == kind
    assert "\n" not in str(err.value) and str(err.value).startswith("document 1, characters ")
    assert "kaffe" not in str(err.value)  # never the transcript's text
    assert _counts(store) == before


def test_unknown_document_and_code_and_the_same_span_twice_are_refused(team_store) -> None:
    store = team_store
    start, end = _span(store.document_text(1), "nye brugere")
    with pytest.raises(NotFoundError, match="no document 9"):
        store.code_span(9, start, end, "mek_kaffe", coder="Åse")
    with pytest.raises(NotFoundError, match="no code 'nope'"):
        store.code_span(1, start, end, "nope", coder="Åse")
    store.code_span(1, start, end, "udf_nye_brugere", coder="Åse")
    before = _counts(store)
    with pytest.raises(SpanError, match="already has this code"):
        store.code_span(1, start, end, "udf_nye_brugere", coder="Bo")
    assert _counts(store) == before
    # another code on the same words, or the same code on other words, is fine
    store.code_span(1, start, end, "mek_kaffe", coder="Åse")
    store.code_span(1, start, end - 1, "udf_nye_brugere", coder="Åse")


def test_a_retired_code_is_refused(team_store, tmp_path) -> None:
    store = team_store
    book = (FIXTURES / "mini_kodebog.yaml").read_text(encoding="utf-8")
    cut = book.index("  - id: udf_invitationer")
    path = tmp_path / "smaller.yaml"
    path.write_text(book[:cut].replace("version: 1", "version: 2"), encoding="utf-8")
    store.load_codebook(codebook.load(path), "smaller.yaml")
    start, end = _span(store.document_text(1), "nye brugere")
    with pytest.raises(SpanError, match="retired"):
        store.code_span(1, start, end, "udf_invitationer", coder="Åse")


def test_decide_and_undo_work_on_a_span_coding(team_store) -> None:
    store = team_store
    start, end = _span(store.document_text(1), "Kommunens strategi")
    view = store.code_span(1, start, end, "ctx_strategi", coder="Åse")
    version = store.decide(view.id, "recode", "Åse", expected_version=view.version,
                           code_key="mek_kaffe")
    with pytest.raises(ConflictError):  # a stale version is refused
        store.decide(view.id, "memo", "Bo", expected_version=view.version, memo="x")
    store.decide(view.id, "memo", "Bo", expected_version=version, memo="om strategien")
    (now,) = store.coding_views(status="all", document_id=1)
    assert (now.code_key, now.memo, now.is_span, now.quote) == (
        "mek_kaffe", "om strategien", True, "Kommunens strategi")
    store.undo_last("Bo")
    store.undo_last("Åse")  # the recode
    (back,) = store.coding_views(status="all", document_id=1)
    assert (back.code_key, back.start, back.end) == ("ctx_strategi", start, end)
    store.undo_last("Åse")  # the span coding itself
    assert store.coding_views(status="all", document_id=1) == []


def test_recoding_a_span_onto_a_code_the_same_span_has_is_refused(team_store) -> None:
    store = team_store
    start, end = _span(store.document_text(1), "Kommunens strategi")
    one = store.code_span(1, start, end, "ctx_strategi", coder="Åse")
    store.code_span(1, start, end, "mek_kaffe", coder="Åse")
    # the same words already carry the other code
    with pytest.raises(ConflictError):
        store.decide(one.id, "recode", "Åse", code_key="mek_kaffe")


def test_a_blind_coder_codes_spans_in_their_own_layer(team_store) -> None:
    store = team_store
    store.assign(1, ["Åse", "Bo"], blind=True)
    start, end = _span(store.document_text(1), "nye brugere")
    mine = store.code_span(1, start, end, "udf_nye_brugere", coder="Åse")
    assert mine.layer == "Åse"
    assert store.coding_views(status="all", document_id=1) == []  # nothing shared
    assert [v.id for v in store.coder_view(1, "Åse")] == [mine.id]
    assert store.coder_view(1, "Bo") == []
    # Bo may code the same words blind too, in his layer
    his = store.code_span(1, start, end, "udf_nye_brugere", coder="Bo")
    assert his.layer == "Bo" and his.id != mine.id
    # deciding it blind keeps it in the layer, a span still
    decision = store.decide_as("Åse", mine.id, "reject", expected_version=mine.version)
    assert decision.coding_id == mine.id
    (seen,) = store.coder_view(1, "Åse")
    assert (seen.status, seen.is_span, seen.quote) == ("rejected", True, "nye brugere")
    # coded again: the rejected row is accepted again, not duplicated
    again = store.code_span(1, start, end, "udf_nye_brugere", coder="Åse")
    assert again.id == mine.id and again.status == "accepted"


def test_export_gives_a_span_its_offsets_and_words(team_store, tmp_path) -> None:
    from evaltool import export

    store = team_store
    text = store.document_text(1)
    start, end = _span(text, "Strategien var klar. Det var")
    store.code_span(1, start, end, "ctx_strategi", coder="Åse")
    sentence = next(s for s in store.segments(1) if s.text == "Kaffen var god.")
    store.add_coding([sentence.id], "mek_kaffe", "Åse")
    frame = export.build_frame(store)
    rows = frame[["start_char", "end_char", "text", "code_id", "unit", "turn"]].to_dict("records")
    assert rows == [
        {"start_char": sentence.start_char, "end_char": sentence.end_char,
         "text": "Kaffen var god.", "code_id": "mek_kaffe", "unit": "sentence", "turn": 2},
        {"start_char": start, "end_char": end, "text": "Strategien var klar. Det var",
         "code_id": "ctx_strategi", "unit": "span", "turn": 2}]
    for r in rows:
        assert text[r["start_char"]:r["end_char"]] == r["text"]
    # the streamed CSV writes the same bytes
    streamed, table = tmp_path / "s.csv", tmp_path / "t.csv"
    assert export.export_file(store, streamed) == export.write(frame, table) == 2
    assert streamed.read_bytes() == table.read_bytes()
    # the turn-level export quotes the turn, once per code
    turns = export.build_frame(store, unit="turn")
    assert set(turns["unit"]) == {"turn"} and len(turns) == 2
