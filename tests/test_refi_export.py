"""REFI-QDA export: what evaltool writes validates against the standard's schemas, its
positions select exactly the coded words, and the source texts parse back to the turns."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from evaltool import codebook
from evaltool.cli import cli
from evaltool.importer import import_paths
from evaltool.pseudonymize import PseudonymizedView
from evaltool.refi import schema, write
from tests.conftest import FIXTURES

TRANSCRIPT = """---
title: Kaffe på biblioteket
site: Tønder
moderator: Mette
target_groups: [aeldre, familier]
---
[00:00:05] Mette (bibliotekar): Kommunens strategi gav os ryg. Vi satte kaffe på bordet.

Der kom nye brugere til, sagde Søren.
[00:00:30] Søren Holm (frivillig): Kaffen var god. Strategien var klar.
Åse: Jeg fik lånerkort. Kagen var lækker.
"""
NS = {"q": schema.PROJECT_NS}


@pytest.fixture
def project(store, tmp_path: Path, blank_nlp):
    """One transcript (a two-paragraph turn, a turn without time), the mini codebook (with a
    sub-code), sentence and span codings, a suggestion, every kind of memo and attributes."""
    path = tmp_path / "bibliotek.txt"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    store.load_codebook(codebook.load(FIXTURES / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    segs = store.segments(1)
    text = store.document_text(1)
    store.add_coding([segs[0].id], "ctx_strategi", "Bo", memo="Mette nævner strategien")
    store.add_coding([segs[2].id], "udf_nye_brugere", "Ida")
    store.add_coding([segs[1].id], "mek_kaffe", "Bo", status="suggested", source="rules")
    start = text.index("nye brugere")
    store.code_span(1, start, start + len("nye brugere til"), "udf_invitationer", coder="Ida",
                    memo="Søren siger det")
    start = text.index("Kagen")
    store.code_span(1, start, start + len("Kagen var lækker"), "mek_kaffe", coder="Bo")
    store.add_memo(segs[3].id, "Bo", "Søren er frivillig")
    store.add_document_memo(1, "Ida", "Godt interview med Mette")
    store.add_project_memo("Bo", "Åse & Mette kender hinanden <b>")
    store.set_attributes(1, {"alder": "70+"}, speaker="Åse")
    return store


def _archive(path: Path) -> tuple[bytes, dict[str, str]]:
    with zipfile.ZipFile(path) as z:
        return z.read("project.qde"), {n: z.read(n).decode("utf-8") for n in z.namelist()
                                       if n != "project.qde"}


def test_the_project_validates_and_holds_every_part(project, tmp_path: Path) -> None:
    out = tmp_path / "projekt.qdpx"
    summary = write.write_project(project, out)
    xml, files = _archive(out)
    assert schema.errors(xml, "project") == []
    assert (summary.documents, summary.codings, summary.users) == (1, 4, 2)
    root = etree.fromstring(xml)
    assert sorted(u.get("name") for u in root.iterfind("q:Users/q:User", NS)) == ["Bo", "Ida"]
    # hierarchy: the sub-code sits inside its parent, the description ends in the trailer
    parent = root.find(f"q:CodeBook/q:Codes/q:Code[@guid='{write.guid('code', 'udf_nye_brugere')}']",
                       NS)
    child = parent.find("q:Code", NS)
    assert child.get("name") == "Invitationer fra forvaltninger"
    assert child.find("q:Description", NS).text.splitlines()[-1] == (
        "[evaltool] id=udf_invitationer; cmo=outcome; column=Effekter; themes=T2; goals=G2; "
        "target_groups=")
    assert child.get("color").startswith("#") and len(child.get("color")) == 7
    sets = {s.get("name") for s in root.iterfind("q:Sets/q:Set", NS)}
    assert {"CMO: Kontekst", "Tema T1: Borgerne", "Mål G2: Synlighed i kommunen"} <= sets
    # memos of every kind, the codebook as YAML in its own note
    notes = {n.get("name"): n for n in root.iterfind("q:Notes/q:Note", NS)}
    assert set(notes) == {"coding memo", "segment memo", "document memo", "project memo",
                          write.CODEBOOK_NOTE}
    yaml_text = notes[write.CODEBOOK_NOTE].find("q:PlainTextContent", NS).text
    assert codebook.parse(yaml_text) == codebook.load(FIXTURES / "mini_kodebog.yaml")
    assert len(root.findall("q:NoteRef", NS)) == 2  # project memo and codebook
    assert notes["project memo"].find("q:PlainTextContent", NS).text == (
        "Åse & Mette kender hinanden <b>")
    # document attributes on the source, speakers as cases with their attributes
    source = root.find("q:Sources/q:TextSource", NS)
    variables = {v.get("guid"): v.get("name") for v in root.iterfind("q:Variables/q:Variable", NS)}
    values = {variables[v.find("q:VariableRef", NS).get("targetGUID")]:
              v.find("q:TextValue", NS).text for v in source.iterfind("q:VariableValue", NS)}
    assert values["site"] == "Tønder" and values["target_groups"] == "aeldre, familier"
    assert values["moderator"] == "Mette"
    cases = {c.get("name"): c for c in root.iterfind("q:Cases/q:Case", NS)}
    assert set(cases) == {"Mette", "Søren Holm", "Åse"}

    def case_values(name: str) -> dict[str, str]:
        return {variables[v.find("q:VariableRef", NS).get("targetGUID")]: v[1].text
                for v in cases[name].iterfind("q:VariableValue", NS)}

    assert case_values("Åse") == {"alder": "70+", "is_moderator": "false"}
    assert case_values("Mette") == {"role": "bibliotekar", "is_moderator": "true"}
    assert cases["Åse"].find("q:SourceRef", NS).get("targetGUID") == source.get("guid")
    assert source.get("plainTextPath") == f"internal://{source.get('guid')}.txt"
    assert list(files) == [f"sources/{source.get('guid')}.txt"]


def test_positions_select_exactly_the_coded_words(project) -> None:
    xml, files, _ = write.build_project(project)
    selected = write.selection_texts(xml, files)
    coded = [(("span" if c.is_span else "sentence"), c.text)
             for c in project.coding_views(status="accepted")]
    assert sorted(s for s in selected if s[0] != write.SEGMENT_MEMO_SELECTION) == sorted(coded)
    assert ("span", "nye brugere til") in selected and ("span", "Kagen var lækker") in selected
    memo_sentence = project.segments(1)[3].text
    assert (write.SEGMENT_MEMO_SELECTION, memo_sentence) in selected


def test_the_source_text_parses_back_to_the_same_turns(project, tmp_path: Path,
                                                       blank_nlp) -> None:
    _, files, _ = write.build_project(project)
    (text,) = files.values()
    assert text.startswith("[00:00:05] Mette (bibliotekar): Kommunens strategi")
    again = tmp_path / "igen.txt"
    again.write_text(text, encoding="utf-8")
    assert import_paths([again], project, lambda: blank_nlp).failed == 0
    new_id = max(d.id for d in project.document_facets())
    assert project.document_text(new_id) == project.document_text(1)
    old, new = project.turns(1), project.turns(new_id)
    assert [(t.speaker, t.role, t.start_time, t.start_char, t.end_char) for t in old] == [
        (t.speaker, t.role, t.start_time, t.start_char, t.end_char) for t in new]


def test_status_all_exports_the_suggestion_with_its_status(project) -> None:
    xml, _, summary = write.build_project(project, status="all")
    assert summary.codings == 5
    descriptions = [d.text for d in etree.fromstring(xml).iterfind(
        ".//q:PlainTextSelection/q:Description", NS)]
    assert descriptions == ["[evaltool] status=suggested; source=rules; confidence="]


def test_a_pseudonymised_project_names_nobody_and_still_selects_the_coded_words(
        project, blank_nlp) -> None:
    xml, files, _ = write.build_project(
        project, pseudonymizer=lambda d: PseudonymizedView(project, d, lambda: blank_nlp))
    assert schema.errors(xml, "project") == []
    (text,) = files.values()
    everything = xml.decode("utf-8") + text
    for name in ("Mette", "Søren", "Åse", "Holm"):
        assert name not in everything
    assert "Deltager 1" in text
    view = PseudonymizedView(project, 1, lambda: blank_nlp)
    selected = write.selection_texts(xml, files)
    for c in project.coding_views(status="accepted"):
        start, end = view.cut(c.start_char, c.end_char)
        assert (("span" if c.is_span else "sentence"), view.text[start:end]) in selected
    assert project.document_text(1).count("Søren") == 1  # the database is unchanged


def test_the_codebook_alone_validates_as_qdc(project, tmp_path: Path) -> None:
    out = tmp_path / "kodebog.qdc"
    write.write_codebook(project, out)
    xml = out.read_bytes()
    assert schema.errors(xml, "codebook") == []
    root = etree.fromstring(xml)
    ns = {"c": schema.CODEBOOK_NS}
    assert len(root.findall(".//c:Code", ns)) == 4
    assert root.find("c:Codes/c:Code/c:Code", ns).get("guid") == write.guid("code",
                                                                            "udf_invitationer")
    theme = root.find("c:Sets/c:Set[@name='Tema T1: Borgerne']", ns)
    assert theme.find("c:Description", ns).text == "[evaltool] goals=G1"
    members = root.findall("c:Sets/c:Set/c:MemberCode", ns)
    assert members and all(m.get("guid") for m in members)


def test_cli_writes_qdpx_and_qdc(project, runner, db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.qdpx"
    result = runner.invoke(cli, ["--db", str(db_path), "export", "--format", "qdpx",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 document, 4 codings, 4 codes, 5 memos, 2 coders" in result.output
    assert schema.errors(_archive(out)[0], "project") == []
    bad = runner.invoke(cli, ["--db", str(db_path), "export", "--format", "qdpx", "--theme", "T1",
                              "--out", str(out)])
    assert bad.exit_code != 0 and "--theme" in bad.output
    qdc = tmp_path / "k.qdc"
    result = runner.invoke(cli, ["--db", str(db_path), "codebook", "export", "--format", "qdc",
                                 str(qdc)])
    assert result.exit_code == 0, result.output
    assert schema.errors(qdc.read_bytes(), "codebook") == []
    page = tmp_path / "kodet.html"
    result = runner.invoke(cli, ["--db", str(db_path), "export", "--format", "html",
                                 "--out", str(page)])
    assert result.exit_code == 0, result.output
    assert "[Kaffe og uformelt samvær]" in page.read_text(encoding="utf-8")


def test_coded_documents_as_html_show_escaped_text_with_bracketed_codes(project,
                                                                         tmp_path: Path) -> None:
    from evaltool.coded_documents import write_coded_documents

    project.add_document_memo(1, "Bo", "<script>")  # not shown; texts below are escaped
    start = project.document_text(1).index("Kommunens")
    project.code_span(1, start, start + len("Kommunens"), "mek_kaffe", coder="Bo")
    out = tmp_path / "kodet.html"
    assert write_coded_documents(project, out, "html") == 5
    page = out.read_text(encoding="utf-8")
    assert ('<mark>Kommunens</mark> <span class="kode">[Kaffe og uformelt samvær]</span>'
            '<mark> strategi gav os ryg.</mark> <span class="kode">[Kommunal strategi]</span>'
            ) in page
    assert '<mark>nye brugere til</mark> <span class="kode">[Invitationer fra forvaltninger]' \
           '</span><mark>, sagde Søren.</mark> <span class="kode">[Nye brugere]</span>' in page
    assert '<span class="taler">Mette (bibliotekar):</span>' in page
    assert "<script>" not in page


def test_coded_documents_in_word_carry_each_coding_as_a_comment(project, tmp_path: Path,
                                                                blank_nlp) -> None:
    import docx

    from evaltool.coded_documents import write_coded_documents

    out = tmp_path / "kodet.docx"
    hook = lambda d: PseudonymizedView(project, d, lambda: blank_nlp)  # noqa: E731
    assert write_coded_documents(project, out, "docx", pseudonymizer=hook) == 4
    document = docx.Document(str(out))
    comments = {c.text: c.author for c in document.comments}
    assert comments["Kommunal strategi\nModerator nævner strategien"] == "Bo"
    assert comments["Nye brugere"] == "Ida"
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Moderator (bibliotekar): Kommunens strategi" in body
    assert "Mette" not in body and "Søren" not in body
    highlighted = "".join(r.text for p in document.paragraphs for r in p.runs
                          if r.font.highlight_color is not None)
    assert "Kagen var lækker" in highlighted and "Strategien var klar" not in highlighted


def test_every_export_gives_each_object_the_same_guid(project) -> None:
    def guids(xml: bytes) -> set[str]:
        return {e.get("guid") for e in etree.fromstring(xml).iter() if e.get("guid")}

    first, files, _ = write.build_project(project)
    (coding_id,) = project.add_coding([project.segments(1)[4].id], "ctx_strategi", "Bo")
    second, files_again, _ = write.build_project(project)
    assert guids(second) - guids(first) == {write.guid("selection", coding_id),
                                            write.guid("coding", coding_id)}
    assert guids(first) < guids(second) and files == files_again


def test_a_retired_code_with_kept_codings_is_written_not_codable(project) -> None:
    codebook.retire_code(project, "mek_kaffe", coder="Bo")
    xml, _, summary = write.build_project(project)
    assert schema.errors(xml, "project") == []
    root = etree.fromstring(xml)
    codes = {c.get("guid"): c for c in root.iterfind(".//q:Code", NS)}
    refs = {r.get("targetGUID") for r in root.iterfind(".//q:Coding/q:CodeRef", NS)}
    assert refs <= set(codes)  # every coding's code is in the code system
    kaffe = codes[write.guid("code", "mek_kaffe")]
    assert kaffe.get("isCodable") == "false" and summary.codes == 4
    assert kaffe.find("q:Description", NS).text.endswith("; retired=true")
