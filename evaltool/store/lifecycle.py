"""Removing and replacing documents without losing human work unnoticed.

Deleting a document removes its speakers, turns, segments, codings (every layer)
and assignments in one transaction (the foreign keys cascade) and appends one
:class:`~evaltool.store.models.Event` (action ``delete_document``) that records who
deleted which document and how much went with it: counts and the file name, never
transcript text. Events of the deleted codings stay (history outlives rows).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, select

from evaltool.domain import DocumentDeletion
from evaltool.errors import NotFoundError
from evaltool.store.models import READY, Assignment, Coding, Document, Segment, Turn

DELETE_ACTION = "delete_document"


def document_counts(conn: Connection, document_id: int) -> dict[str, int]:
    """Turns, segments, codings, human decisions and assignments of a document."""
    def count(stmt: Any) -> int:
        return int(conn.scalar(stmt) or 0)

    return {
        "turns": count(select(func.count()).select_from(Turn)
                       .where(Turn.document_id == document_id)),
        "segments": count(select(func.count()).select_from(Segment)
                          .where(Segment.document_id == document_id)),
        "codings": count(select(func.count()).select_from(Coding)
                         .where(Coding.document_id == document_id)),
        # a coding with a coder is a person's work (decided, added, memo'd or adjudicated)
        "human_decisions": count(select(func.count()).select_from(Coding)
                                 .where(Coding.document_id == document_id,
                                        Coding.coder_id.is_not(None))),
        "assignments": count(select(func.count()).select_from(Assignment)
                             .where(Assignment.document_id == document_id)),
    }


class LifecycleOps:
    """Document deletion of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any

    def delete_document(self, document_id: int, *, actor: str) -> DocumentDeletion:
        """Delete a document and everything hanging off it, in one transaction, as ``actor``.

        The deletion is recorded as a history event (who, when, which document, the
        counts); returns what was removed. :class:`NotFoundError` if there is no such
        document (nothing is written).
        """
        if not actor or not actor.strip():
            raise ValueError("a deletion needs the name of who deletes")
        with self.write() as conn:
            name = conn.scalar(select(Document.name).where(Document.id == document_id,
                                                            Document.status == READY))
            if name is None:
                raise NotFoundError(f"no document {document_id} (see `evaltool list`)")
            counts = document_counts(conn, document_id)
            coder_id = self._coder_id(conn, actor.strip())
            # speakers, turns, segments, their codings and assignments cascade
            conn.execute(delete(Document).where(Document.id == document_id))
            record = {"document_id": document_id, "document": name, **counts}
            event_id = self._event(conn, DELETE_ACTION, coder_id, None, None, record, None)
        return DocumentDeletion(document_id, name, counts["turns"], counts["segments"],
                                counts["codings"], counts["human_decisions"],
                                counts["assignments"], event_id)
