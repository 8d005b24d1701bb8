"""Memos of every kind in one list, and writing document and project memos.

Two places hold memos: a coding's own memo (``codings.memo``, written with the
decision, recorded in the coding's events) and the ``memos`` table, whose rows are
on a segment, on a document (no segment) or on the project (no document either,
migration 0012). :meth:`MemoOps.memos` reads both as one list of
:class:`~evaltool.domain.MemoView`. Memos of the ``memos`` table are no coding
decisions (nothing to undo), but each write of one is recorded as an event in the same
transaction (``memo_add``, ``memo_edit``, ``memo_delete``: who, when, the text before and
after), so a segment memo shows in the segment's history; their author may edit or delete
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from evaltool.domain import MEMO_KINDS, HistoryEntry, MemoKind, MemoView, Permission
from evaltool.errors import AccessError, MemoError, NotFoundError
from evaltool.store.access import guarded, own_view
from evaltool.store.codings import SHARED, CodingOps, unit_columns
from evaltool.store.models import (
    READY,
    Assignment,
    Code,
    Coder,
    Coding,
    Document,
    Event,
    Memo,
    Segment,
    Turn,
    utcnow,
)

MEMO_MAX = 20_000  # characters of one memo (a long page of notes)
# Event actions of the memos table's writes (not undoable: see team.UNDOABLE).
MEMO_ADD, MEMO_EDIT, MEMO_DELETE = "memo_add", "memo_edit", "memo_delete"
MEMO_ACTIONS = (MEMO_ADD, MEMO_EDIT, MEMO_DELETE)


def memo_text(text: str | None) -> str:
    """The memo as stored (surrounding white space dropped), or :class:`MemoError`."""
    value = (text or "").strip()
    if not value:
        raise MemoError("empty")
    if len(value) > MEMO_MAX:
        raise MemoError("too_long", MEMO_MAX)
    return value


def _kind(document_id: int | None, segment_id: int | None) -> str:
    if document_id is None:
        return MemoKind.project.value
    return (MemoKind.document if segment_id is None else MemoKind.segment).value


class MemoOps:
    """Memo operations of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any
    actor: Any  # the signed-in Actor, or None (see Store.as_actor)

    def memos(self, *, kinds: Iterable[str] | None = None, document_id: int | None = None,
              coder: str | None = None, code_key: str | None = None,
              contains: str | None = None, visible_to: str | None = None) -> list[MemoView]:
        """Every memo (coding, segment, document and project memos), filtered.

        ``kinds`` limits the kinds (None: all); ``document_id`` keeps the memos on that
        document; ``coder`` those written by that coder; ``code_key`` the coding memos
        of that code (other kinds have no code); ``contains`` those whose text contains
        it (case-insensitive). With ``visible_to`` (a coder's name) the list is what that
        coder may see: no other coder's layer, and on a document assigned blind to them
        only their own memos (as :meth:`~evaltool.store.Store.coder_view` hides the rest).
        Project memos come first, then documents in order, memos by turn and time.
        """
        visible_to = own_view(self.actor, visible_to)
        wanted = set(MEMO_KINDS if kinds is None else kinds)
        unknown = wanted - set(MEMO_KINDS)
        if unknown:
            raise ValueError(f"unknown memo kind {sorted(unknown)[0]!r}")
        if code_key:
            wanted &= {MemoKind.coding.value}
        out: list[MemoView] = []
        with self.engine.connect() as conn:
            blind = self._blind_documents(conn, visible_to) if visible_to else set()
            if MemoKind.coding.value in wanted:
                out += self._coding_memos(conn, document_id, coder, code_key)
            if wanted - {MemoKind.coding.value}:
                out += [m for m in self._table_memos(conn, document_id, coder)
                        if m.kind in wanted]
        if visible_to:
            out = [m for m in out if (m.layer in (SHARED, visible_to))
                   and (m.document_id not in blind or m.coder == visible_to)]
        if contains and contains.strip():
            needle = contains.strip().casefold()
            out = [m for m in out if needle in m.text.casefold()]
        order = {k: i for i, k in enumerate(MEMO_KINDS)}
        out.sort(key=lambda m: (m.document_id or 0, m.turn or 0, m.segment_id or 0,
                                order[m.kind], m.at, m.id))
        return out

    @staticmethod
    def _blind_documents(conn: Connection, coder: str) -> set[int]:
        return set(conn.scalars(select(Assignment.document_id)
                                .join(Coder, Coder.id == Assignment.coder_id)
                                .where(Coder.name == coder, Assignment.blind)))

    @staticmethod
    def _coding_memos(conn: Connection, document_id: int | None, coder: str | None,
                      code_key: str | None) -> list[MemoView]:
        """Codings with a memo (every layer and codebook: a note outlives a codebook switch);
        the quote is the coded unit (a span's words, or the sentence)."""
        _, _, quote = unit_columns()
        stmt = (select(Coding.id, Coding.document_id, Document.name, Document.site,
                       Coding.turn_number, Coding.segment_id, quote.label("quote"), Code.key,
                       Code.label, Coder.name, Coding.updated_at, Coding.memo, Coding.layer)
                .join(Document, and_(Document.id == Coding.document_id,
                                     Document.status == READY))
                .join(Segment, Segment.id == Coding.segment_id)
                .join(Turn, Turn.id == Segment.turn_id)
                .join(Code, Code.id == Coding.code_id)
                .outerjoin(Coder, Coder.id == Coding.coder_id)
                .where(Coding.memo != ""))
        if document_id is not None:
            stmt = stmt.where(Coding.document_id == document_id)
        if coder:
            stmt = stmt.where(Coder.name == coder)
        if code_key:
            stmt = stmt.where(Code.key == code_key)
        return [MemoView(MemoKind.coding.value, r.id, r.document_id, r.name, r.site,
                         r.turn_number, r.segment_id, r.quote, r.key, r.label, r[9],
                         r.updated_at, r.memo, r.layer) for r in conn.execute(stmt)]

    @staticmethod
    def _table_memos(conn: Connection, document_id: int | None, coder: str | None
                     ) -> list[MemoView]:
        """Rows of the memos table: segment, document and project memos."""
        stmt = (select(Memo.id, Memo.document_id, Document.name, Document.site, Turn.number,
                       Memo.segment_id, Segment.text, Coder.name.label("coder"), Memo.updated_at,
                       Memo.text.label("memo"))
                .outerjoin(Document, Document.id == Memo.document_id)
                .outerjoin(Segment, Segment.id == Memo.segment_id)
                .outerjoin(Turn, Turn.id == Segment.turn_id)
                .outerjoin(Coder, Coder.id == Memo.coder_id)
                .where(or_(Memo.document_id.is_(None), Document.status == READY)))
        if document_id is not None:
            stmt = stmt.where(Memo.document_id == document_id)
        if coder:
            stmt = stmt.where(Coder.name == coder)
        return [MemoView(_kind(r.document_id, r.segment_id), r.id, r.document_id, r.name, r.site,
                         r.number, r.segment_id, r.text, None, None, r.coder, r.updated_at,
                         r.memo) for r in conn.execute(stmt)]

    def memo_history(self) -> list[HistoryEntry]:
        """Writes of segment, document and project memos (who, when, the text before and
        after), oldest first; a coding's memo is in its coding's history."""
        return self._history(Event.action.in_(MEMO_ACTIONS))  # type: ignore[attr-defined]

    # -- writing ---------------------------------------------------------------

    @guarded(Permission.code, coder="coder")
    def add_memo(self, segment_id: int, coder: str, text: str) -> int:
        """A memo on a segment itself (not on one of its codings); returns its id."""
        with self.write() as conn:
            doc = conn.scalar(select(Segment.document_id).where(Segment.id == segment_id))
            if doc is None:
                raise NotFoundError(f"no segment {segment_id}")
            return self._insert_memo(conn, doc, coder, text, segment_id)

    @guarded(Permission.code, coder="coder")
    def add_document_memo(self, document_id: int, coder: str, text: str) -> int:
        """A memo on a whole document, by ``coder``; returns its id."""
        value = memo_text(text)
        with self.write() as conn:
            found = conn.scalar(select(Document.id).where(Document.id == document_id,
                                                          Document.status == READY))
            if found is None:
                raise NotFoundError(f"no document {document_id} (see `evaltool list`)")
            return self._insert_memo(conn, document_id, coder, value)

    @guarded(Permission.code, coder="coder")
    def add_project_memo(self, coder: str, text: str) -> int:
        """A memo on the whole project (no document), by ``coder``; returns its id."""
        value = memo_text(text)
        with self.write() as conn:
            return self._insert_memo(conn, None, coder, value)

    def _insert_memo(self, conn: Connection, document_id: int | None, coder: str, text: str,
                     segment_id: int | None = None) -> int:
        """Insert a memo and its ``memo_add`` event; return its id."""
        if not coder or not coder.strip():
            raise ValueError("a memo needs the name of who writes it")
        now = utcnow()
        coder_id = CodingOps._coder_id(conn, coder.strip())
        memo_id = conn.execute(insert(Memo).values(
            document_id=document_id, segment_id=segment_id, coder_id=coder_id, text=text,
            created_at=now, updated_at=now).returning(Memo.id)).scalar_one()
        self._memo_event(conn, MEMO_ADD, coder_id, memo_id, document_id, segment_id, None, text)
        return memo_id

    def _memo_event(self, conn: Connection, action: str, coder_id: int | None, memo_id: int,
                    document_id: int | None, segment_id: int | None, before: str | None,
                    after: str | None) -> None:
        """Record a write of the memos table (the text before and after; None: none)."""
        place = {"memo_id": memo_id, "kind": _kind(document_id, segment_id),
                 "document_id": document_id, "segment_id": segment_id}
        self._event(conn, action, coder_id, None, segment_id,  # type: ignore[attr-defined]
                    None if before is None else {**place, "memo": before},
                    None if after is None else {**place, "memo": after})

    @guarded(Permission.code, coder="coder")
    def edit_memo(self, memo_id: int, coder: str, text: str) -> None:
        """Replace the text of one of ``coder``'s own segment, document or project memos."""
        value = memo_text(text)
        with self.write() as conn:
            row = self._own_memo(conn, memo_id, coder)
            conn.execute(update(Memo).where(Memo.id == memo_id)
                         .values(text=value, updated_at=utcnow()))
            if value != row.text:  # the same text again: nothing to record
                self._memo_event(conn, MEMO_EDIT, row.coder_id, memo_id, row.document_id,
                                 row.segment_id, row.text, value)

    @guarded(Permission.code, coder="coder")
    def delete_memo(self, memo_id: int, coder: str) -> None:
        """Delete one of ``coder``'s own segment, document or project memos."""
        with self.write() as conn:
            row = self._own_memo(conn, memo_id, coder)
            conn.execute(delete(Memo).where(Memo.id == memo_id))
            self._memo_event(conn, MEMO_DELETE, row.coder_id, memo_id, row.document_id,
                             row.segment_id, row.text, None)

    @staticmethod
    def _own_memo(conn: Connection, memo_id: int, coder: str) -> Any:
        """The memo's row, or a refusal when it does not exist (or its document is gone) or
        is not ``coder``'s."""
        row = conn.execute(select(Memo.id, Memo.text, Memo.document_id, Memo.segment_id,
                                  Memo.coder_id, Coder.name)
                           .outerjoin(Coder, Coder.id == Memo.coder_id)
                           .outerjoin(Document, Document.id == Memo.document_id)
                           .where(Memo.id == memo_id,
                                  or_(Memo.document_id.is_(None), Document.status == READY))
                           ).first()
        if row is None:
            raise NotFoundError(f"no memo {memo_id}")
        if row.name != (coder or "").strip():
            raise AccessError(f"memo {memo_id} was written by another coder")
        return row
