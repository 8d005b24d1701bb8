"""Reading transcripts: the turn grammar, every format, and every kind of bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaltool.errors import IngestError
from evaltool.ingest import expand_paths, read_document
from tests.conftest import write_variants

EXPECTED_TURNS = [
    ("Ordstyrer", None, 2.0, "Velkommen. Vil I præsentere jer?"),
    ("Søren Å. Bæk", "bibliotekar", 7.0,
     "Jeg hedder Søren. Jeg har været på biblioteket i tolv år."),
    ("Øjvind", "frivillig i ældreklubben", 15.0,
     "Øjvind. Jeg er med i ældreklubben, og jeg står for kaffen om tirsdagen."),
    ("Ordstyrer", None, 26.0, "Hvad betød kaffen for møderne?"),
    ("Søren Å. Bæk", "bibliotekar", 31.0,
     "Den betød alt. Folk blev siddende, og de begyndte at fortælle."),
    ("Øjvind", "frivillig i ældreklubben", 44.0, "Ja. Præcis."),
]
EXPECTED_META = {
    "title": "Fokusgruppe om læsecaféen",
    "site": "Ærøskøbing",
    "date": "2016-12-01",
    "target_groups": ["Senioren", "Marginaliserede unge"],
    "moderator": "Ordstyrer",
    "location": "Øens bibliotek",
}


def turns_of(path: Path) -> list[tuple]:
    doc = read_document(path)
    return [(t.speaker, t.role, t.start_time, t.text) for t in doc.turns]


def test_text_transcript_turns_roles_times(fixtures: Path) -> None:
    doc = read_document(fixtures / "fokusgruppe.txt")
    assert doc.metadata == EXPECTED_META
    assert doc.site == "Ærøskøbing"
    assert turns_of(fixtures / "fokusgruppe.txt") == EXPECTED_TURNS
    assert [t.line for t in doc.turns] == [9, 10, 11, 13, 14, 15]


def test_paragraphs_continuations_and_false_speakers(fixtures: Path) -> None:
    doc = read_document(fixtures / "afsnit.md")
    assert doc.metadata == {}
    speakers = [(t.speaker, t.role) for t in doc.turns]
    assert speakers == [
        ("Interviewer", None),
        ("Mette", "projektleder"),
        ("Interviewer", None),
        ("Mette", "projektleder"),
        ("Ahmed Al-Sayed", "sprogambassadør"),
        ("interviewer", None),
    ]
    mette = doc.turns[1]
    assert mette.paragraphs == (
        "Det startede med et møde på rådhuset. Vi var tre fra biblioteket.",
        "Senere kom der flere med. Det tog tid: næsten et halvt år. "
        "Problemet: vi havde ingen penge i starten.",
    )
    assert doc.turns[3].text == "Så søgte vi puljen. Kl. 10:30 fik vi svar."


@pytest.mark.parametrize("name", ["fokusgruppe.vtt", "fokusgruppe.srt"])
def test_subtitles_merge_cues_of_one_speaker(fixtures: Path, name: str) -> None:
    doc = read_document(fixtures / name)
    assert doc.metadata == EXPECTED_META
    assert turns_of(fixtures / name) == EXPECTED_TURNS


def test_vtt_fractional_cue_times(tmp_path: Path) -> None:
    path = tmp_path / "t.vtt"
    path.write_text("WEBVTT\n\n01:02:03.450 --> 01:02:05.000\n<v Ane>Hej &amp; farvel.\n",
                    encoding="utf-8")
    doc = read_document(path)
    assert doc.turns[0].start_time == pytest.approx(3723.45)
    assert doc.turns[0].text == "Hej & farvel."


def test_docx_tables_are_read_as_turns(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Interview i Morsø")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Ordstyrer"
    table.cell(0, 1).text = "Hvad skete der?"
    table.cell(1, 0).text = "[00:01:05] Kåre (bibliotekar)"
    table.cell(1, 1).text = "Vi flyttede babycaféen."
    path = tmp_path / "tabel.docx"
    document.save(path)
    assert turns_of(path) == [
        ("Ordstyrer", None, None, "Hvad skete der?"),
        ("Kåre", "bibliotekar", 65.0, "Vi flyttede babycaféen."),
    ]


def test_all_variants_give_the_same_turns(fixtures: Path, tmp_path: Path) -> None:
    variants = write_variants(fixtures / "fokusgruppe.txt", tmp_path / "v")
    paths = [*variants.values(), fixtures / "fokusgruppe.vtt", fixtures / "fokusgruppe.srt"]
    for path in paths:
        doc = read_document(path)
        assert turns_of(path) == EXPECTED_TURNS, path.name
        assert doc.metadata == EXPECTED_META, path.name


# -- bad input -------------------------------------------------------------

BAD_TEXT = [
    ("empty.txt", b"", None, "file is empty"),
    ("blank.txt", b"  \n \r\n", None, "file is empty"),
    ("binary.txt", bytes(range(256)) * 4, None, "binary data"),
    ("noturns.txt", b"Bare noget tekst uden talere.\nOg en linje mere.\n", 1,
     "no speaker turns found"),
    ("onlymeta.md", b"---\ntitle: x\n---\n\n", 4, "no speaker turns found"),
    ("unterminated.txt", "\n---\ntitle: Møde\nOrdstyrer: Hej\n".encode(), 2,
     "front matter starts with '---' but is never closed"),
    ("badyaml.txt", "---\ntitle: Møde\nsite: [Morsø\n---\nOrdstyrer: Hej\n".encode(), 3,
     "invalid YAML in front matter"),
    ("listmeta.txt", b"---\n- a\n- b\n---\nOrdstyrer: Hej\n", 2,
     "front matter must be 'key: value' lines"),
    ("novtt.vtt", b"Ordstyrer: Hej\n", 1, "not a WebVTT file"),
    ("emptyvtt.vtt", b"WEBVTT\n\n", None, "no speaker turns found"),
    ("badsrt.srt", b"1\nnot a time\nOrdstyrer: hej\n", 1, "malformed SubRip"),
    ("broken.docx", b"PK\x03\x04 not really a zip", None, "not a valid Word (.docx) file"),
    ("notes.pdf", b"%PDF-1.4", None, "unsupported file type '.pdf'"),
]


@pytest.mark.parametrize(("name", "data", "line", "message"), BAD_TEXT,
                         ids=[b[0] for b in BAD_TEXT])
def test_bad_input_one_line_error(tmp_path: Path, name: str, data: bytes, line: int | None,
                                  message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as err:
        read_document(path)
    text = str(err.value)
    assert "\n" not in text
    assert message in text
    expected_prefix = f"{path}:{line}: " if line else f"{path}: "
    assert text.startswith(expected_prefix), text
    assert err.value.line == line


def test_missing_and_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="file not found"):
        read_document(tmp_path / "nope.txt")
    folder = tmp_path / "mappe.txt"
    folder.mkdir()
    with pytest.raises(IngestError, match="is a folder"):
        read_document(folder)
    link = tmp_path / "dangling.txt"
    link.symlink_to(tmp_path / "missing-target.txt")
    with pytest.raises(IngestError, match="file not found"):
        read_document(link)
    if os.geteuid() != 0:  # root reads everything
        locked = tmp_path / "locked.txt"
        locked.write_text("Ordstyrer: Hej\n")
        locked.chmod(0)
        with pytest.raises(IngestError, match="permission denied"):
            read_document(locked)


def test_expand_paths_finds_supported_files_only(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    for name in ["a/1.txt", "a/2.vtt", "a/2.yaml", "a/.hidden.txt", "a/notes.csv", "b.docx"]:
        (tmp_path / name).write_text("x")
    found = expand_paths([tmp_path / "a", tmp_path / "b.docx", tmp_path / "x.pdf"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/1.txt", "a/2.vtt", "b.docx", "x.pdf"]


def test_transcription_tool_layouts(tmp_path: Path) -> None:
    """Label lines with the time and text below them (Word's Transskriber, Otter), bare
    timestamps before the name, and Markdown bold labels all start turns."""
    path = tmp_path / "word.md"
    path.write_text(
        "Taler 1  00:03\n"
        "Velkommen til jer.\n"
        "\n"
        "00:00:09 Søren Bæk\n"
        "Tak. Vi startede med kaffen.\n"
        "Og så kom de.\n"
        "00:00:20 Taler 1: Hvornår var det?\n"
        "**Søren Bæk:** Klokken 10:30 om tirsdagen.\n"
        "Klokken 11:15\n"
        "var vi færdige.\n"
        "__Åse (frivillig)__: Ja.\n",
        encoding="utf-8")
    assert turns_of(path) == [
        ("Taler 1", None, 3.0, "Velkommen til jer."),
        ("Søren Bæk", None, 9.0, "Tak. Vi startede med kaffen. Og så kom de."),
        ("Taler 1", None, 20.0, "Hvornår var det?"),
        ("Søren Bæk", None, None, "Klokken 10:30 om tirsdagen. Klokken 11:15 var vi færdige."),
        ("Åse", "frivillig", None, "Ja."),
    ]


# -- streaming -------------------------------------------------------------------------

def _whole_text_turns(path: Path) -> tuple[dict, list]:
    """Turns as the whole-text reader made them: all bytes decoded, normalised, parsed."""
    from evaltool.ingest.decode import detect_encoding, normalise
    from evaltool.ingest.grammar import iter_lines, parse_lines

    data = path.read_bytes()
    return parse_lines(str(path), iter_lines(normalise(data.decode(detect_encoding(data)))))


@pytest.mark.parametrize("chunk_size", [3, 64, 1 << 16])
def test_streamed_turns_equal_whole_text_turns(fixtures: Path, tmp_path: Path,
                                               chunk_size: int) -> None:
    from evaltool.ingest import text

    variants = write_variants(fixtures / "fokusgruppe.txt", tmp_path / "v")
    paths = [*sorted(fixtures.glob("*.txt")), *sorted(fixtures.glob("*.md")),
             *(p for p in variants.values() if p.suffix != ".docx")]
    for path in paths:
        meta, turns = _whole_text_turns(path)
        stream = text.open_stream(path, chunk_size)
        assert (stream.metadata, list(stream.turns())) == (meta, turns), path.name
        assert list(stream.turns()) == turns, path.name  # each call reads from the start


def test_open_document_streams_text_and_lists_other_formats(fixtures: Path, tmp_path: Path) -> None:
    from evaltool.ingest import open_document

    variants = write_variants(fixtures / "fokusgruppe.txt", tmp_path / "v")
    for path in [fixtures / "fokusgruppe.txt", variants["docx"], fixtures / "fokusgruppe.vtt"]:
        stream = open_document(path)
        assert (stream.name, stream.metadata) == (path.name, EXPECTED_META)
        first = stream.turns()
        assert next(first).speaker == "Ordstyrer"
        again = [(t.speaker, t.role, t.start_time, t.text) for t in stream.turns()]
        assert again == EXPECTED_TURNS
        assert len(list(first)) == len(EXPECTED_TURNS) - 1


def test_open_stream_raises_file_errors_before_any_turn(tmp_path: Path) -> None:
    """Front matter and byte errors come from opening; only the missing turns come later."""
    from evaltool.ingest import open_document

    bad_yaml = tmp_path / "badyaml.txt"
    bad_yaml.write_text("---\ntitle: Møde\nsite: [Morsø\n---\nÅse: Hej\n", encoding="utf-8")
    with pytest.raises(IngestError, match="invalid YAML"):
        open_document(bad_yaml)
    no_turns = tmp_path / "noturns.md"
    no_turns.write_text("---\ntitle: Møde\n---\nBare tekst om kaffe.\n", encoding="utf-8")
    stream = open_document(no_turns)
    assert stream.metadata == {"title": "Møde"}
    with pytest.raises(IngestError, match="no speaker turns found") as err:
        list(stream.turns())
    assert err.value.line == 4


def test_invisible_format_characters_in_speaker_labels(tmp_path: Path) -> None:
    """Zero-width spaces, direction marks and isolates (pasted from chat tools or RTL
    text) once hid the speaker, so the lines were not read as turns."""
    path = tmp_path / "usynlig.txt"
    path.write_text("\u200bÅse: Hej\u200b med dig.\n\u2067Bo\u2069 (frivillig): Ja \u200f!\n"
                    "Å\u200dse\u200e: Igen.\n**\ufeffBo:** Nå.\n", encoding="utf-8")
    assert turns_of(path) == [("Åse", None, None, "Hej\u200b med dig."),
                              ("Bo", "frivillig", None, "Ja \u200f!"),
                              ("Åse", None, None, "Igen."), ("Bo", "frivillig", None, "Nå.")]


def test_docx_text_in_content_controls_insertions_and_nested_tables(tmp_path: Path) -> None:
    """python-docx's Paragraph.text passes over these: their text was lost silently."""
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    mc = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    doc = docx.Document()
    doc.add_paragraph("Åse: Hej.")
    body = doc.element.body
    sect = body[-1]  # w:sectPr stays last
    sect.addprevious(parse_xml(
        f'<w:sdt {w}><w:sdtContent><w:p><w:r><w:t>Bo: Fra en indholdskontrol.</w:t></w:r>'
        '</w:p></w:sdtContent></w:sdt>'))
    sect.addprevious(parse_xml(
        f'<w:p {w}><w:r><w:t xml:space="preserve">Lise: Sagt </w:t></w:r><w:ins w:id="1" '
        'w:author="x"><w:r><w:t>og tilføjet</w:t></w:r></w:ins><w:del w:id="2" w:author="x">'
        '<w:r><w:delText> og slettet</w:delText></w:r></w:del><w:r><w:t>.</w:t></w:r></w:p>'))
    sect.addprevious(parse_xml(
        f'<w:p {w} {mc}><w:r><w:t xml:space="preserve">Åse: Se boksen </w:t></w:r><w:r>'
        '<mc:AlternateContent><mc:Choice Requires="wps"><w:txbxContent><w:p><w:r>'
        '<w:t>i boksen</w:t></w:r></w:p></w:txbxContent></mc:Choice><mc:Fallback>'
        '<w:txbxContent><w:p><w:r><w:t>i boksen</w:t></w:r></w:p></w:txbxContent>'
        '</mc:Fallback></mc:AlternateContent></w:r></w:p>'))
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Bo"
    table.cell(0, 1).text = "Ydre."
    table.cell(0, 1).add_table(rows=1, cols=1).cell(0, 0).text = "Indre."
    path = tmp_path / "skjult.docx"
    doc.save(path)
    assert turns_of(path) == [
        ("Åse", None, None, "Hej."), ("Bo", None, None, "Fra en indholdskontrol."),
        ("Lise", None, None, "Sagt og tilføjet."), ("Åse", None, None, "Se boksen i boksen"),
        ("Bo", None, None, "Ydre. Indre.")]


# -- generated subtitles: every cue's text is in a turn or named in a note ----------------

_cue_text = st.lists(st.text("abcdefghijklmnoprstuvyæøå", min_size=1, max_size=6),
                     min_size=1, max_size=5).map(" ".join)
_cues = st.lists(st.tuples(st.sampled_from([None, "Åse", "Bo Ørsted", "Lise"]), _cue_text),
                 min_size=1, max_size=8)


def _stamp(seconds: int, sep: str) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{sep}000"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cues=_cues, fmt=st.sampled_from(["vtt", "srt"]))
def test_generated_subtitles_keep_every_cue(tmp_path: Path, cues, fmt: str) -> None:
    blocks = []
    for i, (who, said) in enumerate(cues, start=1):
        sep = "." if fmt == "vtt" else ","
        timing = f"{_stamp(i, sep)} --> {_stamp(i + 1, sep)}"
        if fmt == "vtt":
            blocks.append(f"{timing}\n" + (f"<v {who}>" if who else "") + said)
        else:
            blocks.append(f"{i}\n{timing}\n" + (f"{who}: " if who else "") + said)
    path = tmp_path / f"gen.{fmt}"
    path.write_text(("WEBVTT\n\n" if fmt == "vtt" else "") + "\n\n".join(blocks) + "\n",
                    encoding="utf-8")
    leading = next((i for i, (who, _) in enumerate(cues) if who), len(cues))
    if leading == len(cues):
        with pytest.raises(IngestError, match="no speaker turns found"):
            read_document(path)
        return
    doc = read_document(path)
    assert " ".join(t.text for t in doc.turns).split() == " ".join(
        said for _, said in cues[leading:]).split()
    assert len(doc.notes) == (1 if leading else 0)
    if leading:
        where = "line 3" if fmt == "vtt" else "cue 1"
        assert doc.notes[0].startswith(f"{where}: {leading} cue")


def test_subtitles_with_overlapping_and_unordered_times_keep_file_order(tmp_path: Path) -> None:
    path = tmp_path / "overlap.srt"
    path.write_text("1\n00:00:05,000 --> 00:00:01,000\nÅse: Først.\n\n"
                    "2\n00:00:00,000 --> 00:00:09,000\nBo: Så.\n\n"
                    "3\n00:00:02,000 --> 00:00:03,000\nÅse: Til sidst.\n", encoding="utf-8")
    assert turns_of(path) == [("Åse", None, 5.0, "Først."), ("Bo", None, 0.0, "Så."),
                              ("Åse", None, 2.0, "Til sidst.")]
