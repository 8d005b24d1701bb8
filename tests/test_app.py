"""The Streamlit app, driven by streamlit.testing's AppTest against a real database."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_util import PAGES, ROOT, open_page, start

EDITING_LABELS = {"Accepter", "Afvis", "Gem", "Gem memo", "Tilføj", "Importér",
                  "Genoptræn og foreslå igen", "Behold", "Forkast", "Fortryd", "Slet dokument",
                  "Gem dokumentmemo", "Gem projektmemo", "Gem ændring", "Slet memoet",
                  "Til rapporten", "Tag ud af rapporten"}


@pytest.mark.parametrize(("page", "title"), [
    ("coding.py", "Kodning"), ("import_page.py", "Import"), ("dashboard.py", "Dashboard"),
    ("agreement.py", "Enighed"), ("codebook_page.py", "Kodebog"), ("export_page.py", "Eksport"),
    ("memo_page.py", "Memoer"), ("chapter_page.py", "Temakapitel")])
def test_every_page_loads(app_db, page: str, title: str) -> None:
    at = open_page(start(), page)
    assert at.title[0].value == title


def test_accepting_in_the_queue_changes_the_database(app_db) -> None:
    before = [v for v in app_db.coding_views(status="accepted") if v.coder == "Åse"]
    assert before == []
    at = open_page(start(), "coding.py")
    at.segmented_control(key="kod_view").set_value("Næste usikre").run()
    at.button(key="kod_qa").click().run()
    assert not at.exception
    after = [v for v in app_db.coding_views(status="accepted") if v.coder == "Åse"]
    assert len(after) == 1
    history = app_db.history(after[0].segment_id)
    assert [(e.action, e.coder) for e in history][-1] == ("accept", "Åse")
    assert at.success[0].value.startswith("Accepteret: ")


def test_filters_change_what_is_shown(app_db) -> None:
    at = open_page(start(), "coding.py")
    at.selectbox(key="kod_doc").select_index(1).run()  # the Vesthimmerland transcript
    shown = at.caption[0].value
    assert "forslag" in shown
    at.pills(key="kod_status").set_value(["rejected"]).run()
    assert at.caption[0].value.startswith("0 kodninger vist")
    assert not [b for b in at.button if b.label == "Accepter" and b.key != "kod_qa"]
    dash = open_page(start(), "dashboard.py")
    accepted_only = [m.value for m in dash.metric]
    dash.toggle(key="dash_sugg").set_value(True).run()
    with_suggestions = [m.value for m in dash.metric]
    assert accepted_only != with_suggestions


def test_lead_mode_has_no_editing(app_db, monkeypatch) -> None:
    monkeypatch.setenv("EVALTOOL_MODE", "lead")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert at.title[0].value == "Dashboard"
    assert not at.sidebar.selectbox and not at.sidebar.radio
    for page in ["dashboard.py", "codebook_page.py", "export_page.py", "memo_page.py",
                 "chapter_page.py"]:
        open_page(at, page)
        assert not {b.label for b in at.button} & EDITING_LABELS
        assert not at.text_area
    with pytest.raises(ValueError, match=r"not a registered page|Could not find"):
        at.switch_page(PAGES + "coding.py")


def test_export_page_matches_filters(app_db) -> None:
    at = open_page(start(), "export_page.py")
    at.selectbox(key="eks_theme").select("T2").run()
    frame = at.dataframe[0].value
    assert set(frame["theme"]) == {"T2"}
    assert set(frame["code_id"]) <= {"ctx_strategi", "udf_invitationer"}
    at.selectbox(key="eks_site").select("Vesthimmerland").run()
    assert set(at.dataframe[0].value["site"]) <= {"Vesthimmerland"}


def test_transcript_text_is_shown_literally(app_db) -> None:
    at = open_page(start(), "coding.py")
    at.selectbox(key="kod_doc").select_index(2).run()
    texts = [m.value for m in at.markdown]
    line = next(t for t in texts if "script" in t)
    assert "\\<script\\>" in line  # escaped: Markdown shows it as text
    body = next(t for t in texts if "fed tekst" in t)
    assert "\\*\\*fed tekst\\*\\*" in body and "\\<b\\>" in body
    assert all(not m.proto.allow_html for m in at.markdown)


def test_turn_and_document_done_marks(app_db) -> None:
    doc = next(d for d in app_db.list_documents() if d.name == "kaffe_aars.txt")
    at = open_page(start(), "coding.py")
    at.selectbox(key="kod_doc").set_value(doc).run()
    turn = app_db.turns(doc.id)[1]
    at.checkbox(key=f"kod_tdone{turn.id}_False").check().run()
    assert not at.exception
    assert app_db.done_marks(doc.id, "Åse") == {turn.number}
    assert at.success[0].value == f"Tur {turn.number} er markeret som gennemgået."
    at.toggle(key=f"kod_docdone{doc.id}_False").set_value(True).run()
    assert app_db.done_marks(doc.id, "Åse") == {turn.number, None}
    assert (doc.id, len(app_db.turns(doc.id))) in app_db.reviewed_labels().turns
    assert at.checkbox(key=f"kod_tdone{app_db.turns(doc.id)[0].id}_True").value
