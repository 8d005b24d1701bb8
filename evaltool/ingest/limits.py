"""Size caps for input files: bigger files are refused before they are parsed.

A transcript of a two-hour focus group is well under 1 MB of text, so the caps
leave two orders of magnitude of room while keeping memory and time bounded
(the README's reliability section lists them). Subtitle and Word files are
parsed whole, so their caps are lower than those of streamed text.
"""

from __future__ import annotations

from pathlib import Path

MB = 1 << 20

MAX_FILE_BYTES = {  # by suffix; the bytes of the file on disk
    ".txt": 50 * MB,
    ".md": 50 * MB,
    ".vtt": 20 * MB,
    ".srt": 20 * MB,
    ".docx": 50 * MB,
    ".yaml": 1 * MB,  # a subtitle file's sidecar metadata
    ".yml": 1 * MB,
}
DEFAULT_MAX_FILE_BYTES = 50 * MB
MAX_FRONT_MATTER_CHARS = 1 * MB  # YAML is parsed in pure Python: slow on megabytes

# A .docx is a zip: its members are checked before python-docx unpacks any of them.
DOCX_MAX_MEMBERS = 1000
DOCX_MAX_UNPACKED_BYTES = 200 * MB  # all members together (images included)
DOCX_MAX_XML_BYTES = 25 * MB  # one XML part (lxml holds it as a tree, ~10x in memory)


def max_file_bytes(path: Path) -> int:
    """The size cap for a file, by its suffix."""
    return MAX_FILE_BYTES.get(path.suffix.lower(), DEFAULT_MAX_FILE_BYTES)


def megabytes(n: int) -> str:
    """``n`` bytes as whole megabytes for messages ("50 MB")."""
    return f"{n // MB} MB"
