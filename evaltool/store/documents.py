"""Writing one document (with its speakers, turns and segments) in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, delete, insert, select

from evaltool.domain import TURN_SEP
from evaltool.store.models import Document, DocumentAttribute, Segment, Speaker, Turn, utcnow


def fit(column: Column | Any, value: str | None) -> str | None:
    """``value`` cut to the column's ``VARCHAR(n)`` length, ending in "…" when cut.

    PostgreSQL enforces the length and SQLite does not; cutting here makes both
    store the same row instead of the import failing on PostgreSQL only. Front-matter
    values are also kept whole in ``document_attributes``.
    """
    limit = getattr(column.type, "length", None)
    if value is None or limit is None or len(value) <= limit:
        return value
    return value[:limit - 1] + "…"


def document_text(conn: Connection, document_id: int) -> str | None:
    """A document's normalised text: its turns joined by ``TURN_SEP``, in order (None if
    there is no such document). Turn offsets point into it; it is not stored whole."""
    if conn.scalar(select(Document.id).where(Document.id == document_id)) is None:
        return None
    texts = conn.scalars(select(Turn.text).where(Turn.document_id == document_id)
                         .order_by(Turn.number))
    return TURN_SEP.join(texts)


class DocumentWriter:
    """Inserts a document's rows on one open connection (the caller's transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find_by_hash(self, content_hash: str) -> list[int]:
        """Ids of documents with this content hash."""
        rows = self.conn.execute(select(Document.id).where(Document.content_hash == content_hash))
        return [r[0] for r in rows]

    def find_by_name(self, name: str) -> list[int]:
        """Ids of documents with this file name."""
        return [r[0] for r in self.conn.execute(select(Document.id).where(Document.name == name))]

    def delete(self, document_id: int) -> None:
        """Delete a document and everything that hangs off it (cascading)."""
        self.conn.execute(delete(Document).where(Document.id == document_id))

    def add_document(self, *, name: str, fmt: str, metadata: dict[str, Any],
                     content_hash: str, model: str) -> int:
        """Insert the document row (its text is its turns, see :func:`document_text`)."""
        def text_of(key: str) -> str | None:
            value = metadata.get(key)
            return None if value is None else fit(getattr(Document, key), str(value))

        doc_id = self.conn.execute(
            insert(Document).values(
                name=fit(Document.name, name), format=fmt, title=text_of("title"),
                site=text_of("site"), date=text_of("date"), content_hash=content_hash, model=model,
                imported_at=utcnow(),
            ).returning(Document.id)
        ).scalar_one()
        if metadata:
            self.conn.execute(insert(DocumentAttribute), [
                {"document_id": doc_id, "key": str(k), "value": v} for k, v in metadata.items()
            ])
        return doc_id

    def add_speakers(self, document_id: int, speakers: Sequence[tuple[str, str | None, bool]]
                     ) -> dict[str, int]:
        """Insert speakers (name, role, is_moderator); return name → id."""
        ids: dict[str, int] = {}
        for name, role, moderator in speakers:
            ids[name] = self.conn.execute(
                insert(Speaker).values(document_id=document_id, name=fit(Speaker.name, name),
                                       role=fit(Speaker.role, role), is_moderator=moderator)
                .returning(Speaker.id)
            ).scalar_one()
        return ids

    def add_turns(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert turns; return their ids in the order given."""
        if not rows:
            return []
        rows = [{**r, "role": fit(Turn.role, r.get("role"))} if r.get("role") else r for r in rows]
        result = self.conn.execute(
            insert(Turn).returning(Turn.id, sort_by_parameter_order=True), rows
        )
        return [r[0] for r in result]

    def add_segments(self, rows: list[dict[str, Any]]) -> None:
        """Insert segments in one executemany."""
        if rows:
            self.conn.execute(insert(Segment), rows)

