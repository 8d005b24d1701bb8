"""Importing REFI-QDA projects (.qdpx) and codebooks (.qdc): files other tools wrote,
hand-made projects with every kind of selection, and broken files."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from evaltool.cli import cli
from evaltool.errors import RefiError
from evaltool.refi.load import import_qdpx, load_qdc
from evaltool.store import open_store

FIX = Path(__file__).parent / "fixtures" / "refi"
NS = {"q": "urn:QDA-XML:project:1.0"}


def _xml_counts(path: Path) -> tuple[int, int, int]:
    """(codes, coded plain-text selections, codings) counted straight from the file."""
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
    sels = root.findall(".//q:PlainTextSelection", NS)
    return (len(root.findall(".//q:Code", NS)),
            sum(1 for s in sels if s.find("q:Coding", NS) is not None),
            len(root.findall(".//q:PlainTextSelection/q:Coding", NS)))


def _selection_texts(path: Path) -> list[tuple[str, str, int]]:
    """(source file, selected text squeezed, codings) of every coded selection."""
    out = []
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
        for src in root.findall(".//q:TextSource", NS):
            text = z.read("sources/" + src.get("plainTextPath")).decode("utf-8")
            for s in src.findall("q:PlainTextSelection", NS):
                piece = text[int(s.get("startPosition")):int(s.get("endPosition"))]
                out.append((src.get("plainTextPath"), " ".join(piece.split()),
                            len(s.findall("q:Coding", NS))))
    return out


def test_qc_project_imports_with_every_coding_placed(store, blank_nlp) -> None:
    path = FIX / "qc_demo.qdpx"
    codes, selections, codings = _xml_counts(path)
    assert (codes, selections, codings) == (262, 158, 205)
    result = import_qdpx(store, path, blank_nlp)
    assert result.not_placed == []
    assert (result.documents, result.codes, result.selections, result.codings) == (
        2, codes, selections, codings)
    views = store.coding_views(status="all")
    assert len(views) == codings
    assert all(v.status == "accepted" and v.coder == "cp" for v in views)
    assert store.coders() == ["cp"]
    # every coding holds the selected words (a selection that also covered the speaker
    # label is placed on the words after it, and a note says so)
    quotes = sorted(" ".join(v.quote.split()) for v in views)
    expected = []
    for _, text, n in _selection_texts(path):
        label, sep, rest = text.partition(": ")
        said = rest if sep and (label.startswith("Speaker") or label in {
            "Moderator", "Com 7", "Mr. Dabor"}) else text
        expected.extend([said] * n)
    assert quotes == sorted(expected)
    left_out = [n for n in result.notes if "speaker labels" in n]
    assert len(left_out) == 10
    # speaker turns were read from the transcript's labels
    doc = next(d for d in store.list_documents() if d.name == "admin-1")
    assert {t.speaker for t in store.turns(doc.id)} == {"Automation", "Max Bigman"}
    assert any("not an internal:// path" in n for n in result.notes)


def test_nvivo_codes_keep_their_hierarchy_and_empty_sources_are_reported(store, blank_nlp
                                                                         ) -> None:
    result = import_qdpx(store, FIX / "nvivo_mac_codes.qdpx", blank_nlp)
    assert result.documents == 0 and result.codings == 0 and result.codes == 262
    assert sum("has no text: not imported" in n for n in result.notes) == 2
    codes = store.codes()
    assert len(codes) == 262 and {c.cmo for c in codes} == {"unassigned"}
    by_key = {c.key: c for c in codes}
    # "programming" is a name under two parents: two codes, two keys, right parents
    programming = [c for c in codes if c.label == "programming"]
    assert len(programming) == 2
    assert {by_key[c.parent].label for c in programming} == {"competencies", "cs_as_programming"}
    assert by_key["rq1_definition"].parent is None


def test_qualcoder_project_imports_with_every_coding_placed(store, blank_nlp) -> None:
    path = FIX / "qualcoder_kaffe.qdpx"  # written by QualCoder's own exporter (README)
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
    assert root.get("origin").startswith("QualCoder")
    # QualCoder names each selection by the text it selected: what each coding must hold
    expected = sorted((s.get("name"), len(s.findall("q:Coding", NS)))
                      for s in root.findall(".//q:PlainTextSelection", NS))
    assert len(expected) == 5
    result = import_qdpx(store, path, blank_nlp)
    assert result.not_placed == []
    assert (result.documents, result.codes, result.selections, result.codings) == (1, 5, 5, 5)
    views = store.coding_views(status="all")
    assert sorted((v.quote, 1) for v in views) == expected
    assert store.coders() == ["jonas", "mette"]
    assert {v.coder for v in views if v.quote == "jeg har taget min nabo med to gange"} == {"jonas"}
    assert [v.memo for v in views if v.memo] == ["Kernen i mekanismen"]
    codes = {c.label: c for c in store.codes()}
    keys = {c.key: c.label for c in codes.values()}
    assert keys[codes["Tager andre med"].parent] == "Nye brugere"
    assert keys[codes["Uformelt samvær"].parent] == "Mekanismer"
    doc = store.list_documents()[0]
    assert [t.speaker for t in store.turns(doc.id)] == [
        "Interviewer", "Deltager A", "Deltager B", "Interviewer", "Deltager A"]


TRANSCRIPT = (
    "[00:00:05] Mette (bibliotekar): Vi satte kaffe på bordet. Der kom nye brugere.\n"
    "\n"
    "Søren: Kaffen var god.\n"
    "Det var hyggeligt.\n"
)


def _qdpx(tmp_path: Path, selections: str, *, text: str = TRANSCRIPT, notes: str = "",
          codes: str | None = None, name: str = "p.qdpx", extra: str = "") -> Path:
    codes = codes if codes is not None else (
        '<Code guid="c1" name="Kaffe" isCodable="true"><Description>Om kaffe</Description>'
        '<Code guid="c2" name="Hygge" isCodable="true"/></Code>')
    qde = (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" '
           f'name="Prøve" origin="hand">'
           f'<Users><User guid="u1" name="Lise"/><User guid="u2" name="Ole"/></Users>'
           f'<CodeBook><Codes>{codes}</Codes></CodeBook>'
           f'<Sources><TextSource guid="s1" name="Interview 1" '
           f'plainTextPath="internal://s1.txt">{selections}</TextSource>{extra}</Sources>'
           f'{notes}</Project>')
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/s1.txt", text)
    return path


def _sel(guid: str, start: int, end: int, code: str = "c1", user: str = "u1",
         inner: str = "") -> str:
    return (f'<PlainTextSelection guid="{guid}" startPosition="{start}" endPosition="{end}" '
            f'creatingUser="{user}">{inner}<Coding guid="k{guid}" creatingUser="{user}" '
            f'creationDateTime="2024-05-01T10:00:00Z"><CodeRef targetGUID="{code}"/>'
            f'</Coding></PlainTextSelection>')


def _at(phrase: str) -> tuple[int, int]:
    start = TRANSCRIPT.index(phrase)
    return start, start + len(phrase)


def test_selections_become_sentence_and_span_codings_at_the_same_words(any_store, tmp_path,
                                                                        blank_nlp) -> None:
    sentence = _at("Der kom nye brugere.")
    span = _at("kaffe på bordet")
    across = (_at("nye brugere.")[0], _at("Kaffen var")[1])
    label_only = _at("Søren: ")
    memo = ('<NoteRef targetGUID="n1"/>')
    path = _qdpx(tmp_path, _sel("a", *sentence, inner=memo) + _sel("b", *span, code="c2",
                                                                   user="u2")
                 + _sel("c", *across) + _sel("d", *label_only),
                 notes='<Notes><Note guid="n1" name="m" creatingUser="u2"><PlainTextContent>'
                       'Vigtig pointe</PlainTextContent></Note><Note guid="n2" name="p" '
                       'creatingUser="u1"><PlainTextContent>Projektnote</PlainTextContent>'
                       '</Note></Notes>')
    result = import_qdpx(any_store, path, blank_nlp)
    assert result.selections == 4 and result.codings == 4  # c is split in two, d not placed
    assert len(result.not_placed) == 1 and "selection d" in result.not_placed[0]
    assert any("selection c" in n and "across 2 turns" in n for n in result.notes)
    doc = any_store.list_documents()[0]
    text = any_store.document_text(doc.id)
    views = {(v.code_key, text[v.start:v.end]): v for v in any_store.coding_views(status="all")}
    assert set(views) == {("kaffe", "Der kom nye brugere."), ("hygge", "kaffe på bordet"),
                          ("kaffe", "nye brugere."), ("kaffe", "Kaffen var")}
    assert not views[("kaffe", "Der kom nye brugere.")].is_span  # equal to a sentence
    assert views[("hygge", "kaffe på bordet")].is_span
    assert views[("hygge", "kaffe på bordet")].coder == "Ole"
    assert views[("kaffe", "Der kom nye brugere.")].memo == "Vigtig pointe"
    assert [t.speaker for t in any_store.turns(doc.id)] == ["Mette", "Søren"]
    assert [m.text for m in any_store.memos() if m.kind == "project"] == ["Projektnote"]
    codes = {c.key: c for c in any_store.codes()}
    assert codes["hygge"].parent == "kaffe" and codes["kaffe"].definition == "Om kaffe"
    assert sorted(any_store.coders()) == ["Lise", "Ole"]


def test_text_without_speaker_labels_is_one_turn_per_paragraph(store, tmp_path,
                                                                blank_nlp) -> None:
    text = "Første afsnit om kaffe.\nStadig første.\n\nAndet afsnit.\n"
    start = text.index("Andet")
    path = _qdpx(tmp_path, _sel("a", start, start + len("Andet afsnit.")), text=text)
    result = import_qdpx(store, path, blank_nlp)
    assert result.codings == 1 and result.not_placed == []
    assert any("one turn per paragraph" in n for n in result.notes)
    doc = store.list_documents()[0]
    assert [t.text for t in store.turns(doc.id)] == [
        "Første afsnit om kaffe. Stadig første.", "Andet afsnit."]
    v = store.coding_views(status="all")[0]
    assert store.document_text(doc.id)[v.start:v.end] == "Andet afsnit."


def test_pdf_sources_are_reported_not_dropped(store, tmp_path, blank_nlp) -> None:
    pdf = ('<PDFSource guid="p1" name="Rapport" path="internal://p1.pdf"><PDFSelection '
           'guid="x" page="1" firstX="0" firstY="0" secondX="1" secondY="1">'
           '<Coding guid="kx"><CodeRef targetGUID="c1"/></Coding></PDFSelection></PDFSource>')
    path = _qdpx(tmp_path, _sel("a", *_at("Kaffen var god.")), extra=pdf)
    result = import_qdpx(store, path, blank_nlp)
    assert result.codings == 1
    assert any("'Rapport' is a PDFSource" in n for n in result.notes)
    assert result.not_placed == ["source 'Rapport': 1 coding(s) of a PDFSource"]


def _broken(tmp_path: Path, kind: str) -> Path:
    if kind == "not a zip":
        p = tmp_path / "x.qdpx"
        p.write_bytes(b"this is no zip")
        return p
    if kind == "no project.qde":
        p = tmp_path / "x.qdpx"
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("sources/a.txt", "x")
        return p
    if kind == "invalid XML":
        p = tmp_path / "x.qdpx"
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("project.qde", "<Project xmlns='urn:QDA-XML:project:1.0'><Users>")
        return p
    if kind == "out of range":
        return _qdpx(tmp_path, _sel("a", 5, 5000))
    if kind == "unknown code":
        return _qdpx(tmp_path, _sel("a", 0, 10, code="nope"))
    if kind == "missing text":
        p = _qdpx(tmp_path, _sel("a", 0, 10))
        q = tmp_path / "y.qdpx"
        with zipfile.ZipFile(p) as src, zipfile.ZipFile(q, "w") as z:
            z.writestr("project.qde", src.read("project.qde"))
        return q
    if kind == "bad position":
        return _qdpx(tmp_path, _sel("a", 0, 10).replace('startPosition="0"',
                                                        'startPosition="nul"'))
    raise AssertionError(kind)


@pytest.mark.parametrize("kind, part, says", [
    ("not a zip", None, "zip archive"),
    ("no project.qde", None, "no project.qde"),
    ("invalid XML", "project.qde line 1", "not well-formed XML"),
    ("out of range", "selection a of source 'Interview 1'", "outside the source's"),
    ("unknown code", "selection a of source 'Interview 1'", "codebook does not hold"),
    ("missing text", "source 'Interview 1'", "missing from the archive"),
    ("bad position", "selection a of source 'Interview 1'", "not a whole number"),
])
def test_broken_files_store_nothing(store, tmp_path, blank_nlp, kind, part, says) -> None:
    path = _broken(tmp_path, kind)
    with pytest.raises(RefiError) as err:
        import_qdpx(store, path, blank_nlp)
    line = str(err.value)
    assert "\n" not in line and line.startswith(str(path)) and says in line
    if part:
        assert err.value.part.startswith(part)
    assert store.list_documents() == [] and store.coders() == []
    with pytest.raises(Exception, match="no codebook loaded"):
        store.active_codebook()


def test_schema_deviations_are_notes_or_with_strict_an_error(store, tmp_path,
                                                             blank_nlp) -> None:
    # a User without a guid is not valid Project.xsd; the reader can still read the rest
    path = _qdpx(tmp_path, _sel("a", *_at("Kaffen var god.")))
    with zipfile.ZipFile(path) as z:
        qde = z.read("project.qde").decode().replace('<User guid="u2" name="Ole"/>',
                                                     '<User name="Ole"/>')
        txt = z.read("sources/s1.txt")
    bad = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/s1.txt", txt)
    with pytest.raises(RefiError, match="does not conform to the REFI-QDA project schema"):
        import_qdpx(store, bad, blank_nlp, strict=True)
    assert store.list_documents() == []
    result = import_qdpx(store, bad, blank_nlp)
    assert result.codings == 1
    assert any("deviates from the REFI-QDA project schema" in n for n in result.notes)


def test_a_database_with_documents_is_refused(store, tmp_path, blank_nlp) -> None:
    import_qdpx(store, _qdpx(tmp_path, _sel("a", *_at("Kaffen var god."))), blank_nlp)
    again = _qdpx(tmp_path, _sel("a", *_at("Kaffen var god.")), name="q.qdpx")
    with pytest.raises(RefiError, match="already holds 1 document"):
        import_qdpx(store, again, blank_nlp)
    assert len(store.list_documents()) == 1 and len(store.coding_views(status="all")) == 1


def test_cli_import_and_qdc_codebook(runner, tmp_path, monkeypatch, blank_nlp) -> None:
    from evaltool import nlp

    monkeypatch.setattr(nlp, "load", lambda purpose="segment": blank_nlp)
    db = str(tmp_path / "cli.db")
    path = _qdpx(tmp_path, _sel("a", *_at("Kaffen var god.")) + _sel("d", *_at("Søren: ")))
    out = runner.invoke(cli, ["--db", db, "import", "--format", "qdpx", str(path)])
    assert out.exit_code == 0, out.output
    assert "1 document, 2 codes, 1 coding from 2 coded selections" in out.stdout
    assert "not placed: selection d" in out.stderr
    again = runner.invoke(cli, ["--db", db, "import", str(path)])
    assert again.exit_code == 1 and "already holds 1 document" in again.output
    bad = tmp_path / "bad.qdpx"
    bad.write_text("no zip")
    out = runner.invoke(cli, ["--db", str(tmp_path / "other.db"), "import", str(bad)])
    assert out.exit_code == 1 and out.output.count("\n") == 1 and "zip archive" in out.output
    qdc = tmp_path / "kodebog.qdc"
    qdc.write_text('<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" '
                   'origin="ATLAS.ti Win 23.4.0"><Codes><Code guid="A" name="Adgang" '
                   'isCodable="true"><Description>Barrierer for adgang</Description>'
                   '<Code guid="B" name="Åbningstider" isCodable="true"/></Code></Codes>'
                   '</CodeBook>', encoding="utf-8")
    out = runner.invoke(cli, ["--db", str(tmp_path / "qdc.db"), "codebook", "load", str(qdc)])
    assert out.exit_code == 0, out.output
    assert "2 codes added" in out.stdout
    store = open_store(str(tmp_path / "qdc.db"))
    codes = {c.key: c for c in store.codes()}
    assert codes["aabningstider"].label == "Åbningstider"
    assert codes["aabningstider"].parent == "adgang"
    assert codes["adgang"].cmo == "unassigned" and codes["adgang"].definition == "Barrierer for adgang"
    store.close()


def test_qdc_with_evaltool_trailer_keeps_ids_and_kinds(store, tmp_path) -> None:
    qdc = tmp_path / "k.qdc"
    qdc.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="evaltool"><Codes>'
                   '<Code guid="A" name="Mandat" isCodable="true"><Description>Ledelsen bakker op'
                   '\n\n[evaltool] id=ctx_mandat; cmo=context; column=X; themes=T1; goals=G1; '
                   'target_groups=</Description></Code></Codes></CodeBook>', encoding="utf-8")
    load_qdc(store, qdc)
    (code,) = store.codes()
    assert (code.key, code.cmo, code.definition) == ("ctx_mandat", "context", "Ledelsen bakker op")


def test_archive_limits_and_a_broken_qdc_store_nothing(store, tmp_path, blank_nlp,
                                                       monkeypatch) -> None:
    from evaltool.refi import read

    path = tmp_path / "bomb.qdpx"  # a few kilobytes that unpack to a megabyte
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", "<Project xmlns='urn:QDA-XML:project:1.0'/>")
        z.writestr("sources/pad.txt", "0" * 1_000_000)
    monkeypatch.setattr(read, "MAX_UNPACKED_BYTES", 100_000)
    with pytest.raises(RefiError, match="unpacks to more than 100,000 bytes"):
        import_qdpx(store, path, blank_nlp)
    monkeypatch.undo()
    qdc = tmp_path / "k.qdc"
    qdc.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code name="x">',
                   encoding="utf-8")
    with pytest.raises(RefiError, match=r"k\.qdc: codebook line 1: not well-formed XML"):
        load_qdc(store, qdc)
    qdc.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="A" name="x">'
                   '<Code guid="A" name="y"/></Code></Codes></CodeBook>', encoding="utf-8")
    with pytest.raises(RefiError, match="the guid is used by two codes"):
        load_qdc(store, qdc)
    assert store.list_documents() == []
    with pytest.raises(Exception, match="no codebook loaded"):
        store.active_codebook()
