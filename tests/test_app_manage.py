"""Managing material in the app: import results in Danish, a confirmed delete, and the
Enighed page's warnings and units."""

from __future__ import annotations

from pathlib import Path

from evaltool import export
from evaltool.analysis import dashboard
from evaltool.ui.text import md, number
from tests.app_util import open_page, start

NEW = """---
title: Nyt interview
site: Thisted
---
Ordstyrer: Hvad skete der så?
Karen (bibliotekar): Vi drak kaffe. Flere nye brugere kom til.
Ordstyrer: Tak.
"""


def _upload(at, files: list[tuple[str, bytes]]) -> None:
    at.get("file_uploader")[0].set_value([(n, b, "text/plain") for n, b in files])
    next(b for b in at.button if b.label == "Importér").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_import_results_are_danish(app_db, fixtures: Path) -> None:
    at = open_page(start(), "import_page.py")
    same = (fixtures / "kaffe_morsoe.txt").read_bytes()
    _upload(at, [("nyt.txt", NEW.encode("utf-8")), ("kaffe_morsoe.txt", same),
                 ("tom.txt", b"")])
    table = at.dataframe[0].value
    by_file = dict(zip(table["Fil"], table["Besked"], strict=True))
    assert by_file["nyt.txt"] == "3 ture, 4 sætninger"
    assert by_file["kaffe_morsoe.txt"].startswith("Samme indhold er allerede importeret som "
                                                  "dokument 1.")
    assert by_file["tom.txt"].startswith("Ikke importeret; intet er gemt.")
    assert set(table["Resultat"]) == {"Importeret", "Sprunget over", "Fejl"}
    assert at.success[0].value == "1 fil importeret, 1 sprunget over, 1 med fejl"
    english = ("turns", "segments", "already imported", "--replace", "imported as")
    assert not [m for m in by_file.values() if any(w in m for w in english[:4])]


def test_delete_document_is_confirmed_and_gone_from_every_page(app_db) -> None:
    doc = app_db.get_document("kaffe_aars.txt")
    at = open_page(start(), "import_page.py")
    at.selectbox(key="imp_deldoc").select(doc.id).run()
    warning = at.warning[0].value
    assert "kaffe\\_aars\\.txt" in warning and "kan ikke fortrydes" in warning
    assert f"{number(doc.turns)} ture" in warning and "sætninger" in warning
    assert at.button(key="imp_delete").disabled  # not before the confirmation
    at.checkbox(key="imp_delok").check().run()
    at.button(key="imp_delete").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Slettet: »kaffe\\_aars\\.txt« med ")
    assert "kaffe_aars.txt" not in {d.name for d in app_db.list_documents()}
    coding = open_page(at, "coding.py")
    assert all("kaffe_aars" not in o for o in coding.selectbox(key="kod_doc").options)
    exported = open_page(at, "export_page.py")
    assert "Vesthimmerland" not in exported.selectbox(key="eks_site").options
    assert len(exported.dataframe[0].value) == min(20, len(export.build_frame(app_db)))
    dash = open_page(at, "dashboard.py")
    assert [m.value for m in dash.metric if m.label == "Citater"] == [
        number(c.quotes) for c in dashboard(app_db).themes]


def _sparse(store) -> list:
    """Åse decides one suggestion (in a turn of several sentences); Bo decides all the others
    in that document and codes Åse's turn differently. Returns the segments of Åse's turn."""
    doc = store.get_document("kaffe_aars.txt").id
    segments = store.segments(doc)
    per_turn = {t: [s for s in segments if s.turn == t] for t in {s.turn for s in segments}}
    open_ = store.coding_views(status="suggested", document_id=doc)
    first = next(v for v in open_ if len(per_turn[v.turn]) > 1)
    store.decide(first.id, "accept", "Åse")
    for v in open_:
        if v.id != first.id:
            store.decide(v.id, "accept", "Bo")
    other = next(c.key for c in store.codes() if c.key != first.code_key)
    store.add_coding([per_turn[first.turn][-1].id], other, "Bo")
    return per_turn[first.turn]


def _compare(at, unit: str | None = None):
    at.selectbox(key="eni_a").select("Åse").run()
    at.selectbox(key="eni_b").select("Bo").run()
    if unit:
        at.selectbox(key="eni_unit").select(unit).run()
    assert not at.exception
    return at


def test_agreement_warns_about_a_sparse_coder(app_db) -> None:
    assert len(_sparse(app_db)) == 2  # Åse reviewed one turn of two sentences
    at = _compare(open_page(start(), "agreement.py"))
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("**Åse** har kun gennemgået 2 sætninger (**Bo**: ")
               and "mindst 20 sætninger" in w for w in warnings), warnings
    assert [m.value for m in at.metric if m.label == "Sammenlignede enheder"]


def test_agreement_turn_unit_lists_whole_turns(app_db) -> None:
    turn = _sparse(app_db)
    at = _compare(open_page(start(), "agreement.py"), "turn")
    lines = [m.value for m in at.markdown if f", tur {turn[0].turn}:" in m.value]
    assert len(lines) == 1  # one row for the turn, not one per sentence
    assert all(md(s.text) in lines[0] for s in turn)
    assert not [b for b in at.button if b.label in ("Behold", "Forkast")]
    assert at.warning and "1 tur " in at.warning[0].value
