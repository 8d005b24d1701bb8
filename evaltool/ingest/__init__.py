"""Reading transcripts: one module per input format, one entry point here.

``read_document(path)`` returns a :class:`~evaltool.domain.ParsedDocument` or
raises :class:`~evaltool.errors.IngestError` with the file, line and problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from evaltool.domain import ParsedDocument
from evaltool.errors import IngestError
from evaltool.ingest import docx, subtitles, text
from evaltool.ingest.upload import safe_upload_path

READERS: dict[str, Callable[[Path], ParsedDocument]] = {
    ".txt": text.read,
    ".md": text.read,
    ".docx": docx.read,
    ".vtt": subtitles.read,
    ".srt": subtitles.read,
}
SUPPORTED = tuple(READERS)


def read_document(path: str | Path) -> ParsedDocument:
    """Read one transcript file of any supported format."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        supported = ", ".join(SUPPORTED)
        raise IngestError(path, None, f"unsupported file type {path.suffix or '(none)'!r} "
                                      f"(supported: {supported})")
    if not path.exists():
        raise IngestError(path, None, "file not found")
    return reader(path)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus supported files found (recursively) in folders named.

    Inside folders, hidden files, files of other types and subtitle sidecar
    metadata (``.yaml``) are passed over; files named explicitly are always kept,
    so that an unsupported one gets its error.
    """
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if child.is_file() and child.suffix.lower() in READERS:
                    out.append(child)
        else:
            out.append(path)
    return out


__all__ = ["SUPPORTED", "expand_paths", "read_document", "safe_upload_path"]
