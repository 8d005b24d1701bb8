"""The Temakapitel page (AppTest against a real database): whole turns per site, pins "til
rapporten" with who and when, the link to Kodning, the read-only lead view, the report's
download made by the core."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs

import pytest
from docx import Document
from streamlit.testing.v1 import AppTest

from evaltool import report as rp
from tests.app_util import ROOT, open_page, start


def _theme(store) -> str:
    """The first theme with accepted quotes (the gold codings of one transcript)."""
    codes = {c.key: c for c in store.codes()}
    return sorted({t for v in store.coding_views(status="accepted")
                   for t in codes[v.code_key].themes})[0]


def _chapter(at: AppTest, theme: str) -> AppTest:
    open_page(at, "chapter_page.py")
    at.selectbox(key="kap_theme").select(theme).run()
    return at


def _quotes(at: AppTest) -> list[str]:
    """The captions under the quotes, in the page's order ('**Speaker** (role) · … tur N')."""
    return [c.value for c in at.caption if re.search(r", tur \d+", c.value)]


def test_dashboard_cards_link_to_their_chapter(app_db) -> None:
    at = open_page(start(), "dashboard.py")
    links = [link for link in at.page_link if link.value == "Åbn temakapitlet"]
    themes = [t["id"] for t in app_db.active_codebook()["content"]["themes"]]
    assert [link.proto.page for link in links] == ["temakapitel"] * len(themes)
    assert [parse_qs(link.proto.query_string)["tema"] for link in links] == [[t] for t in themes]


def test_the_link_opens_the_theme(app_db) -> None:
    theme = sorted(t["id"] for t in app_db.active_codebook()["content"]["themes"])[-1]
    at = start()
    at.query_params["tema"] = theme
    open_page(at, "chapter_page.py")
    assert at.selectbox(key="kap_theme").value == theme
    assert at.header[0].value.startswith(theme)


def test_quotes_are_whole_turns_with_the_coded_words_marked(app_db) -> None:
    theme = _theme(app_db)
    at = _chapter(start(), theme)
    views = [v for v in app_db.coding_views(status="accepted", theme=theme)]
    turns = {(v.document_id, v.turn) for v in views}
    shown = _quotes(at)
    assert shown and len(shown) <= 3 * len({v.site for v in views})
    # each site's quotes per target group (the Morsø transcript's group is its document's)
    section = rp.build_chapter(app_db, theme).sections[0]
    assert section.by_target_group
    assert any(c.value.endswith("pr. målgruppe: " + ", ".join(
        f"{g} {n}" for g, n in section.by_target_group.items())) for c in at.caption)
    texts = {t.number: t.text for t in app_db.turns(views[0].document_id)}
    for caption in shown:
        turn = int(re.search(r", tur (\d+)", caption).group(1))
        assert (views[0].document_id, turn) in turns
    quotes = [m.value for m in at.markdown if ":orange-background[" in m.value]
    assert len(quotes) == len(shown)
    for v in views:  # each shown turn's coded sentence is marked inside the whole turn
        if f"tur {v.turn}" in " ".join(shown):
            plain = [q.replace("\\", "") for q in quotes]
            runs = [r for q in plain for r in re.findall(r":orange-background\[(.*?)\]\*\*", q)]
            assert any(v.text in r for r in runs)
            assert any(texts[v.turn].replace("\\", "") == re.sub(
                r"\*\*:orange-background\[(.*?)\]\*\*", r"\1", q) for q in plain)


def test_pinning_puts_the_quote_first_says_so_and_unpinning_takes_it_out(app_db) -> None:
    theme = _theme(app_db)
    at = _chapter(start("Åse"), theme)
    before = _quotes(at)
    assert len(before) >= 2
    pins = [b for b in at.button if b.label == "Til rapporten"]
    pins[-1].click().run()
    stored = app_db.quote_pins(theme)
    assert [(p.theme, p.coder) for p in stored] == [(theme, "Åse")]
    assert "valgt til rapporten" in at.success[0].value
    after = _quotes(at)
    assert after[0] == before[-1]  # the pinned quote leads its site's section
    assert sorted(after) == sorted(before)
    flag = next(m.value for m in at.markdown if "Valgt til rapporten" in m.value)
    assert "Åse" in flag and stored[0].at.strftime("%d.%m.%Y") in flag
    assert [e.action for e in app_db.history(
        next(v.segment_id for v in app_db.coding_views(status="all")
             if v.id == stored[0].coding_id))][-1] == "pin"
    next(b for b in at.button if b.label == "Tag ud af rapporten").click().run()
    assert app_db.quote_pins(theme) == []
    assert "taget ud af rapporten" in at.success[0].value
    assert _quotes(at) == before


def test_quotes_link_to_their_turn_in_kodning(app_db) -> None:
    theme = _theme(app_db)
    at = _chapter(start(), theme)
    link = next(link for link in at.page_link if link.value == "Åbn i Kodning")
    scripts = {p["page_script_hash"]: p["script_path"] for p in at._registered_pages.values()}
    assert scripts[link.proto.page_script_hash].endswith("coding.py")
    params = {k: v[0] for k, v in parse_qs(link.proto.query_string).items()}
    doc = next(d for d in app_db.list_documents() if str(d.id) == params["dokument"])
    # what the link does: Kodning shows that document's view at that turn's page
    at.query_params.update(params)
    open_page(at, "coding.py")
    assert at.selectbox(key="kod_doc").value == doc
    assert at.segmented_control(key="kod_view").value == "Dokument"
    assert any(f"Tur {params['tur']} er åbnet" in i.value for i in at.info)
    assert "dokument" not in at.query_params  # taken off: the coder's choices hold after it


def test_the_lead_view_shows_pins_and_a_named_lead_pins_but_codes_nothing(app_db, monkeypatch) -> None:
    theme = _theme(app_db)
    coding = next(v for v in app_db.coding_views(status="accepted", theme=theme))
    app_db.pin_quote(coding.id, theme, "Lene")
    monkeypatch.setenv("EVALTOOL_MODE", "lead")
    at = _chapter(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run(), theme)
    assert any("Valgt til rapporten" in m.value and "Lene" in m.value for m in at.markdown)
    assert not [b for b in at.button if b.label in ("Til rapporten", "Tag ud af rapporten")]
    assert not [link for link in at.page_link if link.value == "Åbn i Kodning"]
    assert [d.label for d in at.get("download_button")] == ["Hent rapport (Word)",
                                                            "Hent rapport (Markdown)"]
    # the lead gives a name in the sidebar and chooses a quote for the report (issue #15)
    at.text_input(key="lead_name").input("Lis").run()
    before = [(v.id, v.status, v.coder) for v in app_db.coding_views(status="all")]
    pin = next(b for b in at.button if b.label == "Til rapporten")
    pin.click().run()
    assert any("Lis" in p.coder for p in app_db.quote_pins(theme))
    assert len(app_db.quote_pins(theme)) == 2
    assert [(v.id, v.status, v.coder) for v in app_db.coding_views(status="all")] == before
    assert any("Valgt til rapporten" in m.value and "Lis" in m.value for m in at.markdown)
    assert not [link for link in at.page_link if link.value == "Åbn i Kodning"]


def test_transcript_text_stays_text() -> None:
    from evaltool.ui.pages.chapter_page import marked

    text = "<script>alert(1)</script> **fed** [x](y) og mere"
    out = marked(text, ((0, 8),))
    assert "<script>" not in out and "**fed**" not in out and "](" not in out
    assert out.startswith("**:orange-background[\\<script\\>]**")
    # coded sentences with only a space between them are one marked run
    assert marked("Én. To. Tre.", ((0, 3), (4, 7))) == "**:orange-background[Én\\. To\\.]** Tre\\."


@pytest.mark.parametrize("only", [False, True])
def test_the_report_download_is_the_core_report_with_the_page_filters(app_db, only) -> None:
    from evaltool.ui.pages.chapter_page import _report_bytes

    theme = _theme(app_db)
    coding = next(v for v in app_db.coding_views(status="accepted", theme=theme))
    app_db.pin_quote(coding.id, theme, "Åse")
    data = _report_bytes((theme,) if only else None, None, ("accepted",), 3, False, "docx")
    doc = Document(io.BytesIO(data))
    chapters = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"
                and p.text.startswith("Tema ")]
    themes = [t["id"] for t in app_db.active_codebook()["content"]["themes"]]
    assert [c.split(":")[0] for c in chapters] == [f"Tema {t}" for t in
                                                   ([theme] if only else themes)]
    texts = [p.text for p in doc.paragraphs]
    assert any("valgt til rapporten" in t for t in texts)
    md = _report_bytes((theme,), None, ("accepted",), 3, False, "md").decode("utf-8")
    assert md.startswith("# Evalueringsrapport") and f"## Tema {theme}:" in md


def test_a_sites_chains_show_with_their_evidence(app_db) -> None:
    doc = app_db.get_document("kaffe_morsoe.txt").id
    segs = {s.text: s.id for s in app_db.segments(doc)}
    views = app_db.coding_views(status="accepted", document_id=doc)
    have = {(v.segment_id, v.code_key) for v in views}
    strategy = segs["Kommunens strategi om samskabelse hjalp os også."]
    new_users = segs["Mange havde aldrig før været på biblioteket, og fire fik lånerkort."]
    for seg, code in ((strategy, "ctx_strategi"), (strategy, "mek_kaffe"),
                      (new_users, "udf_nye_brugere")):
        if (seg, code) not in have:
            app_db.add_as("Lene", [seg], code)
    labels = {c.key: c.label for c in app_db.codes()}
    at = _chapter(start(), "T1")
    table = next(d.value for d in at.dataframe if "Mekanisme" in d.value.columns)
    row = table[(table["Udfald"] == labels["udf_nye_brugere"])
                & (table["Kontekst"] == labels["ctx_strategi"])].iloc[0]
    assert (row["Mekanisme"], row["Steder"], row["Dokumenter"]) == (labels["mek_kaffe"], 1, 1)
    chain = (f"{labels['ctx_strategi']} → {labels['mek_kaffe']} → "
             f"{labels['udf_nye_brugere']}")
    box = next(e for e in at.expander if e.label.replace("\\", "") == f"Belæg: {chain}")
    shown = [m.value.replace("\\", "") for m in box.markdown]
    # the outcome's turn first, then the turn with the context and the mechanism
    assert ":orange-background[Mange havde aldrig før været på biblioteket" in shown[0]
    assert ":orange-background[Kommunens strategi om samskabelse hjalp os også.]" in shown[1]
    assert ", tur 5" in box.caption[0].value and ", tur 6" in box.caption[1].value


def test_the_pseudonymised_download_names_no_speaker(app_db) -> None:
    from evaltool.ui.pages.chapter_page import _report_bytes

    theme = _theme(app_db)
    speakers = {v.speaker for v in app_db.coding_views(status="accepted", theme=theme)}
    plain = _report_bytes((theme,), None, ("accepted",), 3, False, "md").decode("utf-8")
    assert any(s in plain for s in speakers)
    text = _report_bytes((theme,), None, ("accepted",), 3, True, "md").decode("utf-8")
    assert "Navne er erstattet af pseudonymer." in text
    assert not [s for s in speakers if s in text]


def test_a_target_group_narrows_the_counts_the_quotes_and_the_download(app_db) -> None:
    from evaltool.ui.pages.chapter_page import _report_bytes

    # Karen gets her own target group; the rest of Morsø keeps the document's (Senioren)
    doc = app_db.get_document("kaffe_morsoe.txt").id
    app_db.set_attributes(doc, {"target_group": "Bibliotekarer"}, speaker="Karen", actor="Lene")
    views = app_db.coding_views(status="accepted", theme="T1")
    every = len({v.segment_id for v in views})
    karens = len({v.segment_id for v in views if v.speaker == "Karen"})
    assert 0 < karens < every
    at = _chapter(start(), "T1")
    assert at.metric[0].value == str(every)
    at.selectbox(key="kap_group").select("Bibliotekarer").run()
    assert at.metric[0].value == str(karens)
    assert any(c.value == "Kun citater fra målgruppen Bibliotekarer." for c in at.caption)
    shown = _quotes(at)
    assert shown and all(c.startswith("**Karen**") for c in shown)
    # the download is the report of that target group
    text = _report_bytes(("T1",), None, ("accepted",), 3, False, "md", "Bibliotekarer"
                         ).decode("utf-8")
    assert "Målgruppe: Bibliotekarer." in text and f"{karens} citat" in text and "Bent" not in text
