"""Pseudonym mappings and the in-place rewrite of a document's names.

The rewrite (turns, segments, speakers) and the mapping rows are
written in one transaction, guarded by the text the caller computed from: if the
document changed in between, nothing is written. The document's text is its
turns joined, so rewriting the turns rewrites it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from evaltool.domain import (
    DocumentContent,
    Permission,
    PseudonymEntry,
    SegmentRecord,
    SpeakerRecord,
    TurnRecord,
)
from evaltool.errors import ConflictError, NotFoundError
from evaltool.store.access import guarded
from evaltool.store.documents import document_text
from evaltool.store.models import Coding, Pseudonym, Segment, Speaker, Turn, utcnow


class PseudonymOps:
    """Pseudonymisation operations of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any

    def document_content(self, document_id: int) -> DocumentContent:
        """A document's text, speakers (in order of first appearance), turns and segments."""
        first_turn = func.min(Turn.number)
        with self.engine.connect() as conn:
            text = document_text(conn, document_id)
            if text is None:
                raise NotFoundError(f"no document {document_id}")
            speakers = conn.execute(
                select(Speaker.id, Speaker.name, Speaker.is_moderator)
                .outerjoin(Turn, Turn.speaker_id == Speaker.id)
                .where(Speaker.document_id == document_id)
                .group_by(Speaker.id, Speaker.name, Speaker.is_moderator)
                .order_by(func.coalesce(first_turn, 2**31 - 1), Speaker.id)
            ).all()
            turns = conn.execute(
                select(Turn.id, Turn.start_char, Turn.end_char, Turn.text)
                .where(Turn.document_id == document_id).order_by(Turn.number)
            ).all()
            segments = conn.execute(
                select(Segment.id, Segment.start_char, Segment.end_char, Segment.text,
                       Segment.tokens)
                .where(Segment.document_id == document_id)
                .order_by(Segment.start_char, Segment.id)
            ).all()
            spans = _spans(conn, document_id)
        return DocumentContent(
            document_id, text,
            tuple(SpeakerRecord(r.id, r.name, bool(r.is_moderator)) for r in speakers),
            tuple(TurnRecord(*r) for r in turns),
            tuple(SegmentRecord(r.id, r.start_char, r.end_char, r.text, list(r.tokens or []))
                  for r in segments),
            spans,
        )

    def pseudonym_entries(self, document_id: int) -> list[PseudonymEntry]:
        """The stored name → pseudonym mapping of a document (empty if not pseudonymized)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Pseudonym.kind, Pseudonym.original, Pseudonym.pseudonym, Pseudonym.spans)
                .where(Pseudonym.document_id == document_id).order_by(Pseudonym.id)
            ).all()
        return [PseudonymEntry(r.kind, r.original, r.pseudonym,
                               tuple(tuple(s) for s in r.spans or ())) for r in rows]

    def pseudonymized_documents(self) -> set[int]:
        """Ids of documents that have a pseudonym mapping."""
        with self.engine.connect() as conn:
            return set(conn.scalars(select(Pseudonym.document_id).distinct()))

    @guarded(Permission.manage)
    def save_pseudonymized(self, before: DocumentContent, after: DocumentContent,
                           entries: list[PseudonymEntry]) -> bool:
        """Write the pseudonymized rows and the mapping in one transaction.

        Returns False (writing nothing) when the document got a mapping meanwhile.
        """
        with self.write() as conn:
            if conn.scalar(select(func.count()).select_from(Pseudonym)
                           .where(Pseudonym.document_id == before.document_id)):
                return False
            _rewrite(conn, before, after)
            if entries:
                now = utcnow()
                conn.execute(insert(Pseudonym), [
                    {"document_id": before.document_id, "kind": e.kind, "original": e.original,
                     "pseudonym": e.pseudonym, "spans": [list(s) for s in e.spans],
                     "created_at": now} for e in entries])
        return True

    @guarded(Permission.manage)
    def save_restored(self, before: DocumentContent, after: DocumentContent) -> None:
        """Write the restored rows and drop the mapping, in one transaction."""
        with self.write() as conn:
            _rewrite(conn, before, after)
            conn.execute(delete(Pseudonym).where(Pseudonym.document_id == before.document_id))


def _spans(conn: Connection, document_id: int) -> tuple[tuple[int, int, int], ...]:
    """(coding id, start, end) of a document's span codings, by id."""
    return tuple(tuple(r) for r in conn.execute(
        select(Coding.id, Coding.start_char, Coding.end_char)
        .where(Coding.document_id == document_id, Coding.start_char.is_not(None))
        .order_by(Coding.id)))


def _rewrite(conn: Connection, before: DocumentContent, after: DocumentContent) -> None:
    """Replace a document's text-bearing rows (ids unchanged, so codings stay attached) and
    move its span codings' offsets with the text."""
    doc_id = before.document_id
    if document_text(conn, doc_id) != before.text or _spans(conn, doc_id) != before.spans:
        raise ConflictError(f"document {doc_id} changed while it was being rewritten; "
                            "nothing was written, try again")
    moved = [{"_id": cid, "_s": start, "_e": end}
             for (cid, start, end), old in zip(after.spans, before.spans, strict=True)
             if (cid, start, end) != old]
    if moved:
        conn.execute(update(Coding).where(Coding.id == bindparam("_id"))
                     .values(start_char=bindparam("_s"), end_char=bindparam("_e")), moved)
    turns = [{"_id": t.id, "_s": t.start_char, "_e": t.end_char, "_t": t.text}
             for t, old in zip(after.turns, before.turns, strict=True) if t != old]
    if turns:
        conn.execute(update(Turn).where(Turn.id == bindparam("_id"))
                     .values(start_char=bindparam("_s"), end_char=bindparam("_e"),
                             text=bindparam("_t")), turns)
    segs = [{"_id": s.id, "_s": s.start_char, "_e": s.end_char, "_t": s.text, "_k": s.tokens}
            for s, old in zip(after.segments, before.segments, strict=True) if s != old]
    if segs:
        conn.execute(update(Segment).where(Segment.id == bindparam("_id"))
                     .values(start_char=bindparam("_s"), end_char=bindparam("_e"),
                             text=bindparam("_t"), tokens=bindparam("_k")), segs)
    renamed = [(s.id, s.name) for s, old in zip(after.speakers, before.speakers, strict=True)
               if s.name != old.name]
    # Two steps, because names are unique per document and pseudonyms may swap
    # existing labels (a speaker "Deltager 2" can become "Deltager 1"); parsed
    # speaker names never contain parentheses, so the interim names cannot clash.
    for speaker_id, _ in renamed:
        conn.execute(update(Speaker).where(Speaker.id == speaker_id)
                     .values(name=f"({speaker_id} renaming)"))
    for speaker_id, name in renamed:
        conn.execute(update(Speaker).where(Speaker.id == speaker_id).values(name=name))
