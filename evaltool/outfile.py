"""Output files (exports, backups) that appear whole or not at all, and only as files.

A file is written in a private temporary folder beside the target and renamed over
it when complete; the folder, and everything a writer put in it (openpyxl's sheet
parts hold transcript text), is removed whatever happens, including on SIGTERM or
SIGINT in the CLI (``cli.main`` turns them into a normal exit). The target must be a
regular file or not exist yet: a symbolic link is followed (the file it points to is
replaced, the link kept), and a folder, a device, a FIFO or a socket is refused.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evaltool.errors import FaultError, as_fault

TEMP_SUFFIX = ".evaltool-tmp"


def target(path: str | Path) -> Path:
    """The regular file to write for ``path`` (links followed), or a :class:`FaultError`."""
    path = Path(path)
    real = path.resolve() if path.is_symlink() else path
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise as_fault(exc) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise FaultError("is_folder", "IsADirectoryError", str(path))
    if mode is not None and not stat.S_ISREG(mode):
        raise FaultError("not_regular", None, str(path))
    if not real.parent.is_dir():
        raise FaultError("missing", "FileNotFoundError", str(real.parent))
    return real


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A path to write ``path``'s new content to; renamed over ``path`` when the block
    ends without error, removed (with its folder) in every case."""
    real = target(path)
    # The folder is made inside the ``try`` whose ``finally`` removes it: a signal that
    # lands just after the folder appears (SIGTERM turned into an exception by the CLI)
    # then still removes it. ``tempfile.mkdtemp`` would leave it behind in that moment.
    work = real.parent / f".{real.name}.{secrets.token_hex(8)}{TEMP_SUFFIX}"
    mine = True
    try:
        try:
            os.mkdir(work, 0o700)
        except FileExistsError:
            mine = False  # someone else's folder: never remove it
            raise
        tmp = work / real.name
        yield tmp
        os.replace(tmp, real)
    except OSError as exc:  # disk full, read-only ...: named by the target, not the temp file
        fault = as_fault(exc)
        fault.where = str(path)
        raise fault from None
    finally:
        if mine:
            shutil.rmtree(work, ignore_errors=True)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` through :func:`replacing`."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
