"""Span codings in the database: a code on any words of one turn (migration 0013).

A span coding is a :class:`~evaltool.store.models.Coding` whose ``start_char`` and
``end_char`` hold document offsets (``Store.document_text(doc)[start:end]`` is the
quote); its ``segment_id`` is the first sentence the span overlaps, and its
``document_id``/``turn_number`` are copied like every coding's. Decisions on it
(accept, reject, recode, memo, undo) go through the same paths as sentence codings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from evaltool.domain import CodingStatus, CodingView, Permission, Source
from evaltool.errors import NotFoundError, SpanError
from evaltool.store.access import check_layer, guarded
from evaltool.store.codings import SHARED, event_state, same_unit
from evaltool.store.models import READY, Code, Codebook, Coding, Document, Segment, Turn, utcnow


class SpanOps:
    """Span coding of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any
    actor: Any  # the signed-in Actor, or None (see Store.as_actor)

    @guarded(Permission.code, coder="coder")
    def code_span(self, document_id: int, start: int, end: int, code_key: str, *, coder: str,
                  layer: str = SHARED, memo: str = "") -> CodingView:
        """Code the words ``[start, end)`` of a document (document offsets) as ``coder``.

        Whitespace around the selection is left off. The span must lie in one turn.
        The coding is an accepted human coding; with ``layer`` '' it goes to the
        layer the coder works in (their own while the document is assigned blind to
        them, else the shared one). One transaction with an ``add`` event. Refused
        with :class:`SpanError` (empty or whitespace-only, outside the text, across
        turns, a retired code, the same span already coded with the code) or
        :class:`NotFoundError` (no such document or code); nothing is written then.
        """
        with self.write() as conn:
            if conn.scalar(select(Document.id).where(Document.id == document_id,
                                                     Document.status == READY)) is None:
                raise NotFoundError(f"no document {document_id}")
            turn = self._span_turn(conn, document_id, start, end)
            text = turn.text
            lo, hi = max(start - turn.start_char, 0), min(end - turn.start_char, len(text))
            piece = text[lo:hi]
            lo += len(piece) - len(piece.lstrip())
            hi -= len(piece) - len(piece.rstrip())
            start, end = turn.start_char + lo, turn.start_char + hi
            code = conn.execute(select(Code.id, Code.retired)
                                .join(Codebook, Codebook.id == Code.codebook_id)
                                .where(Codebook.is_active, Code.key == code_key)).first()
            if code is None:
                raise NotFoundError(f"no code {code_key!r} in the active codebook")
            if code.retired:
                raise SpanError("retired_code", document_id, start, end)
            segment_id = conn.scalar(
                select(Segment.id).where(Segment.turn_id == turn.id, Segment.start_char < end,
                                         Segment.end_char > start)
                .order_by(Segment.start_char).limit(1))
            if segment_id is None:  # only text between sentences (a segmenter left it out)
                raise SpanError("empty", document_id, start, end)
            if not layer and self._is_blind(conn, document_id, coder):
                layer = coder
            check_layer(conn, self.actor, document_id, layer)
            coder_id = self._coder_id(conn, coder)
            row = conn.execute(select(Coding).where(
                Coding.segment_id == segment_id, Coding.code_id == code.id,
                Coding.layer == layer, same_unit(start, end))).first()
            now = utcnow()
            accepted = CodingStatus.accepted.value
            if row is not None and row.status == accepted:
                raise SpanError("exists", document_id, start, end)
            if row is None:
                after = {"code_id": code.id, "status": accepted, "source": Source.human.value,
                         "memo": memo, "layer": layer, "version": 1, "segment_id": segment_id,
                         "coder_id": coder_id, "confidence": None, "explanation": "",
                         "start_char": start, "end_char": end}
                coding_id = conn.execute(insert(Coding).values(
                    **after, document_id=document_id, turn_number=turn.number,
                    created_at=now, updated_at=now).returning(Coding.id)).scalar_one()
                self._event(conn, "add", coder_id, coding_id, segment_id, None, after)
            else:  # rejected (or left open) before: coded again
                coding_id = row.id
                values = {"status": accepted, "coder_id": coder_id, "updated_at": now,
                          "version": row.version + 1, **({"memo": memo} if memo else {})}
                conn.execute(update(Coding).where(Coding.id == row.id).values(**values))
                before = event_state(row)
                self._event(conn, "add", coder_id, coding_id, segment_id, before,
                            {**before, **{k: v for k, v in values.items() if k in before}})
        return next(v for v in self.coding_views(status="all", layer=layer,
                                                 segment_ids=[segment_id])
                    if v.id == coding_id)

    def span_offsets(self, coding_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Coding id → (start, end) of those of ``coding_ids`` that are span codings."""
        ids = list(dict.fromkeys(coding_ids))
        out: dict[int, tuple[int, int]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 5000):
                for cid, start, end in conn.execute(
                        select(Coding.id, Coding.start_char, Coding.end_char)
                        .where(Coding.id.in_(ids[i:i + 5000]), Coding.start_char.is_not(None))):
                    out[cid] = (start, end)
        return out

    @staticmethod
    def _span_turn(conn: Connection, document_id: int, start: int, end: int) -> Any:
        """The turn that holds ``[start, end)`` (whitespace at either end left off)."""
        if not isinstance(start, int) or not isinstance(end, int) or start < 0 or end <= start:
            raise SpanError("empty" if end == start else "out_of_range", document_id, start, end)
        turns = conn.execute(select(Turn.id, Turn.number, Turn.start_char, Turn.end_char,
                                    Turn.text)
                             .where(Turn.document_id == document_id, Turn.start_char < end,
                                    Turn.end_char > start)
                             .order_by(Turn.number)).all()
        last = conn.scalar(select(Turn.end_char).where(Turn.document_id == document_id)
                           .order_by(Turn.number.desc()).limit(1))
        if last is None or end > last:
            raise SpanError("out_of_range", document_id, start, end)
        # a selection may reach into the blank lines between turns: only turns in which
        # it has more than whitespace count
        inked = [t for t in turns
                 if t.text[max(start - t.start_char, 0):end - t.start_char].strip()]
        if not inked:
            raise SpanError("empty", document_id, start, end)
        if len(inked) > 1:
            raise SpanError("across_turns", document_id, start, end)
        return inked[0]

