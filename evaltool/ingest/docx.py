"""Word transcripts (``.docx``): paragraphs read as lines of the text grammar.

Tables (some transcription services export one row per turn) are read row by
row as ``speaker: text`` lines: the first cell names the speaker (optionally
with a timestamp), the last holds what was said.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from evaltool.domain import ParsedDocument
from evaltool.errors import IngestError
from evaltool.ingest import limits
from evaltool.ingest.decode import normalise, read_bytes
from evaltool.ingest.grammar import parse_lines


def _lines(document) -> list[str]:
    """The document body as lines, paragraphs and table rows in order."""
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.extend(normalise(block.text).split("\n"))
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [normalise(c.text).replace("\n", " ").strip() for c in row.cells]
                cells = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
                if len(cells) >= 2:
                    lines.append(f"{' '.join(cells[:-1])}: {cells[-1]}")
                elif cells:
                    lines.append(cells[0])
    return lines


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: old .doc, or encrypted Office
_INVALID = "not a valid Word (.docx) file"


def check_zip(path: Path, data: bytes) -> None:
    """Refuse a .docx whose zip python-docx could not read safely, before it reads any
    member: encrypted, an unknown compression, too many members, or members that
    unpack to more than the caps (a zip bomb). The declared sizes bound what
    ``zipfile`` unpacks, so checking them bounds memory."""
    if data.startswith(_OLE):
        raise IngestError(path, None, "an encrypted (password-protected) or old-format (.doc) "
                                      "Word file; save it as .docx without a password")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, ValueError, NotImplementedError, EOFError, OSError):
        raise IngestError(path, None, _INVALID) from None
    if len(members) > limits.DOCX_MAX_MEMBERS:
        raise IngestError(path, None, f"{_INVALID}: more than {limits.DOCX_MAX_MEMBERS} "
                                      "parts in its zip")
    if any(m.flag_bits & 0x1 for m in members):
        raise IngestError(path, None, "an encrypted (password-protected) Word file; "
                                      "save it without a password")
    if any(m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for m in members):
        raise IngestError(path, None, f"{_INVALID}: its zip uses an unsupported compression "
                                      "method (save it again from Word)")
    if (sum(m.file_size for m in members) > limits.DOCX_MAX_UNPACKED_BYTES
            or any(m.file_size > limits.DOCX_MAX_XML_BYTES for m in members
                   if m.filename.lower().endswith((".xml", ".rels")))):
        raise IngestError(path, None, "unpacks to more than "
                          f"{limits.megabytes(limits.DOCX_MAX_UNPACKED_BYTES)} (or one part to "
                          f"more than {limits.megabytes(limits.DOCX_MAX_XML_BYTES)}); refused")


def read(path: Path) -> ParsedDocument:
    """Read a Word transcript."""
    data = read_bytes(path)
    if not data.strip():
        raise IngestError(path, None, "file is empty")
    check_zip(path, data)
    try:
        lines = _lines(docx.Document(io.BytesIO(data)))
    except MemoryError:
        raise
    except Exception:
        # The bytes are the only input here, and they passed check_zip: python-docx and
        # lxml raise assorted errors (KeyError, AttributeError, XMLSyntaxError, zlib.error,
        # ...) for a zip that is not a Word document, so any error means just that.
        raise IngestError(path, None, _INVALID) from None
    if not any(line.strip() for line in lines):
        raise IngestError(path, None, "document has no text")
    notes: list[str] = []
    meta, turns = parse_lines(str(path), lines, notes=notes)
    return ParsedDocument(name=path.name, format="docx", metadata=meta, turns=turns, notes=notes)
