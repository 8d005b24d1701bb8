"""Encoding detection and normalisation of transcript bytes."""

from __future__ import annotations

import codecs
import unicodedata

import pytest

from evaltool.errors import IngestError
from evaltool.ingest.decode import detect_encoding, read_text

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
