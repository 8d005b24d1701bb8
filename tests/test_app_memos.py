"""The Memoer page: every kind listed and filtered, document and project memos written
(read when the button is clicked), one's own memos edited and deleted, the lead reads only."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from evaltool.ui.text import md
from tests.app_util import ROOT, open_page, start


def _memo_lines(at) -> list[str]:
    """The first line of each memo shown (kind · document · turn · code · coder · time)."""
    return [m.value for m in at.markdown if m.value.startswith("**") and " · " in m.value]


def _some_memos(store) -> None:
    """A coding memo by Bo, a segment memo by Bo, a document memo by Åse (no project memo)."""
    seg = store.segments(1)[0]
    code = store.codes()[0].key
    store.add_coding([seg.id], code, "Bo", memo="Bos note om kodningen")
    store.add_memo(store.segments(1)[1].id, "Bo", "Bos note om sætningen")
    store.add_document_memo(1, "Åse", "Åses note om dokumentet")


def test_memos_of_every_kind_are_listed_and_filtered(app_db) -> None:
    (gold,) = app_db.memos()  # the gold codings' one memo, on turn 5
    _some_memos(app_db)
    at = open_page(start("Åse"), "memo_page.py")
    assert at.caption[0].value == "4 memoer"
    lines = _memo_lines(at)
    assert [line.split(" · ")[0] for line in lines] == ["**Dokument**", "**Kodning**",
                                                        "**Sætning**", "**Kodning**"]
    assert "tur 5" in lines[3] and gold.kind == "coding"
    assert "Bos note om kodningen" in [m.value for m in at.markdown]
    at.pills(key="memo_kinds").set_value(["coding"]).run()
    assert at.caption[0].value == "2 memoer"
    at.pills(key="memo_kinds").set_value([]).run()
    at.text_input(key="memo_contains").input("SÆTNINGEN").run()
    assert at.caption[0].value == "1 memo" and _memo_lines(at)[0].startswith("**Sætning**")
    at.text_input(key="memo_contains").input("").run()
    at.selectbox(key="memo_coder").select("Åse").run()
    assert at.caption[0].value == "1 memo" and _memo_lines(at)[0].startswith("**Dokument**")
    for label in ("Hent CSV (UTF-8)", "Hent CSV til dansk Excel", "Hent XLSX"):
        assert label in [b.label for b in at.get("download_button")]


def test_document_and_project_memos_are_saved_as_typed(app_db) -> None:
    at = open_page(start("Åse"), "memo_page.py")
    assert at.caption[0].value == "1 memo"  # the gold codings' memo
    at.text_area(key="memo_new_project_text").input("  Kaffe går igen på tværs  ")
    at.button(key="memo_save_project").click().run()  # typed, no Enter: read on the click
    assert not at.exception
    assert at.success[0].value == "Projektmemo gemt: »Kaffe går igen på tværs«"
    assert [(m.kind, m.coder, m.text) for m in app_db.memos(kinds=["project"])] == [
        ("project", "Åse", "Kaffe går igen på tværs")]
    assert at.text_area(key="memo_new_project_text").value == ""  # ready for the next one
    at.text_area(key="memo_new_doc_text").input("Morsø: kaffen åbner samtalen")
    at.button(key="memo_save_doc").click().run()
    assert at.warning[0].value == "Vælg det dokument, memoet handler om."
    name = app_db.get_document(1).name
    at.selectbox(key="memo_new_doc").select(1)
    at.button(key="memo_save_doc").click().run()
    assert at.success[0].value == (f"Dokumentmemo gemt på **{md(name)}**: "
                                   f"»{md('Morsø: kaffen åbner samtalen')}«")
    assert at.caption[0].value == "3 memoer"
    assert [(m.kind, m.document_id) for m in app_db.memos(kinds=["project", "document"])] == [
        ("project", None), ("document", 1)]


def test_an_empty_memo_is_refused_in_danish(app_db) -> None:
    at = open_page(start("Åse"), "memo_page.py")
    at.text_area(key="memo_new_project_text").input("   ")
    at.button(key="memo_save_project").click().run()
    assert at.warning[0].value == "Skriv noget i memoet først."
    assert app_db.memos(kinds=["project"]) == []


def test_own_memos_can_be_edited_and_deleted_others_not(app_db) -> None:
    _some_memos(app_db)
    mine = next(m for m in app_db.memos() if m.coder == "Åse")
    at = open_page(start("Åse"), "memo_page.py")
    assert len(at.text_area) == 3  # the two new-memo forms and the one memo of Åse's
    edit = next(t for t in at.text_area if t.key.startswith(f"memo_m{mine.id}_"))
    edit.input("Åses rettede note")
    next(b for b in at.button if b.key.startswith(f"memo_m{mine.id}_") and b.label
         == "Gem ændring").click().run()
    assert at.success[0].value == "Dokumentmemo rettet: »Åses rettede note«"
    assert {m.text for m in app_db.memos()} >= {"Åses rettede note"}
    next(b for b in at.button if b.key.startswith(f"memo_m{mine.id}_") and b.label
         == "Slet memoet").click().run()
    assert at.success[0].value == "Dokumentmemo slettet: »Åses rettede note«"
    assert "Åse" not in [m.coder for m in app_db.memos()]
    assert at.caption[0].value == "3 memoer"
    assert not [b for b in at.button if b.label in ("Gem ændring", "Slet memoet")]


def test_the_lead_reads_every_memo_and_writes_none(app_db, monkeypatch) -> None:
    _some_memos(app_db)
    app_db.add_project_memo("Åse", "Projektets note")
    monkeypatch.setenv("EVALTOOL_MODE", "lead")
    at = open_page(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run(),
                   "memo_page.py")
    assert at.caption[0].value == "5 memoer"
    assert not at.text_area and not [b for b in at.button if b.label.startswith(("Gem", "Slet"))]


def test_memo_text_is_shown_literally(app_db) -> None:
    evil = "<script>alert(1)</script> **fed** [link](http://x)"
    app_db.add_project_memo("Bo", evil)
    at = open_page(start("Åse"), "memo_page.py")
    at.pills(key="memo_kinds").set_value(["project"]).run()
    assert md(evil) in [m.value for m in at.markdown]
    assert not [m for m in at.markdown if "<script>" in m.value]
