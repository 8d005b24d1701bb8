"""The evaluation report: read the .docx back and check its chapters, quotes and numbers
against the database; the Markdown says the same; pseudonymised output has no real names."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document

from evaltool import codebook, gold
from evaltool import nlp as nlp_mod
from evaltool import pseudonymize as ps
from evaltool import report as rp
from evaltool.cli import cli
from evaltool.importer import import_paths
from tests.conftest import BIBLIOTEK, FIXTURES

THREE_THEMES = (FIXTURES / "mini_kodebog.yaml").read_text(encoding="utf-8").replace(
    "  - {id: T2, label: Kommunen, goals: [G2]}\n",
    "  - {id: T2, label: Kommunen, goals: [G2]}\n"
    "  - {id: T3, label: Samarbejdet, goals: [G2]}\n").replace(
    "    themes: [T2]\n    goals: [G2]\n    parent: udf_nye_brugere",
    "    themes: [T2, T3]\n    goals: [G2]\n    parent: udf_nye_brugere")


@pytest.fixture
def report_store(any_store, tmp_path: Path, blank_nlp):
    """Three sites (Morsø, Vesthimmerland with gold codings; Tønder coded by hand with a
    whole CMO chain in one turn) and a codebook of three themes (SQLite and PostgreSQL)."""
    store = any_store
    assert "T3, label" in THREE_THEMES and "themes: [T2, T3]" in THREE_THEMES
    book = tmp_path / "tre_temaer.yaml"
    book.write_text(THREE_THEMES, encoding="utf-8")
    toender = tmp_path / "bibliotek_toender.txt"
    toender.write_text(BIBLIOTEK, encoding="utf-8")
    paths = [FIXTURES / "kaffe_morsoe.txt", FIXTURES / "kaffe_aars.txt", toender]
    assert import_paths(paths, store, lambda: blank_nlp).failed == 0
    store.load_codebook(codebook.load(book), book.name)
    assert gold.load_gold(store, FIXTURES / "gold") == 7
    doc = store.get_document("bibliotek_toender.txt").id
    segs = {s.text: s.id for s in store.segments(doc)}
    store.add_as("Lene", [segs["Kommunens strategi gav os ryg."]], "ctx_strategi")
    store.add_as("Lene", [segs["Vi satte kaffe på bordet."]], "mek_kaffe")
    store.add_as("Lene", [segs["Der kom nye brugere."]], "udf_nye_brugere")
    return store


def _headings(doc, level: int) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name == f"Heading {level}"]


def _section(doc, chapter: str, site: str) -> list[str]:
    """The paragraphs' texts of one site's section in one theme chapter."""
    out, in_chapter, in_site = [], False, False
    for p in doc.paragraphs:
        if p.style.name == "Heading 1":
            in_chapter, in_site = p.text.startswith(chapter), False
        elif p.style.name == "Heading 2":
            in_site = in_chapter and p.text == site
        elif in_site:
            out.append(p.text)
    return out


def _chapter(doc, chapter: str) -> list[str]:
    """The paragraphs' texts of one theme chapter (its sections' too)."""
    out, inside = [], False
    for p in doc.paragraphs:
        if p.style.name == "Heading 1":
            inside = p.text.startswith(chapter)
        elif inside:
            out.append(p.text)
    return out


def _pin_morsoe_kaffe(store) -> int:
    """Pin the weaker of Morsø's two kaffe quotes ('Og kagen!', a short suggestion-free turn)."""
    coding = next(v for v in store.coding_views(status="accepted", code_key="mek_kaffe")
                  if v.text == "Og kagen!")
    store.pin_quote(coding.id, "T1", "Lene")
    return coding.id


def test_docx_has_a_danish_chapter_per_theme_with_the_databases_counts(report_store,
                                                                        tmp_path: Path) -> None:
    store = report_store
    out = rp.write_report(rp.build_report(store), tmp_path / "rapport.docx")
    doc = Document(str(out))
    assert _headings(doc, 1) == ["Tema T1: Borgerne", "Tema T2: Kommunen",
                                 "Tema T3: Samarbejdet", "Målopfyldelse", "Bilag: Metode"]
    assert doc.paragraphs[0].text == "Evalueringsrapport: Lille testkodebog"
    # counts: the theme's distinct quoted sentences at each site, from the database
    for theme in ("T1", "T2", "T3"):
        views = store.coding_views(status="accepted", theme=theme)
        for site in {v.site for v in views}:
            n = len({v.segment_id for v in views if v.site == site})
            lines = _section(doc, f"Tema {theme}", site)
            assert lines[0] == (f"{n} citat." if n == 1 else f"{n} citater."), (theme, site)
    t1 = {v.segment_id for v in store.coding_views(status="accepted", theme="T1")}
    summary = next(p.text for p in doc.paragraphs if p.text.startswith(f"{len(t1)} citater fra"))
    assert "fra 3 steder" in summary
    # the quote is the whole turn, with the speaker's role and the document's target group
    morsoe = _section(doc, "Tema T1", "Morsø")
    turn = "Karen (bibliotekar): Kaffen virkede. Over en kop kaffe begyndte de ældre at fortælle."
    assert turn.split(": ", 1)[1] in morsoe
    assert any(line.startswith("Karen (bibliotekar) · målgruppe: Senioren · kaffe_morsoe.txt, "
                               "tur 2") for line in morsoe)
    # the CMO chain of Tønder, as a table in the chapters of T1 and T2, not in T3's
    rows = [[c.text for c in t.rows[1].cells] for t in doc.tables
            if t.rows[0].cells[0].text == "Sted" and t.rows[0].cells[1].text == "Kontekst"]
    assert rows == [["Tønder", "Kommunal strategi", "Kaffe og uformelt samvær", "Nye brugere",
                     "1", "1"]] * 2
    goals = next(t for t in doc.tables if t.rows[0].cells[0].text == "Mål")
    assert [c.text for c in goals.rows[1].cells][:2] == ["G1", "Relationen til borgerne"]
    assert goals.rows[1].cells[4].text.endswith(" %") and "," in goals.rows[1].cells[4].text
    assert "Lene" in _section_text(doc, "Kodere")


def _section_text(doc, heading: str) -> str:
    paragraphs = doc.paragraphs
    i = next(k for k, p in enumerate(paragraphs) if p.text == heading)
    return paragraphs[i + 1].text


def test_a_pinned_quote_comes_first_in_its_theme_and_site(report_store, tmp_path: Path) -> None:
    store = report_store
    before = Document(str(rp.write_report(rp.build_report(store), tmp_path / "a.docx")))
    quotes = [p.text for p in before.paragraphs if p.style.name == "Quote"]
    first = _section(before, "Tema T1", "Morsø")
    assert first[1].startswith("Ja. Mange havde")  # the strongest turn leads without a pin
    _pin_morsoe_kaffe(store)
    doc = Document(str(rp.write_report(rp.build_report(store), tmp_path / "b.docx")))
    morsoe = _section(doc, "Tema T1", "Morsø")
    assert morsoe[1] == "Og kagen! Folk blev hængende længe efter."
    assert morsoe[2].endswith("valgt til rapporten")
    # the coded words are in bold, the rest of the turn not
    para = next(p for p in doc.paragraphs if p.text == morsoe[1])
    assert [(r.text, bool(r.bold)) for r in para.runs if r.text] == [
        ("Og kagen!", True), (" Folk blev hængende længe efter.", False)]
    # shown once, and not pinned in another site's section
    assert sum(p.text == morsoe[1] for p in doc.paragraphs) == 1
    assert len(quotes) >= 4


def test_markdown_says_the_same(report_store, tmp_path: Path) -> None:
    store = report_store
    _pin_morsoe_kaffe(store)
    text = rp.write_report(rp.build_report(store), tmp_path / "rapport.md", "md").read_text(
        encoding="utf-8")
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## Tema T1: Borgerne", "## Tema T2: Kommunen", "## Tema T3: Samarbejdet",
        "## Målopfyldelse", "## Bilag: Metode"]
    section = text.split("### Morsø", 1)[1]
    assert section.lstrip().startswith("3 citater.\n\n> **Og kagen!** Folk blev")
    assert "| Tønder | Kommunal strategi | Kaffe og uformelt samvær | Nye brugere | 1 | 1 |" in text


def test_one_theme_one_site_and_refusals(report_store, tmp_path: Path) -> None:
    r = rp.build_report(report_store, themes=["T2"], site="Morsø")
    assert [c.key for c in r.chapters] == ["T2"]
    assert [s.site for s in r.chapters[0].sections] == ["Morsø"]
    assert [d[0] for d in r.documents] == ["kaffe_morsoe.txt"]
    with pytest.raises(Exception, match="T9"):
        rp.build_report(report_store, themes=["T9"])


def test_pseudonymized_report_has_no_real_names(report_store, tmp_path: Path) -> None:
    store = report_store
    ner = nlp_mod.load("ner")
    r = rp.build_report(store, pseudonymizer=lambda d: ps.PseudonymizedView(store, d,
                                                                            lambda: ner))
    doc = Document(str(rp.write_report(r, tmp_path / "p.docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    text += "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    for name in ("Karen", "Bent", "Lone", "Per (", "Mette", "Søren", "Åse"):
        assert name not in text, name
    assert "Navne er erstattet af pseudonymer." in text
    assert "(bibliotekar)" in text  # roles stay
    md = rp.render_markdown(r)
    assert "Karen" not in md and "Bent" not in md


def test_cli_report_writes_docx_and_refuses_an_unknown_theme(report_store, runner,
                                                            tmp_path: Path) -> None:
    url = report_store.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "rapport.docx"
    result = runner.invoke(cli, ["--db", url, "report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "report with 3 theme chapters written to" in result.output
    assert _headings(Document(str(out)), 1)[0] == "Tema T1: Borgerne"
    bad = runner.invoke(cli, ["--db", url, "report", "--out", str(tmp_path / "x.docx"),
                              "--theme", "T9"])
    assert bad.exit_code == 1 and "T9" in bad.output and not (tmp_path / "x.docx").exists()


def test_markdown_escapes_the_transcripts_markup_and_counts_chains_left_out(
        report_store, tmp_path: Path, monkeypatch, blank_nlp) -> None:
    from tests.conftest import APP_EVIL

    store = report_store
    evil = tmp_path / "ondsindet.txt"
    evil.write_text(APP_EVIL, encoding="utf-8")
    assert import_paths([evil], store, lambda: blank_nlp).failed == 0
    doc = store.get_document("ondsindet.txt").id
    seg = next(s.id for s in store.segments(doc) if "kaffe" in s.text)
    store.add_as("Lene", [seg], "mek_kaffe")
    monkeypatch.setattr(rp, "CHAINS_SHOWN", 0)
    text = rp.render_markdown(rp.build_report(store, themes=["T1"], site="Testby"))
    assert "\\*\\*fed tekst\\*\\*" in text and "\\<b\\>html\\</b\\>" in text
    assert "<script>" not in text and "\\<script\\>" in text
    assert "Ingen kæder af kontekst, mekanisme og udfald i temaet." in text
    text = rp.render_markdown(rp.build_report(store, themes=["T1"]))
    assert "Yderligere 1 kæde med færre citater er ikke vist." in text



def test_a_pinned_span_is_its_whole_turn_with_only_the_spans_words_in_bold(
        report_store, tmp_path: Path) -> None:
    store = report_store
    doc = store.get_document("bibliotek_toender.txt").id
    text = store.document_text(doc)
    start = text.index("Kaffen var god")
    span = store.code_span(doc, start, start + len("Kaffen var god"), "mek_kaffe", coder="Lene")
    store.pin_quote(span.id, "T1", "Lene")
    out = Document(str(rp.write_report(rp.build_report(store), tmp_path / "s.docx")))
    toender = _section(out, "Tema T1", "Tønder")
    assert toender[1] == "Kaffen var god. Strategien var klar. Det var hyggeligt."
    assert toender[2].startswith("Søren (frivillig)") and toender[2].endswith("valgt til rapporten")
    para = next(p for p in out.paragraphs if p.text == toender[1])
    assert [r.text for r in para.runs if r.bold] == ["Kaffen var god"]
    # its count is the database's: the span's sentence joins the theme's quotes there
    views = store.coding_views(status="accepted", theme="T1", site="Tønder")
    assert toender[0] == f"{len({v.segment_id for v in views})} citater."


def test_a_chapter_counts_quotes_per_target_group_the_speakers_before_the_documents(
        report_store, tmp_path: Path) -> None:
    store = report_store
    doc = store.get_document("bibliotek_toender.txt").id
    store.set_attributes(doc, {"target_group": "Borgere"}, actor="Lene")
    store.set_attributes(doc, {"target_group": "Bibliotekarer"}, speaker="Mette", actor="Lene")
    out = Document(str(rp.write_report(rp.build_report(store), tmp_path / "g.docx")))
    summaries = [p.text for p in out.paragraphs if " citater fra " in p.text]
    # T1: Morsø's three sentences (the document's Senioren), Mette's two in Tønder (her own
    # group, not her document's); Vesthimmerland names no target group
    assert summaries[0].endswith("Citater pr. målgruppe: Senioren 3, Bibliotekarer 2.")
    assert "Borgere" not in summaries[0]


def test_the_method_appendix_gives_the_double_coders_agreement(report_store,
                                                               tmp_path: Path) -> None:
    from evaltool import reliability

    store = report_store
    empty = Document(str(rp.write_report(rp.build_report(store), tmp_path / "a.docx")))
    assert _section_text(empty, "Pålidelighed") == "Ingen dokumenter er kodet af to kodere."
    doc = store.get_document("kaffe_aars.txt").id
    store.assign(doc, ["Ana", "Bo"])
    seg = next(s.id for s in store.segments(doc) if s.text.startswith("Vi drak kaffe"))
    store.add_as("Ana", [seg], "mek_kaffe")
    store.add_as("Bo", [seg], "mek_kaffe")
    out = Document(str(rp.write_report(rp.build_report(store), tmp_path / "b.docx")))
    table = next(t for t in out.tables if t.rows[0].cells[0].text == "Kodere")
    row = [c.text for c in table.rows[1].cells]
    r = reliability.reliability(store, "Ana", "Bo")
    assert row[:3] == ["Ana og Bo", str(r.units), "100,0 %"] and r.agreement == 1.0
    assert row[3] == ("–" if r.kappa is None else f"{r.kappa:.2f}".replace(".", ","))


AABENRAA = """---
title: Samtale i Aabenraa
site: Aabenraa
---
Ole (borger): Både og.
Lise (bibliotekar): Kommunens strategi gav os opbakning fra starten. Vi satte kaffe og kage frem hver mandag.
Ole (borger): Jeg har fået lånerkort og kommer her nu hver eneste uge sammen med min nabo.
Lise (bibliotekar): Strategien blev vores løftestang. Over kaffen kom der nye brugere.
"""

BROENDERSLEV = """---
title: Samtale i Brønderslev
site: Brønderslev
target_group: Familier
---
Hanne (bibliotekar): Strategien om samskabelse åbnede dørene for os. Vi drak kaffe med forvaltningerne.
Jens (leder): Socialforvaltningen inviterer os nu med til deres møder.
Jobcentret har også spurgt efter os. Sundhedsplejen vil gerne have os med.
Kommunen ringer og inviterer os hver måned.
"""


@pytest.fixture
def chain_store(report_store, tmp_path: Path, blank_nlp):
    """The report's store plus Aabenraa and Brønderslev, coded by hand so that:
    chain X (strategi → kaffe → nye brugere) has Tønder and Aabenraa, three outcome
    sentences; chain Y (strategi → kaffe → invitationer) has Brønderslev only, with four,
    and Aabenraa's "Både og." (a fragment, coded with both outcomes) next to a whole chain."""
    store = report_store
    for name, text in (("aabenraa.txt", AABENRAA), ("broenderslev.txt", BROENDERSLEV)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert import_paths([tmp_path / "aabenraa.txt", tmp_path / "broenderslev.txt"], store,
                        lambda: blank_nlp).failed == 0

    def code(doc_name: str, texts: dict[str, list[str]]) -> None:
        doc = store.get_document(doc_name).id
        segs = {s.text: s.id for s in store.segments(doc)}
        for key, sentences in texts.items():
            store.add_as("Lene", [segs[t] for t in sentences], key)

    code("aabenraa.txt", {
        "udf_nye_brugere": ["Både og.", "Jeg har fået lånerkort og kommer her nu hver eneste uge "
                            "sammen med min nabo.", "Over kaffen kom der nye brugere."],
        "udf_invitationer": ["Både og."],
        "ctx_strategi": ["Kommunens strategi gav os opbakning fra starten.",
                         "Strategien blev vores løftestang."],
        "mek_kaffe": ["Vi satte kaffe og kage frem hver mandag.", "Over kaffen kom der nye brugere."]})
    code("broenderslev.txt", {
        "ctx_strategi": ["Strategien om samskabelse åbnede dørene for os."],
        "mek_kaffe": ["Vi drak kaffe med forvaltningerne."],
        "udf_invitationer": ["Socialforvaltningen inviterer os nu med til deres møder.",
                             "Jobcentret har også spurgt efter os.",
                             "Sundhedsplejen vil gerne have os med.",
                             "Kommunen ringer og inviterer os hver måned."]})
    doc = store.get_document("aabenraa.txt").id
    store.set_attributes(doc, {"target_group": "Seniorer"}, speaker="Ole", actor="Lene")
    return store


def _chain_rows(doc, chapter: str) -> list[list[str]]:
    """The rows of a chapter's chain table."""
    in_chapter, out = False, []
    body = doc.element.body
    for el in body.iterchildren():
        tag = el.tag.rsplit("}", 1)[1]
        if tag == "p":
            style = el.find(".//{*}pStyle")
            text = "".join(t.text or "" for t in el.iter("{*}t"))
            if style is not None and style.get(
                    "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val") in (
                    "Heading1", "Heading 1"):
                in_chapter = text.startswith(chapter)
        elif tag == "tbl" and in_chapter:
            rows = [["".join(t.text or "" for t in c.iter("{*}t")) for c in r.iter("{*}tc")]
                    for r in el.iter("{*}tr")]
            if rows[0][:2] == ["Sted", "Kontekst"]:
                out += rows[1:]
    return out


def test_chains_rank_by_sites_then_documents_then_quotes(chain_store, tmp_path: Path) -> None:
    doc = Document(str(rp.write_report(rp.build_report(chain_store), tmp_path / "c.docx")))
    # T2 (Kommunen) holds both chains: X at two sites leads Y's four quotes at one
    assert _chain_rows(doc, "Tema T2") == [
        ["Aabenraa, Tønder", "Kommunal strategi", "Kaffe og uformelt samvær", "Nye brugere",
         "2", "3"],
        ["Brønderslev", "Kommunal strategi", "Kaffe og uformelt samvær",
         "Invitationer fra forvaltninger", "1", "4"]]
    # T3 holds Y only; Aabenraa's fragment gives it no support there
    assert _chain_rows(doc, "Tema T3") == [
        ["Brønderslev", "Kommunal strategi", "Kaffe og uformelt samvær",
         "Invitationer fra forvaltninger", "1", "4"]]


def test_chain_evidence_is_the_outcomes_turn_and_never_a_fragment(chain_store) -> None:
    r = rp.build_report(chain_store)
    t2 = next(c for c in r.chapters if c.key == "T2")
    x = t2.chains[0]
    assert (x.sites, x.documents, x.quotes) == (("Aabenraa", "Tønder"), 2, 3)
    # the whole chain sits in Lise's last turn: that turn is the evidence, alone, although
    # Ole's outcome sentence is longer (its context and mechanism are in another turn)
    assert [q.text for q in x.evidence] == [
        "Strategien blev vores løftestang. Over kaffen kom der nye brugere."]
    q = x.evidence[0]
    assert [q.text[a:b] for a, b in q.marks] == ["Strategien blev vores løftestang.",
                                                 "Over kaffen kom der nye brugere."]
    assert (q.speaker, q.role, q.document, q.turn) == ("Lise", "bibliotekar", "aabenraa.txt", 4)
    every = [e for ch in r.chapters for c in ch.chains + [c for s in ch.sections for c in s.chains]
             + [c for cs in ch.chains_by_target_group.values() for c in cs] for e in c.evidence]
    assert every and not any("Både og." in e.text for e in every)
    markdown = rp.render_markdown(r)
    assert "Både og." not in markdown


def test_chains_per_target_group_of_the_outcomes_speaker(chain_store, tmp_path: Path) -> None:
    r = rp.build_report(chain_store)
    t2 = next(c for c in r.chapters if c.key == "T2")
    groups = t2.chains_by_target_group
    # Ole's outcome (his own group) and Brønderslev's (its document's group); Lise has none
    assert {g: [(c.outcome, c.quotes) for c in cs] for g, cs in groups.items()} == {
        "Familier": [("Invitationer fra forvaltninger", 4)], "Seniorer": [("Nye brugere", 1)]}
    # Ole's chain: his outcome turn first, the context and mechanism beside it
    seniors = groups["Seniorer"][0]
    assert [(q.speaker, q.turn) for q in seniors.evidence] == [("Ole", 3), ("Lise", 2)]
    assert [seniors.evidence[1].text[a:b] for a, b in seniors.evidence[1].marks] == [
        "Kommunens strategi gav os opbakning fra starten.",
        "Vi satte kaffe og kage frem hver mandag."]
    doc = Document(str(rp.write_report(r, tmp_path / "g.docx")))
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert ("Seniorer: Kommunal strategi → Kaffe og uformelt samvær → Nye brugere "
            "(1 sted, 1 dokument, 1 citat)") in bullets
    # a site's section has the theme's chains seen there
    aabenraa = next(s for s in t2.sections if s.site == "Aabenraa")
    assert [(c.outcome, c.quotes) for c in aabenraa.chains] == [("Nye brugere", 2)]


def test_the_dashboard_and_the_report_pick_the_same_strongest_quote(chain_store) -> None:
    from evaltool import analysis

    store = chain_store
    for site in ("Morsø", "Aabenraa", "Brønderslev"):
        board = analysis.dashboard(store, site=site)
        r = rp.build_report(store, site=site)
        for card, chapter in zip(board.themes, r.chapters, strict=True):
            if not card.strongest:
                continue
            best = card.strongest[0]
            first = chapter.sections[0].shown[0]
            assert (first.document, first.turn) == (best.document, best.turn), (site, card.id)
            assert best.text in first.text


def test_each_theme_chapter_has_its_chart_as_a_picture(report_store, tmp_path: Path) -> None:
    doc = Document(str(rp.write_report(rp.build_report(report_store), tmp_path / "p.docx")))
    pictures: dict[str, int] = {}
    chapter = None
    for p in doc.paragraphs:
        if p.style.name == "Heading 1":
            chapter = p.text
            pictures[chapter] = 0
        elif chapter is not None:
            pictures[chapter] += len(p._p.findall(".//{*}drawing"))
    assert pictures == {"Tema T1: Borgerne": 1, "Tema T2: Kommunen": 1,
                        "Tema T3: Samarbejdet": 1, "Målopfyldelse": 0, "Bilag: Metode": 0}
    # each is a PNG (vl-convert's rendering of the chapter's chart)
    images = [part for part in doc.part.package.parts if part.content_type == "image/png"]
    assert images and all(part.blob.startswith(b"\x89PNG") for part in images)


def _group_store(store):
    """Tønder's document is for 'Borgere', its librarian Mette for 'Bibliotekarer' (her own
    group); Søren and Åse (the document's group) each have coded words too (spans long
    enough to be quoted)."""
    doc = store.get_document("bibliotek_toender.txt").id
    store.set_attributes(doc, {"target_group": "Borgere"}, actor="Lene")
    store.set_attributes(doc, {"target_group": "Bibliotekarer"}, speaker="Mette", actor="Lene")
    text = store.document_text(doc)
    for words, key in (("Kaffen var god. Strategien var klar. Det var hyggeligt.", "mek_kaffe"),
                       ("Jeg fik lånerkort. Kagen var lækker. Vi talte længe.",
                        "udf_nye_brugere")):
        start = text.index(words)
        store.code_span(doc, start, start + len(words), key, coder="Lene")
    return store


@pytest.mark.parametrize("group, speakers", [("Bibliotekarer", {"Mette"}),
                                             ("Borgere", {"Søren", "Åse"})])
def test_a_report_for_one_target_group_counts_and_quotes_that_group_only(
        report_store, tmp_path: Path, group: str, speakers: set[str]) -> None:
    store = _group_store(report_store)
    out = rp.write_report(rp.build_report(store, target_group=group), tmp_path / "g.docx")
    doc = Document(str(out))
    paragraphs = [p.text for p in doc.paragraphs]
    # the title page and every chapter's introduction name the target group
    assert f"Målgruppe: {group}." in paragraphs[:6]
    for theme in ("T1", "T2", "T3"):
        views = [v for v in store.coding_views(status="accepted", theme=theme)
                 if v.document == "bibliotek_toender.txt" and v.speaker in speakers]
        n = len({v.segment_id for v in views})
        chapter = _chapter(doc, f"Tema {theme}")
        assert chapter[0] == f"Kapitlet omfatter kun citater fra målgruppen {group}."
        summary = next(p for p in chapter[1:] if " fra " in p and "citat" in p)
        assert summary.startswith(f"{n} {'citat' if n == 1 else 'citater'} fra "
                                  f"{'1 sted' if n else '0 steder'}"), (theme, summary)
        # only Tønder has quotes of the group: no section of Morsø or Vesthimmerland
        if n:
            assert _section(doc, f"Tema {theme}", "Tønder")[0] == \
                (f"{n} citat." if n == 1 else f"{n} citater.")
        assert not _section(doc, f"Tema {theme}", "Morsø")
        assert not _section(doc, f"Tema {theme}", "Vesthimmerland")
    # every quote is a turn of the group's speakers, and each of theirs is there
    who = [p.text for p in doc.paragraphs
           if p.style.name != "Quote" and ", tur " in p.text and " · " in p.text]
    assert who and {w.split(" ", 1)[0] for w in who} == speakers
    # the Markdown says the same
    text = rp.render_markdown(rp.build_report(store, target_group=group))
    assert f"Målgruppe: {group}." in text and "### Morsø" not in text


def test_cli_report_takes_a_target_group_and_refuses_an_unknown_one(report_store, runner,
                                                                  tmp_path: Path) -> None:
    store = _group_store(report_store)
    url = store.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "r.md"
    result = runner.invoke(cli, ["--db", url, "report", "--out", str(out), "--format", "md",
                                 "--target-group", "Bibliotekarer"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "Målgruppe: Bibliotekarer." in text and "Karen" not in text and "Mette" in text
    bad = runner.invoke(cli, ["--db", url, "report", "--out", str(tmp_path / "x.md"),
                              "--target-group", "Ingen"])
    assert bad.exit_code == 1 and "Ingen" in bad.output and not (tmp_path / "x.md").exists()
