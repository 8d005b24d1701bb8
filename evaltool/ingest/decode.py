"""Bytes to normalised text: encoding detection, line ends, Unicode NFC.

Detection order (deterministic, never a blind guess):
1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32) decides (UTF-16 without one
   is recognised by its NUL bytes in every other position);
2. text that decodes as strict UTF-8 is UTF-8;
3. NUL or other control bytes mean binary data (rejected);
4. text that is mostly UTF-8 but not all (a line of cp1252 pasted into a UTF-8
   file, or a damaged byte) is refused, naming the first line that is not UTF-8:
   read as cp1252 it would silently garble every æ, ø and å (Å becomes Ã…);
5. text that decodes as strict cp1252 is cp1252 (Windows Danish; every byte of
   ISO-8859-1 text in the printable range is the same in cp1252);
6. otherwise charset-normalizer's best match on a sample, if it is confident.

Files are read in chunks of ``CHUNK_SIZE`` bytes, never whole:
:func:`detect_file_encoding` checks a file in one pass and
:func:`iter_text_lines` yields its normalised lines, so memory does not grow
with the file (only with its longest line).
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes

from evaltool.errors import IngestError
from evaltool.ingest import limits

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
_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0e, 0x20), 0x7f])
# bytes.translate(None, delete) keeps only the bytes not deleted: far faster than a regex
_NOT_BINARY = bytes(sorted(set(range(256)) - set(_BINARY_BYTES)))
_BINARY_TEXT = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CP1252_DEFINED = bytes(sorted(set(range(256)) - {0x81, 0x8d, 0x8f, 0x90, 0x9d}))
_LINE_ENDS = ("\n", "\r", "\u2028")
# Read with "surrogateescape", a byte that is not UTF-8 becomes U+DC80..U+DCFF.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_UTF8_LETTER = re.compile("[^\x00-\x7f\udc80-\udcff]")  # a multi-byte UTF-8 character
_BOM_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}
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
        self._utf8 = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.utf8_ok = True
        self.utf8_letters = 0  # bytes after the first of multi-byte UTF-8 characters
        self.not_utf8 = 0  # bytes that are not UTF-8
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
        if chunk.translate(None, _NOT_BINARY):
            self.binary = True
        self._count_utf8(self._utf8.decode(chunk))
        if self.cp1252_ok:
            if chunk.translate(None, _CP1252_DEFINED):
                self.cp1252_ok = False
            elif not self.text["cp1252"]:
                self.text["cp1252"] = bool(chunk.decode("cp1252").strip())
        return False

    def _count_utf8(self, piece: str) -> None:
        """Note what the UTF-8 reading of the next piece shows."""
        self.text["utf-8"] = self.text["utf-8"] or bool(piece.strip())
        if piece.isascii():
            return
        try:  # fast: no byte that is not UTF-8; count the bytes beyond one per character
            self.utf8_letters += len(piece.encode("utf-8")) - len(piece)
        except UnicodeEncodeError:  # bytes that are not UTF-8 (escaped): count both kinds
            raw = piece.encode("utf-8", "surrogateescape")  # an escape is back to one byte
            self.not_utf8 += len(piece) - len(raw.decode("utf-8", "ignore"))
            self.utf8_ok = False
            self.utf8_letters += len(raw) - len(piece)

    @property
    def mostly_utf8(self) -> bool:
        """Whether text that is not all UTF-8 still shows UTF-8 letters: a few of them
        happen by chance in cp1252 text ('Å…'), the same number as bad bytes does not."""
        return not self.utf8_ok and self.utf8_letters * 20 >= self.not_utf8

    def finish(self) -> str:
        """The encoding, or ``ValueError`` for binary data or an unknown encoding."""
        if self.bom is None:
            self.bom = _bom(self.head)
        if self.bom:
            return self.bom
        self._count_utf8(self._utf8.decode(b"", final=True))  # a character cut off at the end
        if self.binary:
            utf16 = _utf16_without_bom(bytes(self.sample))
            if utf16 is None:
                raise ValueError("binary data")
            return utf16
        if self.utf8_ok:
            return "utf-8"
        if self.cp1252_ok:
            return "cp1252"
        best = from_bytes(bytes(self.sample)).best()
        if best is None:
            raise ValueError("unknown text encoding")
        return best.encoding


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark (its NUL bytes look binary): Latin
    text has a NUL in (nearly) every other byte, on the same side."""
    if len(sample) < 4 or len(sample) % 2:
        return None
    half = len(sample) // 2
    low, high = sample[0::2].count(0), sample[1::2].count(0)
    if high >= 0.9 * half and low <= 0.1 * half:
        return "utf-16-le"
    if low >= 0.9 * half and high <= 0.1 * half:
        return "utf-16-be"
    return None


def _bom(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def detect_encoding(data: bytes) -> str:
    """Name the encoding of ``data`` or raise ``ValueError`` for binary data or
    text that is not UTF-8 in only some lines (see the module's detection order)."""
    sniffer = EncodingSniffer()
    sniffer.feed(data)
    encoding = sniffer.finish()
    if not sniffer.bom and sniffer.utf8_letters:
        line = first_line_not_utf8(data.decode("utf-8", "surrogateescape").splitlines(),
                                   sniffer.mostly_utf8)
        if line:
            raise ValueError(f"line {line} is not UTF-8, the rest of the text is")
    return encoding


def first_line_not_utf8(lines: Iterable[str], mostly_utf8: bool) -> int | None:
    """The first line that is not UTF-8 (lines read with "surrogateescape") when the
    text is UTF-8 elsewhere: a line that is all UTF-8 and has UTF-8 letters, or
    ``mostly_utf8``, says it is. None when the text can be read as one 8-bit encoding."""
    first_bad: int | None = None
    utf8_line = False
    for no, line in enumerate(lines, start=1):
        if _NOT_UTF8.search(line):
            first_bad = first_bad or no
        elif _UTF8_LETTER.search(line):
            utf8_line = True
        if first_bad and (utf8_line or mostly_utf8):
            return first_bad
    return None


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


def _too_large(path: Path, cap: int) -> IngestError:
    return IngestError(path, None, f"file is larger than {limits.megabytes(cap)}, the limit "
                                   f"for {path.suffix.lower() or 'this type'} files")


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading, within its size cap (see ``limits``).

    A FIFO, device or socket is refused before a byte is read (opened without
    blocking, so a FIFO with no writer cannot hang the import).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _os_error(path, exc) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IngestError(path, None, "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise IngestError(path, None, "not a regular file (a pipe, device or socket); "
                                          "only files are read")
        cap = limits.max_file_bytes(path)
        if info.st_size > cap:
            raise _too_large(path, cap)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: Path) -> bytes:
    """Read a regular file within its size cap, OS errors as one-line ingest errors."""
    return b"".join(iter_chunks(path, 1 << 20))


def iter_chunks(path: Path, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """A regular file's bytes ``chunk_size`` at a time, OS errors as one-line ingest
    errors; a file that grows past its size cap while it is read fails too."""
    fh = open_regular(path)
    cap = limits.max_file_bytes(path)
    total = 0
    with fh:
        while True:
            try:
                chunk = fh.read(chunk_size)
            except OSError as exc:
                raise _os_error(path, exc) from None
            if not chunk:
                return
            total += len(chunk)
            if total > cap:
                raise _too_large(path, cap)
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
    if not sniffer.bom and sniffer.utf8_letters and not sniffer.utf8_ok:
        lines = iter_text_lines(path, "utf-8", chunk_size, errors="surrogateescape")
        try:
            line = first_line_not_utf8(lines, sniffer.mostly_utf8)
        finally:
            lines.close()
        if line:
            raise IngestError(path, line, "not UTF-8, though the rest of the file is (a line "
                                          "in another encoding, or a damaged byte); save the "
                                          "file as UTF-8")
    if encoding in sniffer.text:  # checked while sniffing: no control bytes, maybe blank
        if not sniffer.text[encoding]:
            raise IngestError(path, None, "file has only whitespace")
    else:  # a byte-order mark or charset-normalizer's guess: check the decoded text
        for _ in iter_text_lines(path, encoding, chunk_size):
            pass
    return encoding


def iter_text_lines(path: Path, encoding: str, chunk_size: int = CHUNK_SIZE,
                    errors: str = "strict") -> Iterator[str]:
    """The normalised lines of a file in ``encoding`` (like ``read_text(path).split("\\n")``).

    CRLF, CR and U+2028 end lines (a CRLF split across two chunks is one line
    end), leading byte-order marks are dropped, each line is NFC. Raises
    :class:`IngestError` for bytes that do not decode, control characters, or
    (at the end) a text of only white space.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    pending: list[str] = []  # the current line's text so far (without its end)
    at_start = True  # still dropping byte-order marks
    has_text = False
    done = 0  # lines yielded
    chunks = iter_chunks(path, chunk_size)
    try:
        final = False
        while not final:
            chunk = next(chunks, None)
            final = chunk is None
            try:
                piece = decoder.decode(chunk or b"", final=final)
            except UnicodeDecodeError as exc:
                raise _decode_error(path, encoding, exc, "".join(pending), done) from None
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
                done += 1
                yield line
            pending = [last + held]
        last = unicodedata.normalize("NFC", last)
        if not (has_text or last.strip()):
            raise IngestError(path, None, "file has only whitespace")
        yield last
    finally:
        chunks.close()


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError, pending: str,
                  done: int) -> IngestError:
    """The one-line error for bytes that do not decode, naming their line."""
    before = pending + exc.object[:exc.start].decode(encoding, "replace")
    before = before.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    line = done + before.count("\n") + 1
    if encoding in _BOM_NAMES:
        name = _BOM_NAMES[encoding]
        return IngestError(path, line, f"not valid {name}, though the file starts with a "
                                       f"{name} byte-order mark; save the file as UTF-8")
    return IngestError(path, line, _BINARY_MESSAGE)


def read_text(path: Path) -> str:
    """Read a text file: detect its encoding, decode and normalise it."""
    return "\n".join(iter_text_lines(path, detect_file_encoding(path)))
