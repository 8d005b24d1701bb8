"""Encoding detection and normalisation of transcript bytes."""

from __future__ import annotations

import codecs
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaltool.errors import IngestError
from evaltool.ingest.decode import (
    detect_encoding,
    detect_file_encoding,
    iter_text_lines,
    normalise,
    read_text,
)

DANISH = "Søren sagde: «Æbleskiver på Ærø» – og så gik vi.\nNæste linje med å.\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (DANISH.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + DANISH.encode("utf-8"), "utf-8-sig"),
        (DANISH.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + DANISH.encode("utf-16-be"), "utf-16"),
        (DANISH.encode("cp1252"), "cp1252"),
    ],
)
def test_detects_encoding(data: bytes, encoding: str) -> None:
    assert detect_encoding(data) == encoding
    assert data.decode(encoding).lstrip("\ufeff") == DANISH


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_line_ends_become_newlines(tmp_path, newline: str) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(DANISH.replace("\n", newline).encode("cp1252"))
    assert read_text(path) == DANISH


def test_nfd_becomes_nfc(tmp_path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(unicodedata.normalize("NFD", DANISH).encode("utf-8"))
    text = read_text(path)
    assert text == DANISH
    assert "å" in text and len("å") == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty"),
        (b"   \n\t\n", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"Ordstyrer: hej\x00\x01\x02", "binary data"),
        ("\u00a0\u3000\n".encode(), "only whitespace"),
    ],
)
def test_bad_bytes_give_one_line_error(tmp_path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(IngestError) as err:
        read_text(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


# -- streaming: the file read in chunks gives the same lines as the whole text -------------

def _whole_text_lines(data: bytes) -> list[str]:
    """The lines as the whole-text reader makes them (decode all, normalise, split)."""
    return normalise(data.decode(detect_encoding(data))).split("\n")


def _streamed(path, chunk_size: int) -> list[str]:
    return list(iter_text_lines(path, detect_file_encoding(path, chunk_size), chunk_size))


def _straddles(data: bytes, part: bytes, chunk_size: int) -> bool:
    """Whether some occurrence of ``part`` is cut by a chunk boundary."""
    starts = [i for i in range(len(data)) if data.startswith(part, i)]
    return any(i // chunk_size != (i + len(part) - 1) // chunk_size for i in starts)


@pytest.mark.parametrize("chunk_size", [2, 3, 5, 64])
def test_crlf_and_multibyte_letters_across_chunk_boundaries(tmp_path, chunk_size: int) -> None:
    cut = {"crlf": False, "æøå": False}
    for pad in range(chunk_size):  # shifts every byte across all chunk offsets
        text = "-" * pad + "Åse: Hej.\r\nSøren: Æbler på Ærø.\r\n\r\nøh, jo\rå\u2028slut\r\n"
        data = text.encode("utf-8")
        cut["crlf"] |= _straddles(data, b"\r\n", chunk_size)
        cut["æøå"] |= any(_straddles(data, ch.encode(), chunk_size) for ch in "ÆæØøÅå")
        path = tmp_path / f"t{pad}.txt"
        path.write_bytes(data)
        lines = _streamed(path, chunk_size)
        assert lines == _whole_text_lines(data) == [
            "-" * pad + "Åse: Hej.", "Søren: Æbler på Ærø.", "", "øh, jo", "å", "slut", ""]
        assert "\n".join(lines) == read_text(path)
    assert all(cut.values()) or chunk_size == 64


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7])
@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-16-le-bom", "utf-8-sig", "utf-32"])
def test_streaming_other_encodings(tmp_path, encoding: str, chunk_size: int) -> None:
    text = DANISH if encoding == "cp1252" else unicodedata.normalize("NFD", DANISH)
    text = text.replace("\n", "\r\n")
    if encoding == "utf-16-le-bom":
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    else:
        data = text.encode(encoding)
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    assert _streamed(path, chunk_size) == _whole_text_lines(data) == DANISH.split("\n")


def test_utf8_with_one_cp1252_line_at_the_end_is_refused_at_that_line(tmp_path) -> None:
    """Once read as cp1252 as a whole, garbling every Å above it to Ã… with exit 0."""
    data = "Åse: Hej.\n".encode() * 50 + "Bo: 5 €\n".encode("cp1252")
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    with pytest.raises(IngestError) as err:
        detect_file_encoding(path, 16)
    assert str(err.value) == (f"{path}:51: not UTF-8, though the rest of the file is (a line "
                              "in another encoding, or a damaged byte); save the file as UTF-8")
    with pytest.raises(ValueError, match="line 51"):
        detect_encoding(data)


@pytest.mark.parametrize(("data", "line"), [
    ("Åse: Hej på Ærø.\nBo: Og så?\n".encode() + b"Lise: \xff ja\n", 3),  # one damaged byte
    (b"Bo: hej\n" + "Lise: blåbær\n".encode("cp1252") + "Åse: Øl.\n".encode(), 2),
    ("Åse: Hej på Ærø og ".encode() + b"\xff\n", 1),  # one line, mostly UTF-8
    ("Åse: Ærø\r".encode() + "Bo: æble\r".encode("cp1252"), 2),  # CR line ends
])
def test_mostly_utf8_text_is_refused_at_its_first_bad_line(tmp_path, data: bytes,
                                                           line: int) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    with pytest.raises(IngestError) as err:
        read_text(path)
    assert err.value.line == line and "save the file as UTF-8" in str(err.value)


def test_consistent_cp1252_still_reads_even_with_a_chance_utf8_pair(tmp_path) -> None:
    """'SÅ…' in cp1252 is a valid UTF-8 pair by chance; the rest of the line is not UTF-8."""
    text = "Åse: Så gik vi på Ærø, SÅ… søndag.\n" + "Bo: Æbler og øl på åen.\n" * 30
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode("cp1252"))
    assert read_text(path) == text


@pytest.mark.parametrize(("data", "name", "line"), [
    (codecs.BOM_UTF8 + "Åse: Hej.\nBo: ".encode() + "blåbær\n".encode("cp1252"), "UTF-8", 2),
    (codecs.BOM_UTF16_LE + "Åse: Hej.\nBo: ja\n".encode("utf-16-le") + b"\x00", "UTF-16", 3),
])
def test_byte_order_mark_then_another_encoding(tmp_path, data: bytes, name: str,
                                               line: int) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    with pytest.raises(IngestError) as err:
        read_text(path)
    assert str(err.value) == (f"{path}:{line}: not valid {name}, though the file starts with "
                              f"a {name} byte-order mark; save the file as UTF-8")


LETTERS = "abcdefghijklmnopqrstuvwxyzæøåÆØÅé ,.:"  # cp1252 bytes of these are never UTF-8


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.tuples(st.text(LETTERS, max_size=30),
                                st.sampled_from(["utf-8", "cp1252"])), min_size=1, max_size=8),
       chunk_size=st.sampled_from([3, 64, 1 << 16]))
def test_lines_in_mixed_encodings_are_never_garbled(tmp_path_factory, lines,
                                                    chunk_size: int) -> None:
    """Any mix of UTF-8 and cp1252 lines reads back exactly as written, or is refused
    naming a line that is cp1252 with a letter outside ASCII."""
    path = tmp_path_factory.mktemp("mix") / "t.txt"
    path.write_bytes(b"".join(f"Åse: {t}\n".encode(enc) for t, enc in lines))
    try:
        read = list(iter_text_lines(path, detect_file_encoding(path, chunk_size), chunk_size))
    except IngestError as exc:
        assert exc.line is not None and "UTF-8" in exc.message
        assert lines[exc.line - 1][1] == "cp1252"
    else:
        assert read == [f"Åse: {t}" for t, _ in lines] + [""]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b" \n" * 40, "file is empty"),
        (b"Ordstyrer: hej\n" * 20 + b"\x00", "binary data"),
        ("Ordstyrer: hej\n".encode("utf-16") + "\x07\n".encode("utf-16-le"), "binary data"),
        (codecs.BOM_UTF8 + "\u00a0\n".encode() * 20, "only whitespace"),
        ("\u3000 \n".encode() * 20, "only whitespace"),
    ],
)
def test_streaming_errors_come_before_any_line(tmp_path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(IngestError, match=message) as err:
        detect_file_encoding(path, 4)
    assert str(err.value).startswith(f"{path}: ")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark(tmp_path, encoding: str) -> None:
    """Once refused as binary data (its NUL bytes)."""
    path = tmp_path / "t.txt"
    path.write_bytes(DANISH.encode(encoding))
    assert read_text(path) == DANISH


def test_binary_with_many_nul_bytes_is_still_binary(tmp_path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"\x01\x00\x02\x00" * 100)  # UTF-16 of control characters
    with pytest.raises(IngestError, match="binary data"):
        read_text(path)
