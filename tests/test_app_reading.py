"""Kodning's reading view: the text cut into runs at every coding, stable code colours,
and a selection coded as a span (with undo, blind layers and Danish messages).

The component's frontend is driven in Chromium by tests/journeys/test_reading.py; here
the selection it would report is put into the session as its event handler does.
"""

from __future__ import annotations

from evaltool.ui import reader
from tests.app_util import open_page, start

READING = "Læsevisning"


def test_runs_cut_the_turn_at_every_mark_and_name_the_marks_covering_each() -> None:
    text = "Kaffen virkede. Over en kop kaffe."
    # the turn starts at document offset 100; marks overlap and one runs past the turn
    runs = reader.turn_runs(text, 100, [(0, 100, 115), (1, 107, 120), (2, 125, 999)])
    assert "".join(r["t"] for r in runs) == text
    assert [(r["s"], r["t"], r["m"]) for r in runs] == [
        (100, "Kaffen ", [0]), (107, "virkede.", [0, 1]), (115, " Over", [1]),
        (120, " en k", []), (125, "op kaffe.", [2])]


def test_runs_of_an_uncoded_turn_are_its_text_and_marks_outside_are_ignored() -> None:
    assert reader.turn_runs("Hej.", 10, [(0, 0, 10), (1, 14, 20), (2, 12, 12)]) == [
        {"s": 10, "t": "Hej.", "m": []}]


def test_code_colours_are_stable_per_key_and_differ_between_codes() -> None:
    first = reader.code_colour("mek_kaffe")
    assert first == reader.code_colour("mek_kaffe")
    assert first != reader.code_colour("ctx_strategi")
    stripe, fill = first
    assert stripe.startswith("hsl(") and fill.startswith("hsla(") and fill.endswith(", 0.2)")


def test_view_args_mark_the_codings_and_the_pending_selection(app_db) -> None:
    doc = app_db.get_document("kaffe_morsoe.txt")
    turns = app_db.turns(doc.id)
    codings = app_db.coding_views(status="all", document_id=doc.id)
    turn = turns[1]
    pending = {"start": turn.start_char + 7, "end": turn.start_char + 14, "turn": turn.number}
    args = reader.view_args(turns, codings, {}, pending, chosen=codings[0].id)
    assert [t["n"] for t in args["turns"]] == [t.number for t in turns]
    for t, drawn in zip(turns, args["turns"], strict=True):
        assert "".join(r["t"] for r in drawn["runs"]) == t.text  # the whole text, in order
        assert all(t.start_char <= r["s"] < t.end_char for r in drawn["runs"])
    ids = {m["id"] for m in args["marks"] if m["kind"] == "coding"}
    assert ids == {c.id for c in codings}
    [mark] = [i for i, m in enumerate(args["marks"]) if m["kind"] == "pending"]
    covered = [r["t"] for r in args["turns"][1]["runs"] if mark in r["m"]]
    assert "".join(covered) == turn.text[7:14]
    assert args["chosen"] == codings[0].id
    for drawn in args["turns"]:  # beside the turn: each code's name once, with all its marks
        codes = [{args["marks"][i]["label"] for i in group} for group in drawn["chips"]]
        assert all(len(c) == 1 for c in codes) and len(codes) == len({c.pop() for c in codes})
    assert sorted(i for t in args["turns"] for g in t["chips"] for i in g) == [
        i for i, m in enumerate(args["marks"]) if m["kind"] == "coding"]


def _select(at, doc, turn, start: int, end: int):
    """Put a selection of ``turn.text[start:end]`` into the session, as the component's
    event does (the coding dialog opens)."""
    at.session_state[reader.SELECTION] = {"start": turn.start_char + start,
                                          "end": turn.start_char + end,
                                          "turn": turn.number, "cut": False}
    at.session_state[f"{reader.KEY}shown"] = doc.id
    return at.run()


def _reading(app_db):
    at = open_page(start(), "coding.py")
    at.segmented_control(key="kod_view").set_value(READING).run()
    assert not at.exception
    doc = app_db.get_document("kaffe_morsoe.txt")
    at.selectbox(key=f"{reader.KEY}doc").select(doc).run()
    return at, doc


def test_reading_view_shows_how_to_use_it(app_db) -> None:
    at, _ = _reading(app_db)
    assert any("Træk hen over ord" in c.value for c in at.sidebar.caption)
    assert not at.exception


def test_a_selection_is_coded_as_a_span_and_undone(app_db) -> None:
    at, doc = _reading(app_db)
    turn = app_db.turns(doc.id)[1]  # Karen: "Kaffen virkede. Over en kop kaffe ..."
    _select(at, doc, turn, 0, 14)
    at.selectbox(key=f"{reader.KEY}code").select("mek_kaffe")
    at.text_input(key=f"{reader.KEY}memo").input("kaffen")
    at.button(key=f"{reader.KEY}save").click().run()
    assert not at.exception
    [span] = [v for v in app_db.coding_views(status="all", document_id=doc.id)
              if v.coder == "Åse" and v.is_span]
    assert (span.quote, span.code_key, span.memo, span.status) == (
        "Kaffen virkede", "mek_kaffe", "kaffen", "accepted")
    assert (span.start, span.end) == (turn.start_char, turn.start_char + 14)
    assert span.layer == ""
    message = at.success[0].value
    assert message.startswith("Kodet:") and "Kaffen virkede" in message and "tur 2" in message
    at.button(key="kod_undo_done").click().run()
    assert not at.exception
    assert not [v for v in app_db.coding_views(status="accepted", document_id=doc.id)
                if v.coder == "Åse" and v.is_span]
    assert at.success[0].value.startswith("Fortrudt:")


def test_a_span_on_a_blind_document_goes_to_the_coders_layer(app_db) -> None:
    doc = app_db.get_document("kaffe_morsoe.txt")
    app_db.assign(doc.id, ["Åse", "Bo"], blind=True)
    at, _ = _reading(app_db)
    turn = app_db.turns(doc.id)[1]
    _select(at, doc, turn, 16, 33)
    at.selectbox(key=f"{reader.KEY}code").select("mek_kaffe")
    at.button(key=f"{reader.KEY}save").click().run()
    assert not at.exception
    [span] = [v for v in app_db.coder_view(doc.id, "Åse") if v.is_span]
    assert (span.quote, span.layer) == (turn.text[16:33], "Åse")
    assert not [v for v in app_db.coder_view(doc.id, "Bo") if v.is_span]


def test_saving_without_a_code_says_so_in_danish_and_stores_nothing(app_db) -> None:
    at, doc = _reading(app_db)
    before = app_db.coding_views(status="all")
    _select(at, doc, app_db.turns(doc.id)[1], 0, 6)
    at.button(key=f"{reader.KEY}save").click().run()
    assert not at.exception
    assert any("Vælg den kode" in w.value for w in at.warning)
    assert app_db.coding_views(status="all") == before
