"""Word transcripts (``.docx``): paragraphs read as lines of the text grammar.

Tables (some transcription services export one row per turn) are read row by
row as ``speaker: text`` lines: the first cell names the speaker (optionally
with a timestamp), the last holds what was said.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from evaltool.domain import ParsedDocument
from evaltool.errors import IngestError
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


def read(path: Path) -> ParsedDocument:
    """Read a Word transcript."""
    data = read_bytes(path)
    if not data.strip():
        raise IngestError(path, None, "file is empty")
    try:
        import io

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise IngestError(path, None, "not a valid Word (.docx) file") from None
    except Exception as exc:  # python-docx raises assorted lxml/opc errors for corrupt files
        if type(exc).__module__.startswith(("docx", "lxml")):
            raise IngestError(path, None, "not a valid Word (.docx) file") from None
        raise
    lines = _lines(document)
    if not any(line.strip() for line in lines):
        raise IngestError(path, None, "document has no text")
    meta, turns = parse_lines(str(path), lines)
    return ParsedDocument(name=path.name, format="docx", metadata=meta, turns=turns)
