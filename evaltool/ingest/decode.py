"""Bytes to normalised text: encoding detection, line ends, Unicode NFC.

Detection order (deterministic, never a blind guess):
1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32) decides;
2. text that decodes as strict UTF-8 is UTF-8;
3. NUL or other control bytes mean binary data (rejected);
4. text that decodes as strict cp1252 is cp1252 (Windows Danish; every byte of
   ISO-8859-1 text in the printable range is the same in cp1252);
5. otherwise charset-normalizer's best match, if it is confident.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes

from evaltool.errors import IngestError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters other than tab, LF, VT, FF, CR: a sign of binary data.
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_BINARY_TEXT = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def detect_encoding(data: bytes) -> str:
    """Name the encoding of ``data`` or raise ``ValueError`` for binary data."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
        if _BINARY.search(data):
            raise ValueError("binary data")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _BINARY.search(data):
        raise ValueError("binary data")
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None:
        raise ValueError("unknown text encoding")
    return best.encoding


def normalise(text: str) -> str:
    """NFC, ``\\n`` line ends, no BOM, tabs kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.lstrip("\ufeff")
    return unicodedata.normalize("NFC", text)


def read_bytes(path: Path) -> bytes:
    """Read a file, turning OS errors into one-line ingest errors."""
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise IngestError(path, None, "is a folder, not a file") from None
    except FileNotFoundError:
        raise IngestError(path, None, "file not found") from None
    except PermissionError:
        raise IngestError(path, None, "permission denied") from None
    except OSError as exc:
        raise IngestError(path, None, f"cannot read file ({exc.strerror or exc})") from None


def read_text(path: Path) -> str:
    """Read a text file: detect its encoding, decode and normalise it."""
    data = read_bytes(path)
    if not data.strip():
        raise IngestError(path, None, "file is empty")
    try:
        encoding = detect_encoding(data)
        text = data.decode(encoding)
    except (ValueError, UnicodeDecodeError):
        raise IngestError(path, None, "binary data, not a text transcript") from None
    text = normalise(text)
    if _BINARY_TEXT.search(text):
        raise IngestError(path, None, "binary data, not a text transcript")
    if not text.strip():
        raise IngestError(path, None, "file has only whitespace")
    return text
