"""Plain-text and Markdown transcripts (``.txt``, ``.md``), read as a stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from evaltool.domain import DocumentStream, ParsedDocument, ParsedTurn
from evaltool.errors import IngestError
from evaltool.ingest.decode import CHUNK_SIZE, detect_file_encoding, iter_text_lines
from evaltool.ingest.grammar import parse_stream


def open_stream(path: Path, chunk_size: int = CHUNK_SIZE) -> DocumentStream:
    """Open a text transcript: check its bytes and read its front matter now.

    Errors about the file as a whole (empty, binary, front matter) are raised
    here; each ``turns()`` call re-reads the file line by line, so memory does
    not grow with it.
    """
    encoding = detect_file_encoding(path, chunk_size)
    lines = iter_text_lines(path, encoding, chunk_size)
    try:
        meta, _ = parse_stream(str(path), lines)
    finally:
        lines.close()
    notes: list[str] = []  # filled again by each pass over the turns

    def turns() -> Iterator[ParsedTurn]:
        notes.clear()
        lines = iter_text_lines(path, encoding, chunk_size)
        try:
            again, body = parse_stream(str(path), lines, notes=notes)
            if again != meta:
                raise IngestError(path, None, "front matter changed while the file was read")
            yield from body
        finally:
            lines.close()

    return DocumentStream(path.name, path.suffix.lower().lstrip("."), meta, turns, notes)


def read(path: Path) -> ParsedDocument:
    """Read a text transcript with optional YAML front matter."""
    return open_stream(path).parse()
