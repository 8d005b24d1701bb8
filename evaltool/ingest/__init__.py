"""Reading transcripts: one module per input format, one entry point here.

``open_document(path)`` returns a :class:`~evaltool.domain.DocumentStream`
whose turns are read on demand; ``read_document(path)`` returns a whole
:class:`~evaltool.domain.ParsedDocument`. Both raise
:class:`~evaltool.errors.IngestError` with the file, line and problem (a
stream may also raise it while its turns are read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from evaltool.domain import DocumentStream, ParsedDocument
from evaltool.errors import IngestError
from evaltool.ingest import docx, subtitles, text
from evaltool.ingest.upload import safe_upload_path


def _whole(read: Callable[[Path], ParsedDocument]) -> Callable[[Path], DocumentStream]:
    """A format parsed whole (python-docx needs the whole file; subtitle libraries
    parse whole texts) as a stream over its list of turns."""
    return lambda path: DocumentStream.of(read(path))


OPENERS: dict[str, Callable[[Path], DocumentStream]] = {
    ".txt": text.open_stream,
    ".md": text.open_stream,
    ".docx": _whole(docx.read),
    ".vtt": _whole(subtitles.read),
    ".srt": _whole(subtitles.read),
}
SUPPORTED = tuple(OPENERS)


def open_document(path: str | Path) -> DocumentStream:
    """Open one transcript file of any supported format for streaming its turns.

    Text and Markdown files are streamed from disk (memory does not grow with the
    file); Word and subtitle files are parsed whole and their turns listed.
    """
    path = Path(path)
    opener = OPENERS.get(path.suffix.lower())
    if opener is None:
        supported = ", ".join(SUPPORTED)
        raise IngestError(path, None, f"unsupported file type {path.suffix or '(none)'!r} "
                                      f"(supported: {supported})")
    if not path.exists():
        raise IngestError(path, None, "file not found")
    return opener(path)


def read_document(path: str | Path) -> ParsedDocument:
    """Read one transcript file of any supported format, all its turns in a list."""
    return open_document(path).parse()


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
                if child.is_file() and child.suffix.lower() in OPENERS:
                    out.append(child)
        else:
            out.append(path)
    return out


__all__ = ["SUPPORTED", "expand_paths", "open_document", "read_document", "safe_upload_path"]
