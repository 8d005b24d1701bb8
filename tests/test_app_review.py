"""Reviewing in the app: what is typed is saved, shortcuts act only on what is seen,
and every decision says what it did in Danish (with undo)."""

from __future__ import annotations

from tests.app_util import open_page, start

QUEUE = "Næste usikre"


def _coding_id(key: str) -> int:
    """The coding id in a coding row's widget key (kod_<id>_<version>_...)."""
    return int(key.split("_")[1])


def test_memo_typed_and_clicked_is_saved(app_db) -> None:
    at = open_page(start(), "coding.py")
    area = next(t for t in at.text_area if t.key.endswith("_memo"))
    coding = _coding_id(area.key)
    area.input("Kaffen samlede dem")  # typed, then the button clicked: no Ctrl+Enter
    at.button(key=area.key.replace("_memo", "_savememo")).click().run()
    assert not at.exception
    saved = next(v for v in app_db.coding_views(status="all") if v.id == coding)
    assert saved.memo == "Kaffen samlede dem"
    message = at.success[0].value
    assert "Memo gemt" in message and "Kaffen samlede dem" in message
    assert f"tur {saved.turn}" in message and saved.code_label in message


def test_add_code_saves_the_typed_memo_and_says_what_it_added(app_db) -> None:
    at = open_page(start(), "coding.py")
    turn = app_db.turns(1)[1]
    key = f"kod_add{turn.id}"
    at.selectbox(key=f"{key}code").select("udf_nye_brugere")
    at.text_input(key=f"{key}memo").input("Nye ansigter")
    at.button(key=f"kod_addbtn{turn.id}").click().run()
    assert not at.exception
    added = [v for v in app_db.coding_views(status="all", document_id=1)
             if v.code_key == "udf_nye_brugere" and v.coder == "Åse"]
    assert added and {v.memo for v in added} == {"Nye ansigter"}
    assert {v.turn for v in added} == {turn.number}
    message = at.success[0].value
    assert "Nye brugere" in message and f"tur {turn.number}" in message
    assert "Nye ansigter" in message


def test_document_view_has_no_hidden_shortcuts(app_db) -> None:
    at = open_page(start(), "coding.py")
    assert not [b.key for b in at.button if b.proto.shortcut]
    assert "kod_qa" not in {b.key for b in at.button}
    assert at.segmented_control(key="kod_view").value == "Dokument"
    before = {v.id: v.status for v in app_db.coding_views(status="all")}
    at.segmented_control(key="kod_view").set_value(QUEUE).run()
    assert at.button(key="kod_qa").proto.shortcut.lower() == "a"
    assert {v.id: v.status for v in app_db.coding_views(status="all")} == before


def test_shortcut_accept_says_what_and_undo_restores(app_db) -> None:
    at = open_page(start(), "coding.py")
    at.segmented_control(key="kod_view").set_value(QUEUE).run()
    at.button(key="kod_qa").click().run()
    mine = [v for v in app_db.coding_views(status="accepted") if v.coder == "Åse"]
    assert len(mine) == 1
    message = at.success[0].value
    assert message.startswith("Accepteret:")
    assert mine[0].code_label in message and f"tur {mine[0].turn}" in message
    at.button(key="kod_undo_done").click().run()
    assert not at.exception
    assert not [v for v in app_db.coding_views(status="accepted") if v.coder == "Åse"]
    assert at.success[0].value.startswith("Fortrudt:")
    assert mine[0].code_label in at.success[0].value


def test_history_uses_danish_verbs_and_code_labels(app_db) -> None:
    at = open_page(start(), "coding.py")
    row = next(b for b in at.button if b.label == "Afvis" and not b.disabled)
    coding = _coding_id(row.key)
    row.click().run()
    view = next(v for v in app_db.coding_views(status="all") if v.id == coding)
    lines = [c.value for c in at.caption if "Åse" in c.value and " → " in c.value]
    assert lines, [c.value for c in at.caption]
    assert any("afvist" in line and view.code_label in line for line in lines)
    assert not any(f"{view.code_key}:" in line or " reject " in line for line in lines)


def test_a_decision_on_a_vanished_coding_is_said_in_danish(app_db) -> None:
    at = open_page(start(), "coding.py")
    row = next(b for b in at.button if b.label == "Afvis" and not b.disabled)
    coding = _coding_id(row.key)
    with app_db.document_writer() as writer:  # another process deletes the document meanwhile
        writer.delete(next(v for v in app_db.coding_views(status="all")
                           if v.id == coding).document_id)
    row.click().run()
    assert not at.exception
    assert at.error[0].value.startswith("Det findes ikke (længere); genindlæs siden.")


def test_history_quotes_a_span_coding(app_db) -> None:
    segment = app_db.segments(1)[1]
    quote = segment.text[:12].strip()
    app_db.code_span(1, segment.start_char, segment.start_char + len(quote), "mek_kaffe",
                     coder="Åse")
    at = open_page(start(), "coding.py")
    lines = [c.value for c in at.caption if "markering:" in c.value]
    assert lines and all(f"»{quote}«" in line for line in lines), lines


def test_history_shows_a_sentences_memo_and_a_memo_added_with_a_code(app_db) -> None:
    segment = app_db.segments(1)[1]
    memo_id = app_db.add_memo(segment.id, "Bo", "Om sætningen")
    app_db.edit_memo(memo_id, "Bo", "Om sætningen, rettet")
    app_db.add_coding([segment.id], "mek_kaffe", "Åse", memo="Kaffen samler")
    at = open_page(start(), "coding.py")
    captions = [c.value for c in at.caption]
    assert any("Bo · memo skrevet: »Om sætningen«" in c for c in captions), captions
    assert any("Bo · memo rettet: »Om sætningen, rettet«" in c for c in captions), captions
    assert any("Åse · tilføjet" in c and "»Kaffen samler«" in c for c in captions), captions
