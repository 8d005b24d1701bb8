"""Plain-text and Markdown transcripts (``.txt``, ``.md``)."""

from __future__ import annotations

from pathlib import Path

from evaltool.domain import ParsedDocument
from evaltool.ingest.decode import read_text
from evaltool.ingest.grammar import iter_lines, parse_lines


def read(path: Path) -> ParsedDocument:
    """Read a text transcript with optional YAML front matter."""
    text = read_text(path)
    meta, turns = parse_lines(str(path), iter_lines(text))
    return ParsedDocument(name=path.name, format=path.suffix.lower().lstrip("."),
                          metadata=meta, turns=turns)
