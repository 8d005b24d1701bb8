"""The Attributter page and the attribute filters: a speaker's target group typed in the app
changes the Dashboard's Målgruppe filter and what Eksport and Matricer count under it."""

from __future__ import annotations

from evaltool.ui.codes import code_labels
from tests.app_util import open_page, start


def _box(at, label: str, form: int = 0):
    """The text box ``label`` of the page's first form (the document's) or of the second
    (the chosen speaker's)."""
    return [t for t in at.text_input if t.label == label][form]


def _bent_quotes(store) -> dict[str, set[int]]:
    """Theme → Bent's accepted quotes (segments), counted from the codings themselves."""
    out: dict[str, set[int]] = {}
    for v in store.coding_views(status="accepted"):
        if v.document == "kaffe_morsoe.txt" and v.speaker == "Bent":
            for theme in v.themes:
                out.setdefault(theme, set()).add(v.segment_id)
    return out


def test_speaker_target_group_edited_in_the_app_reaches_every_filter(app_db) -> None:
    doc_id = app_db.get_document("kaffe_morsoe.txt").id
    bent = _bent_quotes(app_db)
    assert sum(map(len, bent.values())) > 0, "the gold codings give Bent accepted quotes"
    at = open_page(start("Åse"), "attributes_page.py")
    at.selectbox(key=f"attr_speaker{doc_id}").select("Bent").run()
    _box(at, "Målgruppe (target_group)").input("Frivillige")  # typed, no Enter
    _box(at, "Ny nøgle", 1).input("gender")
    _box(at, "Værdi", 1).input("mand")
    [b for b in at.button if b.label == "Gem"][1].click()  # the speaker's form
    at.run()
    assert not at.exception
    assert app_db.attributes(doc_id, "Bent") == {"gender": "mand", "role": "frivillig",
                                                 "target_group": ["Frivillige"]}
    assert any("Bent" in c.value and "— → Frivillige" in c.value for c in at.caption)  # history

    at = open_page(at, "dashboard.py")
    group = at.selectbox(key="dash_group")
    assert "Frivillige" in group.options and "Senioren" in group.options
    group.select("Frivillige").run()
    themes = [t["id"] for t in app_db.active_codebook()["content"]["themes"]]
    shown = [int(m.value) for m in at.metric if m.label == "Citater"]
    assert shown == [len(bent.get(t, ())) for t in themes]

    at = open_page(at, "export_page.py")
    at.selectbox(key="eks_attr").select(("speaker", "gender")).run()
    at.selectbox(key="eks_attrval_speaker_gender").select("mand").run()
    assert not at.exception
    expected = sum(1 for v in app_db.coding_views(status="accepted")
                   if v.document == "kaffe_morsoe.txt" and v.speaker == "Bent")
    assert any(c.value == f"{expected} rækker" or c.value == f"{expected} række"
               for c in at.caption)
    frame = at.dataframe[0].value
    assert set(frame["speaker"]) == {"Bent"} and set(frame["target_group"]) == {"Frivillige"}


def test_bad_key_is_refused_in_danish_and_nothing_changes(app_db) -> None:
    doc_id = app_db.get_document("kaffe_morsoe.txt").id
    before = app_db.attributes(doc_id)
    at = open_page(start("Åse"), "attributes_page.py")
    _box(at, "Ny nøgle").input("to ord")
    _box(at, "Værdi").input("x")
    _box(at, "Sted (site)").input("Nykøbing")
    next(b for b in at.button if b.label == "Gem").click()  # the document's form
    at.run()
    assert any("kan ikke gemmes" in e.value and "Intet er ændret" in e.value for e in at.error)
    assert app_db.attributes(doc_id) == before


def test_lead_cannot_open_the_attributes_page(app_db, monkeypatch) -> None:
    import pytest
    from streamlit.testing.v1 import AppTest

    from tests.app_util import PAGES, ROOT

    monkeypatch.setenv("EVALTOOL_MODE", "lead")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    with pytest.raises(ValueError, match=r"not a registered page|Could not find"):
        at.switch_page(PAGES + "attributes_page.py")


def test_kodning_and_matricer_filter_by_a_speaker_attribute(app_db) -> None:
    doc_id = app_db.get_document("kaffe_morsoe.txt").id
    app_db.set_attributes(doc_id, {"target_group": "Frivillige"}, speaker="Bent")
    at = open_page(start("Åse"), "coding.py")
    docs = at.selectbox(key="kod_doc")
    docs.select(next(d for d in docs.options if "kaffe_morsoe" in d)).run()
    at.selectbox(key="kod_attr").select(("speaker", "role")).run()
    at.selectbox(key="kod_attrval_speaker_role").select("frivillig").run()
    assert not at.exception
    views = [v for v in app_db.coder_view(doc_id, "Åse")
             if v.speaker == "Bent" and v.status in ("suggested", "accepted")]
    assert views, "Bent has codings to show"
    assert any(c.value.startswith(f"{len(views)} kodning") for c in at.caption)

    at = open_page(at, "matrix_page.py")
    at.selectbox(key="mat_cols").select("target_group").run()
    m = app_db.matrix("target_group")
    frame = at.dataframe[0].value
    assert "Frivillige" in frame.columns and "Senioren" in frame.columns
    labels = code_labels(app_db.codes())  # the table names codes by their path
    assert [int(frame.loc[labels[r], "Frivillige"]) for r in m.rows] == [
        m.count(r, "Frivillige") for r in m.rows]
    at.selectbox(key="mat_attr").select(("speaker", "target_group")).run()
    at.selectbox(key="mat_attrval_speaker_target_group").select("Frivillige").run()
    assert list(at.dataframe[0].value.columns) == ["Frivillige"]
