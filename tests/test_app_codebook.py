"""The Kodebog page edits the codebook: what a form sends is saved (no Enter needed), the
page says what, other pages see the change at once, and refusals are Danish."""

from __future__ import annotations

import re

from evaltool import codebook
from evaltool.domain import CMO
from tests.app_util import open_page, start

PARENT, CHILD = "udf_nye_brugere", "udf_invitationer"


def _submit(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _expander(at, code_key: str) -> str:
    return next(e.label for e in at.expander if f" · {code_key} · " in e.label.replace("\\", ""))


def test_add_a_code_under_a_parent_and_find_it_in_the_kodning_picker(app_db) -> None:
    at = open_page(start(), "codebook_page.py")
    # typed, never confirmed with Enter: the form sends what the boxes hold
    at.text_input(key="kb_add_id").input("udf_samtaler")
    at.text_input(key="kb_add_label").input("Samtaler ved skranken")
    at.text_area(key="kb_add_definition").input("Borgere, der bliver og taler.")
    at.selectbox(key="kb_add_cmo").set_value(CMO.outcome)
    at.selectbox(key="kb_add_column").set_value("Effekter")
    at.selectbox(key="kb_add_parent").set_value(PARENT)
    at.button_group(key="kb_add_themes").set_value(["T1"])
    at.button_group(key="kb_add_goals").set_value(["G1"])
    _submit(at, "Tilføj kode")
    assert [s.value for s in at.success] == [
        "Gemt: ny kode »Nye brugere › Samtaler ved skranken« (udf\\_samtaler). "
        "Kodebogen er nu version 2."]
    code = {c.key: c for c in app_db.codes()}["udf_samtaler"]
    assert (code.parent, code.cmo, code.themes) == (PARENT, "outcome", ("T1",))
    assert "Nye brugere › Samtaler ved skranken" in _expander(at, "udf_samtaler").replace("\\", "")

    kod = open_page(start(), "coding.py")
    box = next(b for b in kod.selectbox if b.key and b.key.startswith("kod_add")
               and b.key.endswith("code"))
    options = list(box.options)
    i = options.index("Nye brugere › Samtaler ved skranken")
    assert options[i - 1].startswith("Nye brugere")  # right under its parent (or a sibling)


def test_an_invalid_code_is_refused_in_danish_and_nothing_is_saved(app_db) -> None:
    version = app_db.active_codebook()["version"]
    at = open_page(start(), "codebook_page.py")
    at.text_input(key="kb_add_id").input("udf_tom")
    at.text_area(key="kb_add_definition").input("Uden navn.")
    at.button_group(key="kb_add_themes").set_value(["T1"])
    at.button_group(key="kb_add_goals").set_value(["G1"])
    _submit(at, "Tilføj kode")
    assert at.error[0].value.startswith("Kodebogen er ikke ændret: »navn« må ikke være tomt.")
    assert app_db.active_codebook()["version"] == version


def test_merge_moves_the_counts(app_db) -> None:
    at = open_page(start(), "codebook_page.py")

    def accepted(key: str) -> int:
        return int(re.search(r"· (\d+) accepteret", _expander(at, key)).group(1))

    before = {k: accepted(k) for k in ("ctx_strategi", "mek_kaffe")}
    assert before["mek_kaffe"] > 0
    at.selectbox(key="kb_merge_from").set_value("mek_kaffe")
    at.selectbox(key="kb_merge_into").set_value("ctx_strategi")
    _submit(at, "Flet")
    assert at.success[0].value.startswith("Flettet: »Kaffe og uformelt samvær« ind i "
                                          "»Kommunal strategi«")
    assert not any(" · mek\\_kaffe · " in e.label for e in at.expander)
    assert accepted("ctx_strategi") == before["ctx_strategi"] + before["mek_kaffe"]


def test_a_parent_cycle_is_refused_in_danish(app_db) -> None:
    at = open_page(start(), "codebook_page.py")
    at.selectbox(key="kb_move_code").set_value(PARENT)
    at.selectbox(key="kb_move_parent").set_value(CHILD)
    _submit(at, "Flyt")
    assert "giver en ring af overordnede koder" in at.error[0].value
    assert {c.key: c.parent for c in app_db.codes()}[PARENT] is None


def test_edit_saves_what_is_typed_and_says_which_fields(app_db) -> None:
    at = open_page(start(), "codebook_page.py")
    at.selectbox(key="kb_edit_code").set_value("mek_kaffe").run()
    at.text_input(key="kb_edit_mek_kaffe_1_label").input("Kaffe og kage")
    at.text_area(key="kb_edit_mek_kaffe_1_exclude").input("Ikke kaffe derhjemme.")
    _submit(at, "Gem ændringer")
    assert at.success[0].value == ("Gemt på »mek\\_kaffe«: navn, brug ikke når. "
                                   "Kodebogen er nu version 2.")
    code = {c["id"]: c for c in app_db.active_codebook()["content"]["codes"]}["mek_kaffe"]
    assert (code["label"], code["exclude"]) == ("Kaffe og kage", "Ikke kaffe derhjemme.")


def test_a_parent_counts_a_sentence_coded_with_it_and_its_child_once(app_db) -> None:
    segs = [c.segment_id for c in app_db.coding_views(status="accepted")][:2]
    app_db.add_coding(segs, PARENT, "Mette")
    app_db.add_coding(segs[:1], CHILD, "Mette")  # one sentence carries both
    coded = {c.segment_id for c in app_db.coding_views(status="accepted")
             if c.code_key in (PARENT, CHILD)}
    at = open_page(start(), "codebook_page.py")
    label = _expander(at, PARENT).replace("\\", "")
    rolled = int(re.search(r"med underkoder: (\d+)", label).group(1))
    assert rolled == len(coded)


def test_a_retired_codes_codings_are_listed_apart_and_leave_the_parents_count(app_db) -> None:
    segs = [c.segment_id for c in app_db.coding_views(status="accepted")
            if c.code_key != PARENT][:2]
    app_db.add_coding(segs, CHILD, "Mette")
    # a second sub-code keeps the parent a parent (its count *med underkoder* shown)
    codebook.add_code(app_db, {"id": "udf_samtaler", "label": "Samtaler ved skranken",
                               "definition": "Borgere, der bliver og taler.", "cmo": "outcome",
                               "column": "Effekter", "themes": ["T1"], "goals": ["G1"],
                               "parent": PARENT}, coder="Mette")
    at = open_page(start(), "codebook_page.py")

    def rolled() -> int:
        label = _expander(at, PARENT).replace("\\", "")
        return int(re.search(r"med underkoder: (\d+)", label).group(1))

    parent = {c.segment_id for c in app_db.coding_views(status="accepted")
              if c.code_key == PARENT}
    assert rolled() == len(parent | set(segs))
    at.selectbox(key="kb_retire_code").set_value(CHILD)
    _submit(at, "Udfas")
    assert at.success[0].value.startswith("Udfaset:")
    assert rolled() == len(parent)  # the retired child's sentences leave the parent's count
    box = next(e for e in at.expander if e.label.startswith("Udfasede koder"))
    assert box.label == "Udfasede koder (1)"
    kept = [c.value.replace("\\", "") for c in box.caption]
    assert "tælles ikke med" in kept[0]
    accepted = sum(1 for v in app_db.coding_views(status="accepted") if v.code_key == CHILD)
    assert any(line.startswith(f"Invitationer fra forvaltninger · {CHILD} · udfaset · gemt: "
                               f"{accepted} accepteret") for line in kept), kept
