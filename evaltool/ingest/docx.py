"""Word transcripts (``.docx``): paragraphs read as lines of the text grammar.

Tables (some transcription services export one row per turn) are read row by
row as ``speaker: text`` lines: the first cell names the speaker (optionally
with a timestamp), the last holds what was said.

The text is read from the XML, not with python-docx's ``Paragraph.text``, which
passes over text in content controls (``w:sdt``), tracked insertions
(``w:ins``), smart tags, text boxes and tables inside table cells: read that
way, such text would be lost without a word.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
from docx.oxml.ns import qn
from docx.table import Table

from evaltool.domain import ParsedDocument
from evaltool.errors import IngestError
from evaltool.ingest import limits
from evaltool.ingest.decode import normalise, read_bytes
from evaltool.ingest.grammar import parse_lines

_P, _TBL, _T = qn("w:p"), qn("w:tbl"), qn("w:t")
_CONTAINERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}  # blocks inside them count
_AS_TEXT = {qn("w:tab"): "\t", qn("w:ptab"): "\t", qn("w:br"): "\n", qn("w:cr"): "\n",
            qn("w:noBreakHyphen"): "-"}
# The second rendering of a text box (for old readers): read once, in its mc:Choice.
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _text(element, out: list[str]) -> None:
    """Append the text under ``element`` in document order (paragraphs nested in it,
    as in text boxes and cells, start new lines)."""
    for child in element:
        tag = child.tag
        if tag == _FALLBACK:
            continue
        if tag == _T:
            out.append(child.text or "")
        elif tag in _AS_TEXT:
            out.append(_AS_TEXT[tag])
        elif tag == _P and out:
            out.append("\n")
        _text(child, out)


def _element_text(element) -> str:
    out: list[str] = []
    _text(element, out)
    return normalise("".join(out))


def _blocks(parent) -> list:
    """The paragraphs and tables of the body in order, also those in content controls."""
    found = []
    for child in parent:
        if child.tag in (_P, _TBL):
            found.append(child)
        elif child.tag in _CONTAINERS:
            found.extend(_blocks(child))
    return found


def _lines(document) -> list[str]:
    """The document body as lines, paragraphs and table rows in order."""
    lines: list[str] = []
    for block in _blocks(document.element.body):
        if block.tag == _P:
            lines.extend(_element_text(block).split("\n"))
            continue
        for row in Table(block, document).rows:  # python-docx repeats merged cells
            cells = [_element_text(c._tc).replace("\n", " ").strip() for c in row.cells]
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
