"""Safe names for uploaded files: an upload can never be written outside its folder.

A browser sends whatever file name the user's machine (or an attacker) chooses:
``../../etc/passwd``, ``C:\\Users\\x\\møde.docx``, ``CON.txt``, names with NUL or
right-to-left overrides. Only the last path component is kept, characters that
are unsafe on Linux, macOS or Windows are replaced, and the extension is kept so
the format is still recognised. Danish letters stay.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

FALLBACK = "upload"
MAX_BYTES = 200  # well below the usual 255-byte limit of a file name
_DRIVE = re.compile(r"^[A-Za-z]:")
_UNSAFE = frozenset('<>:"|?*/\\')
# Windows device names, reserved with any extension (https://learn.microsoft.com/
# en-us/windows/win32/fileio/naming-a-file#naming-conventions).
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                       *(f"COM{i}" for i in "0123456789¹²³"),
                       *(f"LPT{i}" for i in "0123456789¹²³")})


def _clean(name: str) -> str:
    """Replace control, format, separator and path characters with '_'."""
    return "".join(
        "_" if c in _UNSAFE or (unicodedata.category(c)[0] in "CZ" and c != " ") else c
        for c in name
    )


def _truncate(stem: str, suffix: str) -> str:
    """Shorten the stem so that the name fits in :data:`MAX_BYTES` bytes of UTF-8."""
    budget = MAX_BYTES - len(suffix.encode("utf-8"))
    while len(stem.encode("utf-8")) > budget:
        stem = stem[:-1]
    return stem + suffix


def safe_upload_path(folder: Path, filename: str) -> Path:
    """Where to store an uploaded file named ``filename``: always a file directly in ``folder``."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]  # both separators: the sender may be Windows
    name = _DRIVE.sub("", name)
    name = _clean(name).strip(" .")  # no hidden files, no '..', no trailing dot (Windows)
    suffix = Path(name).suffix if "." in name else ""
    if len(suffix) > 16 or not suffix[1:].isalnum():
        suffix = ""
    stem = name[: len(name) - len(suffix)].strip(" .") or FALLBACK
    if stem.split(".")[0].strip().upper() in _RESERVED:
        stem = "_" + stem
    name = _truncate(stem, suffix)
    target = folder / name
    # Belt and braces: the name has no separators left, but check the resolved path.
    if target.resolve().parent != folder.resolve():
        target = folder / (FALLBACK + suffix)
    return target
