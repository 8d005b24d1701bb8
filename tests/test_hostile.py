"""Hostile input: arbitrary text and bytes, generated transcripts, upload names, formulas."""

from __future__ import annotations

import codecs
import io
import itertools
import logging
import os
import tempfile
import threading
import zipfile
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaltool import codebook
from evaltool.cli import cli
from evaltool.domain import ParsedDocument
from evaltool.errors import IngestError
from evaltool.importer import import_paths
from evaltool.ingest import read_document, safe_upload_path
from evaltool.resources import word_list

# Function-scoped fixtures (one store per test, shared by its examples) are fine:
# every example writes a file of its own name.
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SUFFIXES = [".txt", ".md", ".vtt", ".srt", ".docx"]
_counter = itertools.count()


def check_one_file(path: Path, store, blank_nlp) -> None:
    """Reading and importing either works or fails with a one-line error naming the file;
    whatever is imported has offsets that slice the stored text exactly."""
    try:
        assert isinstance(read_document(path), ParsedDocument)
    except IngestError as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
        assert str(exc).startswith(str(path))
    [result] = import_paths([path], store, lambda: blank_nlp).results
    assert "\n" not in result.message and str(path) in result.message
    if result.status == "imported":
        doc_id = result.document_id
        text = store.document_text(doc_id)
        turns = store.turns(doc_id)
        assert turns and len(turns) == result.turns
        for t in turns:
            assert text[t.start_char:t.end_char] == t.text
        for s in store.segments(doc_id):
            assert text[s.start_char:s.end_char] == s.text and s.text.strip() == s.text


@FAST
@given(content=st.text(max_size=400))
def test_arbitrary_text_imports_or_fails_cleanly(content: str, store, blank_nlp,
                                                 tmp_path: Path) -> None:
    path = tmp_path / f"tekst_{next(_counter)}.txt"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    check_one_file(path, store, blank_nlp)


# Text that looks a little like a transcript finds the parser's corners faster.
transcriptish = st.lists(st.one_of(
    st.sampled_from(["---", "title: Ærø", "moderator: Ordstyrer", "Ordstyrer: Hej.",
                     "[00:01:02] Søren (frivillig): Ja.", "", "  ", "Lise:", "WEBVTT",
                     "00:00:01.000 --> 00:00:02.000", "<v Åse>Tak.", "1",
                     "00:00:01,000 --> 00:00:02,000", "date: 2016-02-30", "title: [ufærdig"]),
    st.text(max_size=40)), max_size=12).map("\n".join)


HEADS = {".txt": "", ".md": "---\n", ".vtt": "WEBVTT\n\n", ".srt": "1\n"}


@FAST
@given(content=transcriptish, suffix=st.sampled_from(SUFFIXES[:4]), head=st.booleans())
def test_transcript_like_text_imports_or_fails_cleanly(content: str, suffix: str, head: bool,
                                                       store, blank_nlp, tmp_path: Path) -> None:
    path = tmp_path / f"næsten_{next(_counter)}{suffix}"
    text = HEADS[suffix] + content if head else content
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_one_file(path, store, blank_nlp)


@pytest.mark.parametrize("front", [
    "date: 2016-02-30",  # YAML builds dates, and this one does not exist
    "x: " + "[" * 3000 + "]" * 3000,
    "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]",  # "billion laughs", in small
    "title: !!binary aGVq\nsæt: !!set {a, b}\nx: .nan\ny: 1e400",
    "? [a, b]\n: c",
])
@pytest.mark.parametrize("suffix", [".md", ".vtt"])
def test_hostile_front_matter(front: str, suffix: str, store, blank_nlp, tmp_path: Path) -> None:
    path = tmp_path / f"front{suffix}"
    if suffix == ".vtt":
        path.write_text(f"WEBVTT\n\nNOTE\n{front}\n\n00:00:01.000 --> 00:00:02.000\n"
                        "<v Åse>Hej.\n", encoding="utf-8")
    else:
        path.write_text(f"---\n{front}\n---\nÅse: Hej.\n", encoding="utf-8")
    check_one_file(path, store, blank_nlp)


@FAST
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes_import_or_fail_cleanly(data: bytes, suffix: str, store, blank_nlp,
                                                tmp_path: Path) -> None:
    path = tmp_path / f"bytes_{next(_counter)}{suffix}"
    path.write_bytes(data)
    check_one_file(path, store, blank_nlp)


# -- generated transcripts parse into exactly the turns they were made of -------------

UPPER = "ABDEFGHIJKLMNOPRSTUVÆØÅ"
LOWER = "abcdefghijklmnoprstuvyæøå"
word = st.text(LOWER, min_size=1, max_size=8)
name_word = st.builds(str.__add__, st.sampled_from(UPPER), st.text(LOWER, max_size=7))
speaker = st.lists(name_word, min_size=1, max_size=3).map(" ".join).filter(
    lambda n: n.casefold() not in word_list("not_speakers"))
line = st.lists(word, min_size=1, max_size=6).map(" ".join).map(lambda s: s + ".")
paragraph = st.lists(line, min_size=1, max_size=3)
timestamp = st.tuples(st.integers(0, 9), st.integers(0, 59), st.integers(0, 59))


@st.composite
def transcripts(draw) -> tuple[str, list[tuple]]:
    """A transcript text and the (speaker, role, seconds, paragraphs, line) it must parse to."""
    pool = draw(st.lists(speaker, min_size=1, max_size=4, unique_by=str.casefold))
    lines: list[str] = []
    if draw(st.booleans()):
        lines += ["---", "title: Fokusgruppe på Ærø", "site: Ærøskøbing", "---"]
    roles: dict[str, str] = {}
    expected = []
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(pool))
        role = draw(st.none() | st.lists(word, min_size=1, max_size=3).map(" ".join))
        stamp = draw(st.none() | timestamp)
        paras = draw(st.lists(paragraph, min_size=1, max_size=3))
        first_inline = draw(st.booleans())
        head = f"[{stamp[0]:02d}:{stamp[1]:02d}:{stamp[2]:02d}] " if stamp else ""
        invisible = draw(st.sampled_from(["", "", "\u200b", "\u200e", "\u2067", "\ufeff"]))
        head = invisible + head + name + (f" ({role})" if role else "") + invisible + ":"
        body = [list(p) for p in paras]
        if first_inline:
            head += " " + body[0].pop(0)
        lines.append(head)
        start_line = len(lines)
        for i, para in enumerate(body):
            if i > 0:
                lines.append("")
                if draw(st.booleans()):
                    lines.append("   ")
            lines.extend(para)
        if role:
            roles[name.casefold()] = role
        seconds = float(stamp[0] * 3600 + stamp[1] * 60 + stamp[2]) if stamp else None
        texts = tuple(" ".join(p) for p in paras)
        expected.append((name, roles.get(name.casefold()), seconds, texts, start_line))
        if draw(st.booleans()):
            lines.append("")
    return "\n".join(lines) + "\n", expected


@FAST
@given(case=transcripts())
def test_generated_transcripts_parse_to_their_turns(case, store, blank_nlp,
                                                    tmp_path: Path) -> None:
    text, expected = case
    path = tmp_path / f"genereret_{next(_counter)}.txt"
    path.write_text(text, encoding="utf-8")
    parsed = read_document(path)
    assert [(t.speaker, t.role, t.start_time, t.paragraphs, t.line)
            for t in parsed.turns] == expected
    [result] = import_paths([path], store, lambda: blank_nlp, replace=True).results
    assert result.status == "imported", result.message
    stored = store.turns(result.document_id)
    first_role: dict[str, str | None] = {}  # a turn without a role shows the speaker's first
    for n, r, *_ in expected:
        first_role[n] = first_role.get(n) or r
    assert [(t.speaker, t.role, t.start_time, t.text) for t in stored] == [
        (n, r or first_role[n], s, "\n".join(p)) for n, r, s, p, _ in expected]


# -- upload names ---------------------------------------------------------------


@FAST
@given(filename=st.text(max_size=300))
def test_upload_names_never_escape_the_folder(filename: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "uploads"
        target = safe_upload_path(folder, filename)
        assert target.parent == folder
        assert target.resolve().parent == folder.resolve()
        assert target.name not in ("", ".", "..") and not target.name.startswith(".")
        assert not set(target.name) & set('/\\\x00:<>"|?*')
        assert len(target.name.encode("utf-8")) <= 200


@pytest.mark.parametrize(("filename", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("/etc/cron.d/evil.txt", "evil.txt"),
    ("C:\\Users\\lise\\Fokusgruppe Ærø.docx", "Fokusgruppe Ærø.docx"),
    ("C:møde.vtt", "møde.vtt"),
    ("..", "upload"),
    ("", "upload"),
    ("nul\x00byte.txt", "nul_byte.txt"),
    ("linje\nskift.md", "linje_skift.md"),
    ("CON.txt", "_CON.txt"),
    ("lpt1", "_lpt1"),
    ("referat\u202etxt.srt", "referat_txt.srt"),
    ("søndag.", "søndag"),
])
def test_upload_name_examples(tmp_path: Path, filename: str, expected: str) -> None:
    assert safe_upload_path(tmp_path, filename) == tmp_path / expected


def test_upload_keeps_the_extension_so_the_format_is_recognised(tmp_path: Path,
                                                                fixtures: Path) -> None:
    target = safe_upload_path(tmp_path, "..\\..\\Fokusgruppe – Ærø.TXT")
    target.write_bytes((fixtures / "fokusgruppe.txt").read_bytes())
    assert target.name == "Fokusgruppe – Ærø.TXT"
    assert len(read_document(target).turns) == 6


# -- formulas in a transcript stay text all the way to the spreadsheet ---------------

EVIL = ['=HYPERLINK("http://x.invalid/?q=kaffe";"klik her")', "+45 12 34 56 78 ringede om kaffe",
        "-1 kop kaffe for lidt", "@kaffe til alle"]


def test_formula_in_a_transcript_is_neutralised_end_to_end(store, fixtures: Path, blank_nlp,
                                                           tmp_path: Path, runner,
                                                           db_path: Path) -> None:
    path = tmp_path / "formler.txt"
    path.write_text("".join(f"Åse: {evil}\n\n" for evil in EVIL), encoding="utf-8")
    assert import_paths([path], store, lambda: blank_nlp).failed == 0
    store.load_codebook(codebook.load(fixtures / "mini_kodebog.yaml"), "mini_kodebog.yaml")
    segments = store.segments(1)
    assert [s.text for s in segments] == EVIL  # stored as said, not altered
    store.add_coding([s.id for s in segments], "mek_kaffe", "lise", memo="=1+1")
    csv_path, xlsx_path = tmp_path / "ud.csv", tmp_path / "ud.xlsx"
    for out, fmt in ((csv_path, "csv"), (xlsx_path, "xlsx")):
        result = runner.invoke(cli, ["--db", str(db_path), "export", "--format", fmt,
                                     "--out", str(out)])
        assert result.exit_code == 0, result.output
    back = pd.read_csv(csv_path, keep_default_na=False)
    assert back["text"].tolist() == ["'" + e for e in EVIL]
    assert set(back["memo"]) == {"'=1+1"}
    sheet = openpyxl.load_workbook(xlsx_path).active
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("text")] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == ["'" + e for e in EVIL]
    assert {c.data_type for c in cells} == {"s"}


# -- one error boundary per file: an unexpected fault fails that file only ---------------

@spacy.Language.component("fejl_ved_kage")
def _fault_on_cake(doc):
    """A pipeline component with a bug: it fails on one word (an unexpected error)."""
    if any(t.text == "kage" for t in doc):
        raise ZeroDivisionError("kage")
    return doc


def test_unexpected_error_fails_only_its_file(store, tmp_path: Path) -> None:
    nlp = spacy.blank("da")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("fejl_ved_kage")
    names = ["a_før.txt", "b_kage.txt", "c_efter.txt"]
    for name, said in zip(names, ["Jeg kom for kaffen.", "Jeg kom for kagen. Og kage.",
                                  "Jeg blev for snakken."], strict=True):
        (tmp_path / name).write_text(f"Åse: {said}\n", encoding="utf-8")
    summary = import_paths([tmp_path], store, lambda: nlp)
    assert [r.status for r in summary.results] == ["imported", "failed", "imported"]
    bad = summary.results[1]
    assert bad.message == f"{tmp_path / names[1]}: unexpected error (ZeroDivisionError); nothing stored"
    assert [d.name for d in store.list_documents()] == [names[0], names[2]]
    with store.engine.connect() as conn:  # no staged rows left behind either
        assert conn.exec_driver_sql("SELECT count(*) FROM documents").scalar() == 2


def test_cli_batch_goes_on_after_an_unexpected_error(tmp_path: Path, runner,
                                                      db_path: Path) -> None:
    """A file with a lone surrogate escape in its front matter once aborted the batch."""
    (tmp_path / "a.md").write_text('---\ntitle: "\\udc80"\n---\nÅse: Hej.\n', encoding="utf-8")
    (tmp_path / "b.txt").write_text("Åse: Hej med dig.\n", encoding="utf-8")
    result = runner.invoke(cli, ["--db", str(db_path), "ingest", str(tmp_path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"imported: {tmp_path / 'b.txt'}" in result.output


# -- hostile files of each class seen: one line naming the file, nothing stored ----------

def _zip(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _flagged(data: bytes, *, encrypted: bool = False, method: int | None = None) -> bytes:
    """A zip whose headers say 'encrypted' or name another compression method."""
    out = bytearray(data)
    for sig, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        i = out.find(sig)
        while i >= 0:
            if encrypted:
                out[i + flag_at] |= 1
            if method is not None:
                out[i + method_at] = method
            i = out.find(sig, i + 4)
    return bytes(out)


def _docx(text: str) -> bytes:
    doc = docx.Document()
    doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_bomb() -> bytes:
    """1 MB on disk that unpacks document.xml to 30 MB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        small = zipfile.ZipFile(io.BytesIO(_docx("Åse: Hej.")))
        for name in small.namelist():
            if name != "word/document.xml":
                zf.writestr(name, small.read(name))
        with zf.open("word/document.xml", "w") as member:
            for _ in range(30):
                member.write(b" " * (1 << 20))
    return buf.getvalue()


def _docx_nested(depth: int) -> bytes:
    """A .docx with tables nested ``depth`` deep (deeper than lxml parses safely)."""
    small = zipfile.ZipFile(io.BytesIO(_docx("Åse: Hej.")))
    xml = small.read("word/document.xml").decode()
    nested = ("<w:tbl><w:tr><w:tc>" * depth + "<w:p><w:r><w:t>Bo: dybt</w:t></w:r></w:p>"
              + "</w:tc></w:tr></w:tbl>" * depth)
    xml = xml.replace("<w:sectPr", nested + "<w:p/><w:sectPr", 1)
    return _zip({name: xml.encode() if name == "word/document.xml" else small.read(name)
                 for name in small.namelist()})


SECRET = "Hemmelig Hansen fortalte om sin diagnose"  # never in an error message
VTT_CUE = "\n\n00:00:01.000 --> 00:00:02.000\n<v Åse>Hej.\n"
HOSTILE = [  # (name, content or its maker, fragment of the one-line error, line or None)
    ("surrogat.md", f'---\ntitle: "\\udc80"\n---\nÅse: {SECRET}.\n',
     "unpaired surrogate", 2),
    ("nul.md", f'---\ntitle: "{SECRET}\\x00"\n---\nÅse: Hej.\n', "control character", 2),
    ("tag.md", f"---\ntitle: !{SECRET.replace(' ', '_')} ja\n---\nÅse: Hej.\n",
     "invalid YAML in front matter", 2),
    ("tagvaerdi.md", f"---\n!{SECRET.replace(' ', '_')} nøgle: ja\n---\nÅse: Hej.\n",
     "invalid YAML in front matter", 2),
    ("escape.md", f'---\ntitle: "{SECRET} \\q"\n---\nÅse: Hej.\n',
     "invalid YAML in front matter", 2),
    ("stort_nummer.srt", f"99999999999999999999999\n00:00:01,000 --> 00:00:02,000\nÅse: {SECRET}.\n",
     "cue number out of range", None),
    ("stor_time.srt", f"1\n99999999999999999999:00:01,000 --> 99999999999999999999:00:02,000\n"
     f"Åse: {SECRET}.\n", "cue time out of range", None),
    ("stor_time.vtt", f"WEBVTT\n\n999999999:00:01.000 --> 999999999:00:02.000\n<v Åse>{SECRET}.\n",
     "cue time out of range", None),
    ("tid.vtt", f"WEBVTT{VTT_CUE}\n00:0x:01.000 --> 00:00:02.000\n<v Bo>{SECRET}.\n",
     "malformed cue timing", 6),
    ("uden_tid.vtt", f"WEBVTT{VTT_CUE}\n<v Bo>{SECRET}.\n", "text outside any cue", 6),
    ("pil_i_tekst.vtt", f"WEBVTT{VTT_CUE}Bo: {SECRET} --> nej\n", "malformed cue timing", 5),
    ("krypteret.docx", _flagged(_docx(f"Åse: {SECRET}."), encrypted=True), "encrypted", None),
    ("ole.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "encrypted", None),
    ("komprimering.docx", _flagged(_docx(f"Åse: {SECRET}."), method=99),
     "unsupported compression", None),
    ("bombe.docx", _docx_bomb, "unpacks to more than", None),
    ("mange_dele.docx", _zip({f"d/{i}.xml": b"<x/>" for i in range(1001)}), "parts", None),
    ("anden_zip.docx", _zip({"noter.txt": f"Åse: {SECRET}.".encode()}),
     "not a valid Word (.docx) file", None),
    ("lagret.docx", _zip({"[Content_Types].xml": b"<x/>"}, method=zipfile.ZIP_STORED),
     "not a valid Word (.docx) file", None),
    ("dyb.docx", lambda: _docx_nested(300), "not a valid Word (.docx) file", None),
]


@pytest.mark.parametrize(("name", "content", "fragment", "line"), HOSTILE,
                         ids=[h[0] for h in HOSTILE])
def test_hostile_file_fails_alone_with_one_line(name: str, content, fragment: str,
                                                 line: int | None, store, blank_nlp,
                                                 tmp_path: Path) -> None:
    path = tmp_path / name
    content = content() if callable(content) else content  # built when used: a 1 MB bomb
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.write_bytes(data)
    good = tmp_path / "god.txt"
    good.write_text("Åse: Hej med dig.\n", encoding="utf-8")
    with pytest.raises(IngestError) as err:
        read_document(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: " if line else f"{path}: "), message
    assert fragment in message and "\n" not in message
    assert err.value.line == line
    assert not {"Hemmelig", "Hansen", "fortalte", "diagnose"} & set(message.replace("_", " ").split())
    summary = import_paths([path, good], store, lambda: blank_nlp)
    assert [r.status for r in summary.results] == ["failed", "imported"]
    assert summary.results[0].message == message
    assert [d.name for d in store.list_documents()] == ["god.txt"]


def test_subtitle_sidecar_with_a_lone_surrogate(store, blank_nlp, tmp_path: Path) -> None:
    path = tmp_path / "m.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\nÅse: Hej.\n", encoding="utf-8")
    path.with_suffix(".yaml").write_text('title: "\\ud800"\n', encoding="utf-8")
    [result] = import_paths([path], store, lambda: blank_nlp).results
    assert result.status == "failed"
    assert result.message == (f"{path.with_suffix('.yaml')}:1: front matter has a control "
                              "character or an unpaired surrogate (an escape such as \\x00 or "
                              "\\udc80 in quotes)")


def test_vtt_note_with_a_lone_surrogate_is_a_comment(store, blank_nlp, tmp_path: Path) -> None:
    path = tmp_path / "note.vtt"
    path.write_text(f'WEBVTT\n\nNOTE\ntitle: "\\udc80"{VTT_CUE}', encoding="utf-8")
    [result] = import_paths([path], store, lambda: blank_nlp).results
    assert result.status == "imported", result.message
    assert store.list_documents()[0].site is None


def test_turn_longer_than_spacy_max_length_imports_whole(store, blank_nlp,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "lang.txt"
    said = "Vi snakkede om kaffe og kage hele dagen " * 30_000  # 1.2 million characters
    path.write_text(f"Åse: {said}\nBo: Ja.\n", encoding="utf-8")
    assert len(said) > blank_nlp.max_length
    [result] = import_paths([path], store, lambda: blank_nlp).results
    assert result.status == "imported", result.message
    text = store.document_text(result.document_id)
    assert [t.text for t in store.turns(result.document_id)] == [said.strip(), "Ja."]
    segments = store.segments(result.document_id)
    assert all(text[s.start_char:s.end_char] == s.text for s in segments)
    assert sum(len(s.text.split()) for s in segments) == len(said.split()) + 1


# -- unbounded input: only regular files, each format within its size cap -----------------

def _import_within(paths: list[Path], store, nlp, seconds: float = 20) -> list:
    """import_paths in a thread that must finish in time (a FIFO once hung it forever)."""
    out: list = []
    worker = threading.Thread(target=lambda: out.extend(
        import_paths(paths, store, lambda: nlp).results), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the import hung"
    return out


def test_fifo_and_device_named_txt_are_refused_without_hanging(store, blank_nlp,
                                                               tmp_path: Path) -> None:
    fifo = tmp_path / "rør.txt"
    os.mkfifo(fifo)
    device = tmp_path / "nul.txt"
    device.symlink_to("/dev/zero")
    good = tmp_path / "god.txt"
    good.write_text("Åse: Hej.\n", encoding="utf-8")
    results = _import_within([fifo, device, good], store, blank_nlp)
    assert [r.message for r in results[:2]] == [
        f"{p}: not a regular file (a pipe, device or socket); only files are read"
        for p in (fifo, device)]
    assert results[2].status == "imported"


@pytest.mark.parametrize(("suffix", "cap_mb"), [(".txt", 50), (".md", 50), (".vtt", 20),
                                                (".srt", 20), (".docx", 50)])
def test_files_over_their_size_cap_are_refused_unread(suffix: str, cap_mb: int, store,
                                                      blank_nlp, tmp_path: Path) -> None:
    path = tmp_path / f"stor{suffix}"
    with path.open("wb") as fh:  # sparse: the size is on record, nothing is written
        fh.write(b"WEBVTT\n\n" if suffix == ".vtt" else b"PK")
        fh.truncate(cap_mb * (1 << 20) + 1)
    [result] = _import_within([path], store, blank_nlp, 10)
    assert result.message == (f"{path}: file is larger than {cap_mb} MB, the limit for "
                              f"{suffix} files")


def test_front_matter_over_its_cap_is_refused(store, blank_nlp, tmp_path: Path) -> None:
    path = tmp_path / "forside.md"
    path.write_text("---\n" + "nøgle: værdi\n" * 100_000 + "---\nÅse: Hej.\n", encoding="utf-8")
    [result] = _import_within([path], store, blank_nlp)
    assert result.message == f"{path}:1: front matter is larger than 1 MB of text"


# -- text no speaker said is reported with its line, never dropped silently ---------------

@pytest.mark.parametrize(("name", "content", "warning"), [
    ("indledning.txt", f"Referat\n{SECRET}.\n\nÅse: Hej.\nBo: Ja.\n",
     "line 1: 2 lines of text before the first speaker were not imported"),
    ("indledning.md", f"---\ntitle: x\n---\n{SECRET}.\nÅse: Hej.\n",
     "line 4: 1 line of text before the first speaker was not imported"),
    ("indledning.docx", lambda: _docx(f"{SECRET}.\nÅse: Hej."),
     "line 1: 1 line of text before the first speaker was not imported"),
    ("indledning.vtt", f"WEBVTT\n\n00:00:00.500 --> 00:00:01.000\n{SECRET}.{VTT_CUE}",
     "line 3: 1 cue before the first speaker was not imported"),
    ("indledning.srt", f"1\n00:00:00,500 --> 00:00:01,000\n{SECRET}.\n\n2\n"
     "00:00:01,000 --> 00:00:02,000\nÅse: Hej.\n",
     "cue 1: 1 cue before the first speaker was not imported"),
])
def test_text_before_the_first_speaker_is_reported(name: str, content, warning: str, store,
                                                    blank_nlp, tmp_path: Path) -> None:
    path = tmp_path / name
    content = content() if callable(content) else content
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    [result] = import_paths([path], store, lambda: blank_nlp).results
    assert result.status == "imported"
    assert result.message.endswith(f"; warning: {warning} (no 'Name:' label)"), result.message
    assert SECRET not in result.message
    assert read_document(path).notes == [f"{warning} (no 'Name:' label)"]


# -- no error path of import echoes the transcript ------------------------------------------

ERROR_PATHS = [  # (name, content): every way import can refuse a file, each quoting SECRET
    ("tom.txt", b""), ("blank.txt", b" \n\t\n"), ("mellemrum.txt", "\u3000\n".encode()),
    ("binær.txt", f"Åse: {SECRET}\x00\x01".encode()),
    ("ingen_talere.txt", f"{SECRET}.\nog mere.\n"),
    ("uafsluttet.md", f"---\ntitle: {SECRET}\nÅse: Hej\n"),
    ("yaml.md", f"---\ntitle: [{SECRET}\n---\nÅse: Hej\n"),
    ("yaml_alias.md", f"---\na: *{SECRET.replace(' ', '_')}\n---\nÅse: Hej\n"),
    ("yaml_liste.md", f"---\n- {SECRET}\n---\nÅse: Hej\n"),
    ("yaml_dato.md", f"---\ndato: 2016-02-30\nnote: {SECRET}\n---\nÅse: Hej\n"),
    ("yaml_dyb.md", "---\nx: " + "[" * 3000 + "]" * 3000 + f"\ny: {SECRET}\n---\nÅse: Hej\n"),
    ("blandet.txt", f"Åse: {SECRET} på Ærø.\n".encode() + f"Bo: {SECRET} på Ærø.\n".encode("cp1252")),
    ("bom.txt", codecs.BOM_UTF8 + f"Åse: {SECRET} på Ærø.\n".encode("cp1252")),
    ("ikke_vtt.vtt", f"Åse: {SECRET}\n"), ("tom.vtt", f"WEBVTT\n\nNOTE {SECRET}\n"),
    ("ingen_talere.srt", f"1\n00:00:01,000 --> 00:00:02,000\n{SECRET}\n"),
    ("srt.srt", f"1\nikke en tid\n{SECRET}\n"),
    ("zip.docx", b"PK\x03\x04" + SECRET.encode()), ("tom.docx", lambda: _docx("   ")),
    ("ingen_talere.docx", lambda: _docx(f"{SECRET}.")),
    ("noter.pdf", f"%PDF-1.4 {SECRET}"),
    *((name, content) for name, content, _, _ in HOSTILE),
]


def test_no_import_error_echoes_the_transcript(tmp_path: Path, runner, db_path: Path,
                                              caplog) -> None:
    folder = tmp_path / "filer"
    folder.mkdir()
    for name, content in ERROR_PATHS:
        content = content() if callable(content) else content
        (folder / name).write_bytes(content.encode() if isinstance(content, str) else content)
    (folder / "m.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nÅse: Hej.\n")
    (folder / "m.yaml").write_text(f'title: "{SECRET} \\udc80"\n')
    os.mkfifo(folder / "rør.txt")
    caplog.set_level(logging.DEBUG)
    named = [folder / "noter.pdf", folder / "rør.txt", tmp_path / "mangler.txt"]
    result = runner.invoke(cli, ["--db", str(db_path), "ingest", str(folder), *map(str, named)])
    output = result.output + caplog.text
    failed = [line for line in output.splitlines() if line.startswith("failed: ")]
    assert len(failed) == len(ERROR_PATHS) + len(named)  # the pdf once as named, m.srt once
    assert result.exit_code == 1 and "Traceback" not in output
    for word in ("Hemmelig", "Hansen", "fortalte", "diagnose"):
        assert word not in output
