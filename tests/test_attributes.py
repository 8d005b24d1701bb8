"""Attributes of documents and speakers: set, unset, checks, history, and the target-group
rule (a quote's target group is its speaker's when given, else its document's), counted
by hand on the ten-sentence Tønder transcript, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from evaltool import analysis
from evaltool import attributes as attrs
from evaltool.domain import quote_target_groups
from evaltool.errors import AttributeInputError, NotFoundError
from evaltool.store.attributes import ATTRIBUTE_ACTION
from evaltool.store.models import Event


@pytest.fixture
def doc(team_store):
    """The store and the Tønder document's id (speakers Mette, Søren, Åse)."""
    return team_store, team_store.list_documents()[0].id


def _events(store) -> list:
    with store.engine.connect() as conn:
        return conn.execute(select(Event.action, Event.before, Event.after)
                            .where(Event.action == ATTRIBUTE_ACTION).order_by(Event.id)).all()


def test_document_attributes_set_and_unset_in_columns_too(doc) -> None:
    store, doc_id = doc
    assert store.attributes(doc_id) == {"site": "Tønder", "title": "Kaffe på biblioteket"}
    after = store.set_attributes(doc_id, {"site": "Aabenraa", "target_groups": "Senioren, Unge"},
                                 actor="Åse")
    assert after == {"site": "Aabenraa", "target_groups": ["Senioren", "Unge"],
                     "title": "Kaffe på biblioteket"}
    info = store.get_document(doc_id)
    assert info.site == "Aabenraa" and info.target_groups == ["Senioren", "Unge"]
    store.set_attributes(doc_id, unset=["site"])
    assert store.get_document(doc_id).site is None
    assert "site" not in store.attributes(doc_id)
    events = _events(store)
    assert [(e.before["key"], e.before["value"], e.after["value"]) for e in events] == [
        ("site", "Tønder", "Aabenraa"), ("target_groups", None, ["Senioren", "Unge"]),
        ("site", "Aabenraa", None)]


def test_speaker_attributes_and_role(doc) -> None:
    store, doc_id = doc
    assert store.attributes(doc_id, "Søren") == {"role": "frivillig"}
    store.set_attributes(doc_id, {"target_group": "Frivillige", "gender": "mand",
                                  "role": "foreningsformand"}, speaker="Søren", actor="Åse")
    assert store.attributes(doc_id, "Søren") == {
        "gender": "mand", "role": "foreningsformand", "target_group": ["Frivillige"]}
    assert [t.role for t in store.turns(doc_id)] == ["bibliotekar", "foreningsformand", "borger"]
    speakers = {s.name: s for s in store.speaker_facets()}
    assert speakers["Søren"].target_groups == ["Frivillige"]
    assert speakers["Mette"].attributes == {"role": "bibliotekar"}
    assert [e.after["speaker_id"] for e in _events(store)] == [speakers["Søren"].id] * 3
    history = store.attribute_history(doc_id)
    assert [(h.coder, h.speaker, h.key, h.before, h.after) for h in history] == [
        ("Åse", "Søren", "role", "frivillig", "foreningsformand"),
        ("Åse", "Søren", "gender", None, "mand"),
        ("Åse", "Søren", "target_group", None, ["Frivillige"])]  # newest first
    store.set_attributes(doc_id, unset=["gender"], speaker="Søren")
    assert "gender" not in store.attributes(doc_id, "Søren")


def test_bad_input_writes_nothing(doc) -> None:
    store, doc_id = doc
    version = store.data_version()
    for values, kind in [({"bad key": "x"}, "bad_key"), ({"gender": " "}, "empty_value"),
                         ({"gender": "x" * 201}, "long_value"), ({"gender": "a\nb"}, "control"),
                         ({"9x": "y"}, "bad_key"), ({"age": ["a"]}, "bad_value")]:
        with pytest.raises(AttributeInputError) as err:
            store.set_attributes(doc_id, {"gender": "kvinde", **values}, speaker="Åse")
        assert err.value.kind == kind and "\n" not in str(err.value)
    with pytest.raises(NotFoundError, match="no speaker 'Ukendt'"):
        store.set_attributes(doc_id, {"gender": "kvinde"}, speaker="Ukendt")
    with pytest.raises(NotFoundError, match="no attribute 'gender'"):
        store.set_attributes(doc_id, {"age_band": "70+"}, unset=["gender"], speaker="Åse")
    with pytest.raises(NotFoundError):
        store.set_attributes(doc_id + 99, {"gender": "kvinde"})
    assert store.attributes(doc_id, "Åse") == {"role": "borger"}
    assert store.data_version() == version and _events(store) == []


def test_a_change_changes_the_data_version(doc) -> None:
    store, doc_id = doc
    before = store.data_version()
    store.set_attributes(doc_id, {"target_group": "Seniorer"}, speaker="Åse")
    middle = store.data_version()
    store.set_attributes(doc_id, {"target_group": "Seniorer"}, speaker="Åse")  # no change
    assert before != middle == store.data_version()
    store.set_attributes(doc_id, {"target_group": "Unge"}, speaker="Åse")
    assert store.data_version() != middle


def test_deleting_a_document_removes_its_speakers_attributes(doc) -> None:
    from evaltool.store.models import SpeakerAttribute

    store, doc_id = doc
    store.set_attributes(doc_id, {"gender": "kvinde"}, speaker="Åse")
    store.delete_document(doc_id, actor="Åse")
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(SpeakerAttribute)) == 0


def test_parse_and_check_values() -> None:
    assert attrs.parse_assignment("age_band=70+") == ("age_band", "70+")
    assert attrs.parse_assignment("x=a=b") == ("x", "a=b")
    with pytest.raises(AttributeInputError, match="KEY=VALUE"):
        attrs.parse_assignment("gender")
    assert attrs.check_value("target_groups", ["A", " ", "A", "B"]) == ["A", "B"]
    assert attrs.check_value("målgruppe", " Seniorer, unge ") == "Seniorer, unge"
    assert attrs.check_key(" aldersgruppe ") == "aldersgruppe"


def test_the_target_group_rule() -> None:
    assert quote_target_groups({"target_group": ["Unge"]}, {"target_groups": ["Seniorer"]}) == ["Unge"]
    assert quote_target_groups({"gender": "mand"}, {"target_groups": ["Seniorer"]}) == ["Seniorer"]
    assert quote_target_groups({}, {}) == []


@pytest.fixture
def grouped(doc):
    """Document target group Seniorer; Søren's own target group Frivillige. Codes (by hand):
    A on sentences 0, 1 (Mette) and 3 (Søren); B on 1 (Mette) and 6 (Åse); C on 4 (Søren)."""
    store, doc_id = doc
    segs = [s.id for s in store.segments(doc_id)]
    a, b, c = (code.key for code in store.codes()[:3])
    store.add_coding([segs[0], segs[1], segs[3]], a, "Åse")
    store.add_coding([segs[1], segs[6]], b, "Åse")
    store.add_coding([segs[4]], c, "Åse")
    store.set_attributes(doc_id, {"target_groups": ["Seniorer"]})
    store.set_attributes(doc_id, {"target_group": "Frivillige"}, speaker="Søren")
    return store, doc_id, segs, (a, b, c)


def test_scope_follows_the_rule(grouped) -> None:
    store, doc_id, _, _ = grouped
    sid = {s.name: s.id for s in store.speaker_facets()}
    assert attrs.scope(store, target_group="Frivillige").speakers == (sid["Søren"],)
    assert attrs.scope(store, target_group="Seniorer").speakers == tuple(
        sorted((sid["Mette"], sid["Åse"])))
    assert attrs.scope(store, target_group="Ingen").documents == ()
    by_role = attrs.scope(store, filters=[attrs.AttributeFilter("speaker", "role", "borger")])
    assert by_role.speaker_names == frozenset({(doc_id, "Åse")})
    whole = attrs.scope(store, filters=[attrs.AttributeFilter("document", "site", "Tønder")])
    assert whole.documents == (doc_id,) and whole.speakers is None
    assert analysis.filter_options(store)["target_groups"] == ["Frivillige", "Seniorer"]


def test_reimport_keeps_attributes_the_file_does_not_set(doc, tmp_path, blank_nlp) -> None:
    from evaltool.importer import import_paths
    from tests.conftest import BIBLIOTEK

    store, doc_id = doc
    store.set_attributes(doc_id, {"target_groups": "Seniorer", "title": "Ny titel"})
    store.set_attributes(doc_id, {"target_group": "Frivillige"}, speaker="Søren")
    path = tmp_path / "bibliotek_toender.txt"
    path.write_text(BIBLIOTEK.replace("site: Tønder\n", ""), encoding="utf-8")
    [result] = import_paths([path], store, lambda: blank_nlp, replace=True).results
    new = result.document_id
    # the file sets the title again and no longer names a site: the site and the
    # target groups set by hand are kept, the file's title wins
    assert store.attributes(new) == {"site": "Tønder", "target_groups": ["Seniorer"],
                                     "title": "Kaffe på biblioteket"}
    assert store.get_document(new).site == "Tønder"
    assert store.attributes(new, "Søren") == {"role": "frivillig", "target_group": ["Frivillige"]}


def _quotes(board) -> dict[str, int]:
    return {card.id: card.quotes for card in board.themes}


def test_dashboard_counts_a_quote_for_its_speakers_target_group(grouped) -> None:
    """T1 = mek_kaffe (B) + udf_nye_brugere (C): sentences 1, 6 and 4; T2 = ctx_strategi (A):
    0, 1 and 3. Søren (Frivillige) spoke 3 and 4; Mette and Åse (Seniorer, the document's)
    spoke 0, 1 and 6."""
    store, _, _, _ = grouped
    assert _quotes(analysis.dashboard(store)) == {"T1": 3, "T2": 3}
    assert _quotes(analysis.dashboard(store, target_group="Frivillige")) == {"T1": 1, "T2": 1}
    assert _quotes(analysis.dashboard(store, target_group="Seniorer")) == {"T1": 2, "T2": 2}
    assert _quotes(analysis.dashboard(store, target_group="Ingen")) == {"T1": 0, "T2": 0}
    cards = {card.id: card for card in analysis.dashboard(store).themes}
    assert cards["T1"].target_groups == ["Frivillige", "Seniorer"]
    borger = attrs.AttributeFilter("speaker", "role", "borger")
    assert _quotes(analysis.dashboard(store, filters=[borger])) == {"T1": 1, "T2": 0}
    site = attrs.AttributeFilter("document", "site", "Tønder")
    assert _quotes(analysis.dashboard(store, filters=[site], target_group="Frivillige")) == {
        "T1": 1, "T2": 1}
    frivillige = analysis.dashboard(store, target_group="Frivillige")
    assert {q.segment_id for card in frivillige.themes for q in card.strongest} <= set(
        grouped[2][3:5])


def test_matrix_of_target_groups_and_speaker_attributes(grouped) -> None:
    store, doc_id, segs, (a, b, c) = grouped
    store.set_attributes(doc_id, {"gender": "kvinde"}, speaker="Mette")
    store.set_attributes(doc_id, {"gender": "kvinde"}, speaker="Åse")
    m = store.matrix("target_group")
    assert m.cols == ("Frivillige", "Seniorer")
    assert [[m.count(k, g) for g in m.cols] for k in (a, b, c)] == [[1, 2], [0, 2], [1, 0]]
    assert m.col_totals == {"Frivillige": 3, "Seniorer": 7}  # sentences spoken
    genders = store.matrix("speaker:gender", unit="turn")
    assert genders.cols == ("kvinde",)
    assert [genders.count(k, "kvinde") for k in (a, b, c)] == [1, 2, 0]
    quotes = analysis.matrix_quotes(store, m, a, "Frivillige")
    assert [q.segment_id for q in quotes] == [segs[3]]
    sid = {s.name: s.id for s in store.speaker_facets()}
    only = store.matrix("code", speakers=[sid["Mette"]])
    assert (only.count(a, a), only.count(a, b), only.count(b, b)) == (2, 1, 1)
    scoped = attrs.scope(store, target_group="Seniorer")
    assert [q.segment_id for q in analysis.matrix_quotes(
        store, store.matrix("site", speakers=scoped.speakers), a, "Tønder",
        scope=scoped)] == segs[:2]


def test_export_target_group_column_and_filter(grouped) -> None:
    from evaltool import export

    store, _, _, _ = grouped
    frame = export.build_frame(store)
    assert frame.columns[19] == "target_group" and "target_groups" in frame.columns[20:]
    assert sorted(zip(frame.speaker, frame.target_group, frame.target_groups, strict=True)) == [
        *[("Mette", "Seniorer", "Seniorer")] * 3, ("Søren", "Frivillige", "Seniorer"),
        ("Søren", "Frivillige", "Seniorer"), ("Åse", "Seniorer", "Seniorer")]
    scoped = export.build_frame(store, scope=attrs.scope(store, target_group="Frivillige"))
    assert sorted(scoped.text) == ["Kaffen var god.", "Strategien var klar."]
    turns = export.build_frame(store, unit="turn", scope=attrs.scope(store, filters=[
        attrs.AttributeFilter("speaker", "target_group", "Frivillige")]))
    assert set(turns.speaker) == {"Søren"} and set(turns.target_group) == {"Frivillige"}


def test_cli_lists_sets_and_unsets(doc, team_db, runner) -> None:
    from evaltool.cli import cli

    store, doc_id = doc
    out = runner.invoke(cli, ["--db", team_db, "attributes", str(doc_id), "--speaker", "Søren",
                              "--set", "target_group=Frivillige, Seniorer", "--set",
                              "gender=mand", "--coder", "Åse"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        f"updated speaker Søren of document {doc_id}: 2 set, 0 unset", "  gender: mand",
        "  role: frivillig", "  target_group: Frivillige, Seniorer"]
    listed = runner.invoke(cli, ["--db", team_db, "attributes", str(doc_id)]).output
    assert listed.splitlines()[:3] == [f"document {doc_id} (bibliotek_toender.txt)",
                                       "  site: Tønder", "  title: Kaffe på biblioteket"]
    assert "speaker Søren\n  gender: mand\n  role: frivillig\n" in listed
    out = runner.invoke(cli, ["--db", team_db, "attributes", str(doc_id), "--speaker", "Søren",
                              "--unset", "gender"])
    assert out.exit_code == 0 and "gender" not in out.output
    for args, message in [(["--set", "bad key=x"], "attribute 'bad key': a key is"),
                          (["--set", "gender"], "write KEY=VALUE"),
                          (["--unset", "alder"], "no attribute 'alder'"),
                          (["--speaker", "Ukendt"], "no speaker 'Ukendt'")]:
        bad = runner.invoke(cli, ["--db", team_db, "attributes", str(doc_id), *args])
        assert bad.exit_code == 1 and message in bad.output and len(bad.output.splitlines()) == 1
    assert store.attributes(doc_id, "Søren") == {"role": "frivillig",
                                                 "target_group": ["Frivillige", "Seniorer"]}


def test_cli_export_and_matrix_filter_by_attributes(grouped, team_db, runner, tmp_path) -> None:
    import pandas as pd

    from evaltool.cli import cli

    assert grouped  # Seniorer on the document, Frivillige on Søren
    out = tmp_path / "frivillige.csv"
    done = runner.invoke(cli, ["--db", team_db, "export", "--status", "all", "--out", str(out),
                               "--target-group", "Frivillige"])
    assert done.exit_code == 0, done.output
    back = pd.read_csv(out, keep_default_na=False)
    assert sorted(back.text) == ["Kaffen var god.", "Strategien var klar."]
    assert set(back.target_group) == {"Frivillige"}
    done = runner.invoke(cli, ["--db", team_db, "export", "--status", "all", "--out", str(out),
                               "--where", "speaker:role=bibliotekar", "--where", "site=Tønder"])
    assert done.exit_code == 0, done.output
    assert set(pd.read_csv(out, keep_default_na=False).speaker) == {"Mette"}
    m = runner.invoke(cli, ["--db", team_db, "matrix", "--cols", "target_group",
                            "--target-group", "Seniorer"])
    assert m.exit_code == 0, m.output
    lines = m.output.splitlines()
    assert "Seniorer" in lines[0] and "Frivillige" not in lines[0]
    bad = runner.invoke(cli, ["--db", team_db, "export", "--out", str(out), "--where", "site"])
    assert bad.exit_code == 1 and "write KEY=VALUE" in bad.output
    none = runner.invoke(cli, ["--db", team_db, "matrix", "--cols", "site",
                               "--where", "site=Ingensteds"])
    assert none.exit_code == 1 and "no quotes match" in none.output
