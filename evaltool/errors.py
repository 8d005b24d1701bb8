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


class StoreError(EvaltoolError):
    """The database cannot be opened, migrated or written as asked."""


class StagingLost(StoreError):
    """A document being imported was removed before its import finished (another
    process took the import for a dead one and cleaned up after it)."""

    def __init__(self, document_id: int) -> None:
        super().__init__("its partly written rows were removed by another process (taken for "
                         "an import that had died); nothing stored")
        self.document_id = document_id


class NotFoundError(EvaltoolError):
    """A document, segment, code or coding named by the user does not exist."""


class ModelError(EvaltoolError):
    """The spaCy pipeline is missing or unsuitable."""


class ConflictError(EvaltoolError):
    """Somebody else changed a record since it was read (optimistic locking)."""


class AccessError(EvaltoolError):
    """A coder tried to change a coding in another coder's layer."""


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
