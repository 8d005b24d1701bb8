"""The Søg page: hits in context, coding two hits, Danish messages for unreadable queries."""

from __future__ import annotations

from tests.app_util import open_page, start


def _search(query: str):
    at = open_page(start("Åse"), "search_page.py")
    at.text_input(key="sog_query").input(query).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_hits_show_in_context_and_two_can_be_coded(app_db) -> None:
    hits = app_db.search("kaffe*", lemma=True, limit=100)
    assert len(hits) >= 3
    at = _search("kaffe*")
    assert at.caption[0].value == f"{len(hits)} hits"
    shown = [m.value for m in at.markdown if "**" in m.value]
    assert len(shown) == len(hits) and f"**{hits[0].match}**" in shown[0]
    code = app_db.codes()[-1].key
    before = {v.segment_id for v in app_db.coding_views(status="accepted") if v.code_key == code}
    chosen = [h.segment_id for h in hits[:2] if h.segment_id not in before]
    assert len(chosen) == 2
    for segment_id in chosen:
        at.checkbox(key=f"sog_hit_{segment_id}").check()
    at.selectbox(key="sog_add_code").select(code)
    at.button(key="sog_add").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Kodet: 2 sætninger")
    after = {v.segment_id: v for v in app_db.coding_views(status="accepted")
             if v.code_key == code}
    assert set(chosen) <= set(after) and all(after[s].coder == "Åse" for s in chosen)
    # the coded filter now finds exactly them among the hits
    at.selectbox(key="sog_code").select(code).run()
    coded = [h.segment_id for h in app_db.search("kaffe*", lemma=True, code=code)]
    assert set(chosen) <= set(coded)
    assert at.caption[0].value == f"{len(coded)} {'hit' if len(coded) == 1 else 'hits'}"


def test_unreadable_query_gets_a_danish_message(app_db) -> None:
    at = _search('"kaffe')
    assert [e.value for e in at.error] == [
        'Søgningen kan ikke læses (tegn 1): En frase mangler sit afsluttende anførselstegn (").']
    at.text_input(key="sog_query").input("kaffe OR").run()
    assert "OR skal have et ord" in at.error[0].value


def test_nothing_found(app_db) -> None:
    at = _search("zebraer")
    assert at.caption[0].value == "0 hits"


def test_target_group_and_attribute_filters_narrow_the_hits(app_db) -> None:
    every = app_db.search("kaffe*", lemma=True, limit=100)
    speakers = {(h.document_id, h.speaker) for h in every}
    assert len(speakers) >= 2
    doc_id, speaker = sorted(speakers)[0]
    app_db.set_attributes(doc_id, {"target_group": "Kaffedrikkere"}, speaker=speaker,
                          actor="Åse")
    theirs = [h for h in every if (h.document_id, h.speaker) == (doc_id, speaker)]
    assert 0 < len(theirs) < len(every)
    count = f"{len(theirs)} {'hit' if len(theirs) == 1 else 'hits'}"
    at = _search("kaffe*")
    assert at.caption[0].value == f"{len(every)} hits"
    at.selectbox(key="sog_group").select("Kaffedrikkere").run()
    assert not at.exception
    shown = [c.value for c in at.caption if " · tur " in c.value]
    assert at.caption[0].value == count
    assert len(shown) == len(theirs) and all(f" · {speaker}" in c for c in shown)
    # the same speaker through the shared attribute filter (a speaker attribute)
    at.selectbox(key="sog_group").select("__alle__").run()
    assert at.caption[0].value == f"{len(every)} hits"
    at.selectbox(key="sog_attr").select(("speaker", "target_group")).run()
    at.selectbox(key="sog_attrval_speaker_target_group").select("Kaffedrikkere").run()
    assert not at.exception
    assert at.caption[0].value == count
