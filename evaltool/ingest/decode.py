"""Bytes to normalised text: encoding detection, line ends, Unicode NFC.

Detection order (deterministic, never a blind guess):
1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32) decides;
2. text that decodes as strict UTF-8 is UTF-8;
3. NUL or other control bytes mean binary data (rejected);
4. text that decodes as strict cp1252 is cp1252 (Windows Danish; every byte of
   ISO-8859-1 text in the printable range is the same in cp1252);
5. otherwise charset-normalizer's best match on a sample, if it is confident.

Files are read in chunks of ``CHUNK_SIZE`` bytes, never whole:
:func:`detect_file_encoding` checks a file in one pass and
:func:`iter_text_lines` yields its normalised lines, so memory does not grow
with the file (only with its longest line).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes

from evaltool.errors import IngestError

CHUNK_SIZE = 1 << 16  # bytes read at a time
SAMPLE_SIZE = 1 << 20  # bytes charset-normalizer sees (it is the last resort, and slow)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BOM_LEN = max(len(bom) for bom, _ in _BOMS)
# Control characters other than tab, LF, VT, FF, CR: a sign of binary data.
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_BINARY_TEXT = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_LINE_ENDS = ("\n", "\r", "\u2028")
_BINARY_MESSAGE = "binary data, not a text transcript"


class EncodingSniffer:
    """Detects an encoding from chunks fed in order (see the module's detection order).

    Besides the encoding it notes whether the bytes are all ASCII white space and,
    for a UTF-8 or cp1252 reading, whether the text has anything but white space.
    """

    def __init__(self) -> None:
        self.head = b""
        self.bom: str | None = None
        self.blank = True  # only ASCII white space so far
        self.binary = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self.utf8_ok = True
        self.cp1252_ok = True
        self.text = {"utf-8": False, "cp1252": False}  # non-white-space text seen
        self.sample = bytearray()

    def feed(self, chunk: bytes) -> bool:
        """Take the next chunk; True once a byte-order mark has decided."""
        if len(self.head) < _BOM_LEN:
            self.head += chunk[:_BOM_LEN - len(self.head)]
            if len(self.head) >= _BOM_LEN:
                self.bom = _bom(self.head)
        if self.blank and chunk.strip():
            self.blank = False
        if self.bom:
            return True
        if len(self.sample) < SAMPLE_SIZE:
            self.sample += chunk[:SAMPLE_SIZE - len(self.sample)]
        if _BINARY.search(chunk):
            self.binary = True
        if self.utf8_ok:
            try:
                piece = self._utf8.decode(chunk)
            except UnicodeDecodeError:
                self.utf8_ok = False
            else:
                self.text["utf-8"] = self.text["utf-8"] or bool(piece.strip())
        if self.cp1252_ok:
            if _CP1252_UNDEFINED.search(chunk):
                self.cp1252_ok = False
            elif not self.text["cp1252"]:
                self.text["cp1252"] = bool(chunk.decode("cp1252").strip())
        return False

    def finish(self) -> str:
        """The encoding, or ``ValueError`` for binary data or an unknown encoding."""
        if self.bom is None:
            self.bom = _bom(self.head)
        if self.bom:
            return self.bom
        if self.utf8_ok:
            try:
                self._utf8.decode(b"", final=True)  # a character cut off at the end
            except UnicodeDecodeError:
                self.utf8_ok = False
        if self.binary:
            raise ValueError("binary data")
        if self.utf8_ok:
            return "utf-8"
        if self.cp1252_ok:
            return "cp1252"
        best = from_bytes(bytes(self.sample)).best()
        if best is None:
            raise ValueError("unknown text encoding")
        return best.encoding


def _bom(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def detect_encoding(data: bytes) -> str:
    """Name the encoding of ``data`` or raise ``ValueError`` for binary data."""
    sniffer = EncodingSniffer()
    sniffer.feed(data)
    return sniffer.finish()


def normalise(text: str) -> str:
    """NFC, ``\\n`` line ends, no BOM, tabs kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.lstrip("\ufeff")
    return unicodedata.normalize("NFC", text)


def _os_error(path: Path, exc: OSError) -> IngestError:
    """The one-line ingest error for an OS error on ``path``."""
    if isinstance(exc, IsADirectoryError):
        return IngestError(path, None, "is a folder, not a file")
    if isinstance(exc, FileNotFoundError):
        return IngestError(path, None, "file not found")
    if isinstance(exc, PermissionError):
        return IngestError(path, None, "permission denied")
    return IngestError(path, None, f"cannot read file ({exc.strerror or exc})")


def read_bytes(path: Path) -> bytes:
    """Read a file, turning OS errors into one-line ingest errors."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _os_error(path, exc) from None


def iter_chunks(path: Path, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """A file's bytes ``chunk_size`` at a time, OS errors as one-line ingest errors."""
    try:
        fh: BinaryIO = path.open("rb")
    except OSError as exc:
        raise _os_error(path, exc) from None
    with fh:
        while True:
            try:
                chunk = fh.read(chunk_size)
            except OSError as exc:
                raise _os_error(path, exc) from None
            if not chunk:
                return
            yield chunk


def detect_file_encoding(path: Path, chunk_size: int = CHUNK_SIZE) -> str:
    """The encoding of a text file, checked in one pass over its chunks.

    Raises the same one-line errors as :func:`read_text` for files that are
    empty, binary or only white space, before any line is read.
    """
    sniffer = EncodingSniffer()
    for chunk in iter_chunks(path, chunk_size):
        if sniffer.feed(chunk):
            break
    if sniffer.blank:
        raise IngestError(path, None, "file is empty")
    try:
        encoding = sniffer.finish()
    except ValueError:
        raise IngestError(path, None, _BINARY_MESSAGE) from None
    if encoding in sniffer.text:  # checked while sniffing: no control bytes, maybe blank
        if not sniffer.text[encoding]:
            raise IngestError(path, None, "file has only whitespace")
    else:  # a byte-order mark or charset-normalizer's guess: check the decoded text
        for _ in iter_text_lines(path, encoding, chunk_size):
            pass
    return encoding


def iter_text_lines(path: Path, encoding: str, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    """The normalised lines of a file in ``encoding`` (like ``read_text(path).split("\\n")``).

    CRLF, CR and U+2028 end lines (a CRLF split across two chunks is one line
    end), leading byte-order marks are dropped, each line is NFC. Raises
    :class:`IngestError` for bytes that do not decode, control characters, or
    (at the end) a text of only white space.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    pending: list[str] = []  # the current line's text so far (without its end)
    at_start = True  # still dropping byte-order marks
    has_text = False
    chunks = iter_chunks(path, chunk_size)
    try:
        final = False
        while not final:
            chunk = next(chunks, None)
            final = chunk is None
            try:
                piece = decoder.decode(chunk or b"", final=final)
            except UnicodeDecodeError:
                raise IngestError(path, None, _BINARY_MESSAGE) from None
            if at_start:
                piece = piece.lstrip("\ufeff")
                at_start = not piece
            if _BINARY_TEXT.search(piece):
                raise IngestError(path, None, _BINARY_MESSAGE)
            if not final and not any(end in piece for end in _LINE_ENDS):
                pending.append(piece)  # no line end yet: joined once one comes
                continue
            text = "".join(pending) + piece
            held = ""
            if not final and text.endswith("\r"):  # its "\n" may start the next chunk
                text, held = text[:-1], "\r"
            lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").split("\n")
            last = lines.pop()
            for line in lines:
                line = unicodedata.normalize("NFC", line)
                has_text = has_text or bool(line.strip())
                yield line
            pending = [last + held]
        last = unicodedata.normalize("NFC", last)
        if not (has_text or last.strip()):
            raise IngestError(path, None, "file has only whitespace")
        yield last
    finally:
        chunks.close()


def read_text(path: Path) -> str:
    """Read a text file: detect its encoding, decode and normalise it."""
    return "\n".join(iter_text_lines(path, detect_file_encoding(path)))
