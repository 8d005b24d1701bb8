"""Typed errors raised where a problem happens, each carrying where it happened.

Every error renders as one line (``str(err)``) that names the file and, where it
applies, the line. The CLI prints that line; the app shows the same text. None
of them ever includes transcript text (see README: personal data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar


class EvaltoolError(Exception):
    """Base class for errors a user can act on (never shown with a traceback)."""


class IngestError(EvaltoolError):
    """A transcript could not be read or parsed."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class CodebookError(EvaltoolError):
    """A codebook file is invalid."""

    def __init__(
        self, path: str | Path, line: int | None, field: str | None, message: str
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        field = f" [{self.field}]" if self.field else ""
        return f"{where}:{field} {self.message}"


class StaleCodebookError(CodebookError):
    """A codebook file is older than the stored codebook of the same id (loading it would
    undo the edits made since)."""


class CodebookEditError(EvaltoolError):
    """An edit of the stored codebook that cannot be made; ``kind`` says why (the app words
    it in Danish), ``code`` and ``other`` name the codes involved."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "unknown_code": "no code {code!r} in the active codebook",
        "retired_code": "code {code!r} is retired",
        "id_taken": "a code with id {code!r} exists already",
        "id_retired": "id {code!r} belongs to a retired code (its codings are kept); choose "
                      "another id",
        "same_code": "cannot merge code {code!r} into itself",
        "has_children": "code {code!r} has sub-codes ({other}); give them another parent first",
        "unknown_field": "{other!r} is not a field a code edit can change",
        "nothing_changed": "nothing to change on code {code!r}",
    }

    def __init__(self, kind: str, code: str, other: str | None = None) -> None:
        self.kind = kind
        self.code = code
        self.other = other
        super().__init__(str(self))

    def __str__(self) -> str:
        return "codebook: " + self.MESSAGES[self.kind].format(code=self.code, other=self.other)


class StoreError(EvaltoolError):
    """The database cannot be opened, migrated or written as asked."""


class StagingLost(StoreError):
    """A document being imported was removed before its import finished (another
    process took the import for a dead one and cleaned up after it)."""

    def __init__(self, document_id: int) -> None:
        super().__init__("its partly written rows were removed by another process (taken for "
                         "an import that had died); nothing stored")
        self.document_id = document_id


class NotEmptyError(StoreError):
    """A whole project is imported only into a database that holds no documents yet."""

    def __init__(self, documents: int) -> None:
        self.documents = documents
        super().__init__(f"the database already holds {documents} document(s); a REFI-QDA "
                         "project is imported into a new, empty database (--db NEW)")


class ChainsTooHeavyError(EvaltoolError):
    """A CMO chain query ran past its time budget (``seconds``) and was stopped: too many
    codings within a turn of each other (every machine suggestion of a big project)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"CMO chains: stopped after {seconds:g} s (too many codings near each "
                         "other to count in time); choose accepted codings only, or one site")


class NotFoundError(EvaltoolError):
    """A document, segment, code or coding named by the user does not exist."""


class ModelError(EvaltoolError):
    """The spaCy pipeline is missing or unsuitable."""


class ConflictError(EvaltoolError):
    """Somebody else changed a record since it was read (optimistic locking)."""


class AccessError(EvaltoolError):
    """The acting user may not do this. ``kind`` says why, for the app's Danish text:
    'layer' (another coder's layer or memo), 'role' (the role lacks the permission: a lead
    writing), 'impersonation' (acting under another coder's name), 'blind' (the shared
    layer of a document assigned blind to them), 'unassigned' (a document assigned to
    others), 'read' (another coder's own work), 'account' (the account was removed),
    'last_admin' (demoting or removing the only admin), 'unguarded' (a write the store
    does not check: a bug)."""

    def __init__(self, message: str, kind: str = "layer") -> None:
        self.kind = kind
        super().__init__(message)


class SignInError(EvaltoolError):
    """A sign-in was refused. ``kind`` is 'invalid' (unknown account or wrong password:
    deliberately one reason) or 'locked' (too many failed attempts); no other detail."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__("sign-in refused: too many failed attempts, try again later"
                         if kind == "locked" else "sign-in refused: unknown account or wrong password")


class DecisionsWouldBeLostError(EvaltoolError):
    """Re-importing would drop human decisions no identical sentence can take over.

    ``carry`` (a :class:`~evaltool.domain.CarryOver`) says which, by place and code;
    nothing was changed.
    """

    def __init__(self, message: str, carry: Any) -> None:
        super().__init__(message)
        self.carry = carry


class SearchSyntaxError(EvaltoolError):
    """A search query cannot be read; ``kind`` says why (the UI words it), ``position``
    where (0-based character in the query)."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "empty": "empty query",
        "or_without_term": "OR needs a word or phrase on both sides",
        "only_excluded": "a query needs at least one word that is not excluded with '-'",
        "unclosed_quote": "a phrase's closing '\"' is missing",
        "misplaced_star": "'*' may only end a word (a prefix such as samskab*)",
        "no_word": "a word or phrase has no letters or digits",
        "bad_character": "character not allowed in a query",
    }

    def __init__(self, kind: str, position: int, near: str) -> None:
        self.kind = kind
        self.position = position
        self.near = near
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"search query, character {self.position + 1}: {self.MESSAGES[self.kind]}"


class AttributeInputError(EvaltoolError):
    """An attribute key or value is not allowed; ``kind`` says why (the UI words it),
    ``key`` which attribute."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "bad_key": "a key is 1-40 letters, digits, '_' or '-' and starts with a letter",
        "empty_value": "the value is empty (to remove an attribute, unset it)",
        "long_value": "a value is at most 200 characters",
        "control": "a value may not hold line breaks or control characters",
        "many_values": "a list holds at most 20 values",
        "bad_value": "a value is a text or a list of texts",
        "no_equals": "write KEY=VALUE",
    }

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"attribute {self.key[:40]!r}: {self.MESSAGES[self.kind]}"


class MemoError(EvaltoolError):
    """A memo cannot be written as given; ``kind`` says why (the UI words it)."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "empty": "a memo needs some text",
        "too_long": "a memo holds at most {limit} characters",
    }

    def __init__(self, kind: str, limit: int = 0) -> None:
        self.kind = kind
        self.limit = limit
        super().__init__(str(self))

    def __str__(self) -> str:
        return "memo: " + self.MESSAGES[self.kind].format(limit=self.limit)


class PinError(EvaltoolError):
    """A quote cannot be pinned to (or unpinned from) a theme as asked; ``kind`` says why
    (the UI words it in Danish), the message names the coding and the theme, never text."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "unknown_theme": "no theme {theme!r} in the active codebook",
        "not_in_theme": "coding {coding} is of a code outside theme {theme!r}",
        "rejected": "coding {coding} is rejected; only open or accepted codings can be pinned",
        "own_layer": "coding {coding} is in a coder's own (blind) layer; the report quotes the "
                     "project's shared coding",
        "pinned": "coding {coding} is pinned to theme {theme!r} already",
        "not_pinned": "coding {coding} is not pinned to theme {theme!r}",
        "no_coder": "a pin needs the name of who pins it",
    }

    def __init__(self, kind: str, coding: int, theme: str) -> None:
        self.kind = kind
        self.coding = coding
        self.theme = theme
        super().__init__(str(self))

    def __str__(self) -> str:
        return "pin: " + self.MESSAGES[self.kind].format(coding=self.coding, theme=self.theme)


class SpanError(EvaltoolError):
    """A selection of text cannot be coded as a span; ``kind`` says why (the UI words
    it in Danish), the message names the document and the offsets, never the text."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "empty": "the selection is empty or only whitespace",
        "out_of_range": "the selection lies outside the document's text",
        "across_turns": "the selection runs across turns (a span lies within one turn)",
        "retired_code": "the code is retired (not in the codebook file any more)",
        "exists": "this span already has this code",
    }

    def __init__(self, kind: str, document_id: int, start: int, end: int) -> None:
        self.kind = kind
        self.document_id = document_id
        self.start = start
        self.end = end
        super().__init__(str(self))

    def __str__(self) -> str:
        return (f"document {self.document_id}, characters {self.start}-{self.end}: "
                f"{self.MESSAGES[self.kind]}")


class RefiError(EvaltoolError):
    """A REFI-QDA file (``.qdpx`` project or ``.qdc`` codebook) cannot be imported; ``part``
    names what is wrong in it (``project.qde line 12``, ``selection 3F2A…``), never text."""

    def __init__(self, path: str | Path, part: str | None, message: str) -> None:
        self.path = str(path)
        self.part = part
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}: {self.part}" if self.part else self.path
        return f"{where}: {self.message}"


class FaultError(StoreError):
    """A fault of the environment (database, disk, file system, a number out of range).

    ``kind`` names the problem (see :data:`FAULTS`), ``cause`` the exception class it
    came from; the original exception's text is never kept, because database errors
    carry SQL parameters (whole turns) and OS errors may quote file contents.
    """

    def __init__(self, kind: str, cause: str | None, where: str | None = None,
                 detail: str | None = None) -> None:
        self.kind = kind
        self.cause = cause
        self.where = where
        self.detail = detail
        super().__init__(str(self))

    @property
    def message(self) -> str:
        """The problem in English, without the place and the class."""
        text = FAULTS.get(self.kind, FAULTS["os"])
        return f"{text} {self.detail}" if self.detail else text

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        cause = f" ({self.cause})" if self.cause else ""
        return f"{where}{self.message}{cause}"


# kind -> English text; the app's Danish text for each kind is in evaltool/ui/text.py
FAULTS = {
    "locked": "the database is locked by another process; try again when it has finished",
    "read_only": "the database or its folder is read-only; nothing was changed",
    "disk_full": "the disk is full; nothing was changed",
    "io": "the disk cannot be written or read (full, or failing); nothing was changed",
    "permission": "permission denied",
    "newer_schema": "the database was made by a newer evaltool; upgrade evaltool to open it",
    "damaged": "not an evaltool database, or the file is damaged",
    "cannot_open": "the database file cannot be opened",
    "bad_url": "invalid database URL",
    "missing": "does not exist",
    "is_folder": "is a folder; give a file name",
    "not_regular": "is not a regular file (a device, pipe or socket)",
    "too_large": "a number is out of range (ids are at most 64-bit)",
    "migration": "the database schema cannot be upgraded; nothing was changed",
    "database": "database error; nothing was changed",
    "os": "cannot read or write the file",
}

_SQLITE_KINDS = {
    "SQLITE_BUSY": "locked", "SQLITE_LOCKED": "locked", "SQLITE_FULL": "disk_full",
    "SQLITE_NOTADB": "damaged", "SQLITE_CORRUPT": "damaged", "SQLITE_CANTOPEN": "cannot_open",
    "SQLITE_PERM": "permission", "SQLITE_AUTH": "permission",
}
_ERRNO_KINDS = {"ENOSPC": "disk_full", "EDQUOT": "disk_full", "EFBIG": "disk_full",
                "EROFS": "read_only", "EACCES": "permission", "EPERM": "permission",
                "ENOENT": "missing", "EISDIR": "is_folder", "ENOTDIR": "missing"}


def _sqlite_kind(exc: BaseException) -> str | None:
    """The fault kind of a sqlite3 error, from its extended result code's name."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY"):
        return "read_only"
    if name.startswith("SQLITE_IOERR"):
        return "io"
    return _SQLITE_KINDS.get("_".join(name.split("_")[:2]))


def as_fault(exc: BaseException, database: str | None = None) -> FaultError | None:
    """The typed error for a database, OS, migration or overflow exception (None for others).

    One mapping used by the CLI's and the app's error boundary; ``database`` names the
    database in messages about it.
    """
    import errno
    import sqlite3

    from sqlalchemy import exc as sa_exc

    cause = type(exc).__name__
    if isinstance(exc, FaultError):
        return exc
    if isinstance(exc, OverflowError):
        return FaultError("too_large", cause)
    if isinstance(exc, sa_exc.ArgumentError):
        return FaultError("bad_url", cause, database)
    if isinstance(exc, sa_exc.DBAPIError):
        orig = exc.orig
        kind = _sqlite_kind(orig) if isinstance(orig, sqlite3.Error) else None
        if kind is None and isinstance(exc, sa_exc.DataError):
            kind = "too_large"
        return FaultError(kind or "database", cause, database)
    if isinstance(exc, sqlite3.Error):
        return FaultError(_sqlite_kind(exc) or "database", cause, database)
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return FaultError("database", cause, database)
    if isinstance(exc, OSError):
        name = errno.errorcode.get(exc.errno or 0, "")
        where = str(exc.filename) if exc.filename is not None else None
        return FaultError(_ERRNO_KINDS.get(name, "os"), cause, where)
    try:
        from alembic.util.exc import CommandError
    except ImportError:  # pragma: no cover - alembic is a dependency
        return None
    if isinstance(exc, CommandError):
        return FaultError("migration", cause, database)
    return None
