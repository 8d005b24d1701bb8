"""Writing a document (with its speakers, turns and segments), staged while it is imported.

An import writes a document in many short transactions: the document row is
``importing`` (invisible to every reader) until :meth:`DocumentWriter.publish`
flips it to ``ready`` in one last short transaction. :func:`discard_staged`
removes a staged document that will never be finished, also in short transactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Engine, delete, insert, select, text, update

from evaltool.domain import TURN_SEP, CarryOver, Sentence
from evaltool.errors import StagingLost
from evaltool.store.lifecycle import carry_over
from evaltool.store.models import (
    IMPORTING,
    READY,
    Document,
    DocumentAttribute,
    Segment,
    Speaker,
    Turn,
    utcnow,
)


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
    if conn.scalar(select(Document.id).where(Document.id == document_id,
                                             Document.status == READY)) is None:
        return None
    texts = conn.scalars(select(Turn.text).where(Turn.document_id == document_id)
                         .order_by(Turn.number))
    return TURN_SEP.join(texts)


# Key of the PostgreSQL advisory lock that serialises the few transactions which decide
# whether a document may appear (staging and publishing); SQLite's BEGIN IMMEDIATE
# already serialises every write transaction.
_PUBLISH_LOCK = 0x6576616C  # "eval"
DISCARD_CHUNK = 5000  # rows deleted per short transaction when a staged document goes


class DocumentWriter:
    """Inserts a document's rows on one open connection (the caller's transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock_documents(self) -> None:
        """Serialise this transaction with every other staging or publishing one.

        Two imports of the same content then cannot both pass the duplicate check.
        """
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PUBLISH_LOCK})

    def find_by_hash(self, content_hash: str) -> list[int]:
        """Ids of (ready) documents with this content hash."""
        rows = self.conn.execute(select(Document.id).where(Document.content_hash == content_hash,
                                                           Document.status == READY))
        return [r[0] for r in rows]

    def find_by_name(self, name: str) -> list[int]:
        """Ids of (ready) documents with this file name."""
        return [r[0] for r in self.conn.execute(
            select(Document.id).where(Document.name == name, Document.status == READY))]

    def importing(self, content_hash: str) -> list[int]:
        """Ids of documents with this content hash that an import is still writing."""
        return list(self.conn.scalars(select(Document.id).where(
            Document.content_hash == content_hash, Document.status == IMPORTING)))

    def touch(self, document_id: int) -> None:
        """Note that the import of a staged document is alive; :class:`StagingLost` if it
        is no longer staged (another process took it for a dead import's and removed it)."""
        done = self.conn.execute(update(Document).where(
            Document.id == document_id, Document.status == IMPORTING).values(imported_at=utcnow()))
        if done.rowcount != 1:
            raise StagingLost(document_id)

    def publish(self, document_id: int, *, model: str) -> None:
        """Flip a staged document to ready: from this commit on every reader sees it whole."""
        done = self.conn.execute(update(Document).where(
            Document.id == document_id, Document.status == IMPORTING).values(
                status=READY, import_owner=None, model=fit(Document.model, model),
                imported_at=utcnow()))
        if done.rowcount != 1:
            raise StagingLost(document_id)

    def delete(self, document_id: int) -> None:
        """Delete a document and everything that hangs off it (cascading)."""
        self.conn.execute(delete(Document).where(Document.id == document_id))

    def replace(self, old_ids: Sequence[int], new_id: int, *,
                discard_decisions: bool = False) -> CarryOver:
        """Carry the codings of documents ``old_ids`` over to document ``new_id`` and delete
        the old ones (see :func:`evaltool.store.lifecycle.carry_over`)."""
        return carry_over(self.conn, old_ids, new_id, discard_decisions=discard_decisions)

    def add_document(self, *, name: str, fmt: str, metadata: dict[str, Any],
                     content_hash: str, model: str, owner: str | None = None) -> int:
        """Insert the document row (its text is its turns, see :func:`document_text`).

        With ``owner`` (the importing process) it is staged: invisible until
        :meth:`publish`.
        """
        def text_of(key: str) -> str | None:
            value = metadata.get(key)
            return None if value is None else fit(getattr(Document, key), str(value))

        doc_id = self.conn.execute(
            insert(Document).values(
                name=fit(Document.name, name), format=fmt, title=text_of("title"),
                site=text_of("site"), date=text_of("date"), content_hash=content_hash,
                model=fit(Document.model, model), imported_at=utcnow(),
                status=READY if owner is None else IMPORTING,
                import_owner=None if owner is None else fit(Document.import_owner, owner),
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

    def add_turns_with_sentences(self, rows: list[dict[str, Any]],
                                 sentences: Sequence[Sequence[Sentence]]) -> list[int]:
        """Insert turns and their sentence segments; return the turns' ids in order.

        ``rows`` are turn rows (with ``document_id``, ``speaker_id``, ``start_char`` and
        ``text``); ``sentences[i]`` are turn i's sentences, offsets relative to its text.
        """
        turn_ids = self.add_turns(rows)
        seg_rows = [
            {"document_id": row["document_id"], "turn_id": turn_id,
             "speaker_id": row["speaker_id"], "sent_index": k,
             "start_char": row["start_char"] + s.start, "end_char": row["start_char"] + s.end,
             "text": row["text"][s.start:s.end], "lemmas": " ".join(s.lemmas),
             "tokens": s.tokens}  # tuples: stored as the same JSON arrays
            for row, turn_id, turn_sentences in zip(rows, turn_ids, sentences, strict=True)
            for k, s in enumerate(turn_sentences)
        ]
        if seg_rows:  # one executemany
            self.conn.execute(insert(Segment), seg_rows)
        return turn_ids



def staged_documents(conn: Connection) -> list[tuple[int, str | None, dt.datetime]]:
    """(id, owner, last write) of every document an import is writing or left behind."""
    rows = conn.execute(select(Document.id, Document.import_owner, Document.imported_at)
                        .where(Document.status == IMPORTING).order_by(Document.id))
    return [(i, owner, at if at.tzinfo else at.replace(tzinfo=dt.UTC)) for i, owner, at in rows]


def discard_staged(engine: Engine, document_id: int) -> bool:
    """Remove a staged document's rows in short write transactions; False if it is not
    (or no longer) staged. A ready document is never touched."""
    write = engine.execution_options(evaltool_write=True)
    staged = select(Document.id).where(Document.id == document_id, Document.status == IMPORTING)
    for table in (Segment, Turn):
        while True:
            with write.begin() as conn:
                if conn.scalar(staged) is None:
                    return False
                chunk = select(table.id).where(table.document_id == document_id).limit(DISCARD_CHUNK)
                if conn.execute(delete(table).where(table.id.in_(chunk))).rowcount == 0:
                    break
    with write.begin() as conn:  # speakers and attributes go with it (cascade)
        return conn.execute(delete(Document).where(Document.id == document_id,
                                                    Document.status == IMPORTING)).rowcount == 1
