"""Team coding in the database: assignments, blind layers, adjudication, history, undo.

Layers: the shared layer ('') holds the machine suggestions and the project's
agreed coding. While a document is assigned *blind* to a coder, that coder's
decisions go to a layer named after them, so that two coders can code the same
document without seeing each other's work (see :meth:`TeamOps.decide_as`).

Every write here appends an :class:`~evaltool.store.models.Event` and bumps the
coding's ``version`` like :meth:`~evaltool.store.codings.CodingOps.decide`; undo
restores a coding's ``before`` state and is itself an event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from evaltool.domain import (
    AssignmentInfo,
    CodingStatus,
    CodingView,
    Decision,
    HistoryEntry,
    Permission,
    Source,
)
from evaltool.errors import AccessError, ConflictError, NotFoundError
from evaltool.store.access import check_layer, guarded, may_read_coder, own_view
from evaltool.store.codings import (
    MACHINE,
    SHARED,
    conflict_error,
    same_unit,
    segment_places,
    unit_columns,
)
from evaltool.store.lifecycle import CARRY_ACTION, DELETE_ACTION, REPLACE_ACTION
from evaltool.store.models import (
    READY,
    Assignment,
    Code,
    Coder,
    Coding,
    Document,
    Event,
    ReviewMark,
    Segment,
    Turn,
    utcnow,
)

# Sources a machine proposes; a blind coder sees these shared rows as open suggestions.
MACHINE_SOURCES = frozenset({Source.rules.value, Source.model.value, Source.combined.value})
# Event actions that are decisions a coder can undo (an 'undo' itself is not).
UNDOABLE = ("accept", "reject", "recode", "memo", "add", "adjudicate")
# Event actions that decide a coding (a memo alone does not): a coder who made one in a
# turn has reviewed that turn (see :meth:`TeamOps.reviewed_turns`).
DECIDING = ("accept", "reject", "recode", "add", "adjudicate")
# Columns an event's before/after records (the user-visible state of a coding).
STATE_KEYS = ("code_id", "status", "source", "memo", "layer", "version", "segment_id", "coder_id",
              "confidence", "explanation", "start_char", "end_char")


def _state(values: Any) -> dict[str, Any]:
    """The event state of a row or a dict of column values."""
    get = values.get if isinstance(values, dict) else lambda k: getattr(values, k)
    return {k: get(k) for k in STATE_KEYS}


class TeamOps:
    """Team-coding operations of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any
    actor: Any  # the signed-in Actor, or None (see Store.as_actor)

    # -- assignments -----------------------------------------------------------

    @guarded(Permission.manage)
    def assign(self, document_id: int, coders: Sequence[str], *, blind: bool = True
               ) -> list[AssignmentInfo]:
        """Assign a document to coders (blind by default); re-assigning changes ``blind``."""
        with self.write() as conn:
            if conn.scalar(select(Document.id).where(Document.id == document_id,
                                                     Document.status == READY)) is None:
                raise NotFoundError(f"no document {document_id}")
            for name in coders:
                coder_id = self._coder_id(conn, name)
                found = conn.scalar(select(Assignment.id).where(
                    Assignment.document_id == document_id, Assignment.coder_id == coder_id))
                if found is None:
                    conn.execute(insert(Assignment).values(document_id=document_id,
                                                           coder_id=coder_id, blind=blind,
                                                           created_at=utcnow()))
                else:
                    conn.execute(update(Assignment).where(Assignment.id == found)
                                 .values(blind=blind))
        return self.assignments(document_id)

    @guarded(Permission.manage)
    def unassign(self, document_id: int, coder: str) -> bool:
        """Remove a coder's assignment to a document (their layer is kept); True if one existed."""
        with self.write() as conn:
            coder_id = conn.scalar(select(Coder.id).where(Coder.name == coder))
            result = conn.execute(delete(Assignment).where(Assignment.document_id == document_id,
                                                           Assignment.coder_id == coder_id))
        return result.rowcount > 0

    def assignments(self, document_id: int | None = None, coder: str | None = None
                    ) -> list[AssignmentInfo]:
        """Assignments, by document then coder."""
        stmt = (select(Assignment.document_id, Document.name, Coder.name, Assignment.blind)
                .join(Document, Document.id == Assignment.document_id)
                .join(Coder, Coder.id == Assignment.coder_id)
                .order_by(Assignment.document_id, Coder.name))
        if document_id is not None:
            stmt = stmt.where(Assignment.document_id == document_id)
        if coder is not None:
            stmt = stmt.where(Coder.name == coder)
        with self.engine.connect() as conn:
            return [AssignmentInfo(*r) for r in conn.execute(stmt)]

    def is_blind(self, document_id: int, coder: str) -> bool:
        """True while the document is assigned blind to this coder."""
        with self.engine.connect() as conn:
            return self._is_blind(conn, document_id, coder)

    @staticmethod
    def _is_blind(conn: Connection, document_id: int, coder: str) -> bool:
        return bool(conn.scalar(
            select(Assignment.blind).join(Coder, Coder.id == Assignment.coder_id)
            .where(Assignment.document_id == document_id, Coder.name == coder)))

    # -- what a coder sees -----------------------------------------------------

    def coder_view(self, document_id: int, coder: str, *,
                   segment_ids: Sequence[int] | None = None) -> list[CodingView]:
        """The codings of a document (or of some of its segments) as ``coder`` may see them.

        Not blind: the shared layer, as :meth:`coding_views`. Blind: the coder's
        own layer, plus each shared machine suggestion the coder has not decided
        yet, shown as an open suggestion (status 'suggested', no coder, no memo)
        even if somebody else decided it in the shared layer; shared rows the coder
        decided before the assignment are shown as they are. Other coders' layers
        and other people's human codings are never included.
        """
        may_read_coder(self.actor, coder)
        shared = self.coding_views(status="all", document_id=document_id, segment_ids=segment_ids)
        if not self.is_blind(document_id, coder):
            return shared
        own = self.coding_views(status="all", document_id=document_id, layer=coder,
                                segment_ids=segment_ids)

        def unit(v: CodingView) -> tuple:
            return (v.segment_id, v.code_key, v.is_span and (v.start_char, v.end_char))

        taken = {unit(v) for v in own}
        out = list(own)
        for v in shared:
            if unit(v) in taken:
                continue
            if v.coder == coder:
                out.append(v)
            elif v.source in MACHINE_SOURCES:
                out.append(dataclasses.replace(v, status=CodingStatus.suggested.value, coder=None,
                                               memo=""))
        order = {c.key: i for i, c in enumerate(self.codes(include_retired=True))}
        out.sort(key=lambda v: (v.start_char, v.segment_id, order.get(v.code_key, len(order))))
        return out

    # -- decisions routed to the right layer --------------------------------------

    @guarded(Permission.code, coder="coder")
    def decide_as(self, coder: str, coding_id: int, action: str, *,
                  expected_version: int | None = None, code_key: str | None = None,
                  memo: str | None = None) -> Decision:
        """Accept, reject, recode or memo a coding as ``coder``, in the layer they work in.

        ``coding_id`` is a row from :meth:`coder_view`. Where the document is not
        assigned blind to ``coder``, this is :meth:`decide` on that row. While it
        is, the decision goes to the coder's own layer (layer = coder name): a
        shared suggestion is copied there with its code, source, confidence and
        explanation and then decided, and the shared row stays as it is for the
        other coder. A blind recode is two events: the suggested code rejected and
        the new code accepted, both in the coder's layer (so undo takes two steps).

        ``expected_version`` is the version the coder saw; a changed row raises
        :class:`ConflictError` (Danish message) and nothing is written. A coding in
        another coder's layer raises :class:`AccessError`. Returns the row written
        (for a recode: the row of the new code).
        """
        if action not in {"accept", "reject", "recode", "memo"}:
            raise ValueError(f"unknown action {action!r}")
        if action == "recode" and not code_key:
            raise ValueError("recode needs a code")
        with self.engine.connect() as conn:
            row = conn.execute(select(Coding, Segment.document_id)
                               .join(Segment, Segment.id == Coding.segment_id)
                               .where(Coding.id == coding_id)).first()
            if row is None:
                raise NotFoundError(f"no coding {coding_id}")
            if row.layer not in (SHARED, coder):
                raise AccessError(f"coding {coding_id} belongs to another coder's layer")
            blind = self._is_blind(conn, row.document_id, coder)
        if not blind:
            # the shared layer, or an own-layer row left from earlier blind work: in place
            version = self.decide(coding_id, action, coder, expected_version=expected_version,
                                  code_key=code_key, memo=memo)
            return Decision(coding_id, version, row.layer)
        return self._decide_blind(coder, row, action, expected_version, code_key, memo)

    def _decide_blind(self, coder: str, row: Any, action: str, expected_version: int | None,
                      code_key: str | None, memo: str | None) -> Decision:
        with self.write() as conn:
            coder_id = self._coder_id(conn, coder)
            span = (row.start_char, row.end_char)
            own = conn.execute(select(Coding).where(
                Coding.segment_id == row.segment_id, Coding.code_id == row.code_id,
                Coding.layer == coder, same_unit(*span))).first()
            if row.layer == SHARED and own is not None and expected_version is not None:
                # the coder decided this suggestion since they looked (another tab, another click)
                raise ConflictError(
                    f"Du har allerede taget stilling til dette forslag (nu: {own.status}, "
                    f"version {own.version}). Se den aktuelle tilstand og prøv igen.")
            check = expected_version if row.layer == coder else None
            base: dict[str, Any] = {"source": row.source, "confidence": row.confidence,
                                    "explanation": row.explanation, "memo": row.memo}
            if own is None and row.layer == SHARED:
                base["memo"] = ""  # a shared memo is not the coder's own note
            else:
                base = {}
            values: dict[str, Any] = {**base, "coder_id": coder_id}
            if memo is not None:
                values["memo"] = memo
            if action == "accept":
                values["status"] = CodingStatus.accepted.value
            elif action in ("reject", "recode"):
                values["status"] = CodingStatus.rejected.value
            elif own is None:
                values["status"] = CodingStatus.suggested.value  # a memo leaves it open
            first = self._put(conn, row.segment_id, row.code_id, coder,
                              values, "reject" if action == "recode" else action, coder_id,
                              expected_version=check, span=span)
            if action != "recode":
                return first
            new_code = self._code_pk(conn, code_key)
            return self._put(conn, row.segment_id, new_code, coder,
                             {"status": CodingStatus.accepted.value, "source": Source.human.value,
                              "confidence": None, "explanation": "", "coder_id": coder_id},
                             "recode", coder_id, span=span)

    def _put(self, conn: Connection, segment_id: int, code_id: int, layer: str,
             values: dict[str, Any], action: str, coder_id: int | None, *,
             expected_version: int | None = None,
             span: tuple[int | None, int | None] = (None, None)) -> Decision:
        """Create or update the row of (segment, code, layer, span) and record the event
        (``span``: a span coding's offsets; (None, None) for the whole sentence)."""
        row = conn.execute(select(Coding).where(
            Coding.segment_id == segment_id, Coding.code_id == code_id, Coding.layer == layer,
            same_unit(*span))).first()
        now = utcnow()
        if row is None:
            full = {"segment_id": segment_id, **segment_places(conn, [segment_id])[segment_id],
                    "code_id": code_id, "layer": layer,
                    "status": CodingStatus.accepted.value, "source": Source.human.value,
                    "confidence": None, "explanation": "", "coder_id": coder_id, "memo": "",
                    "start_char": span[0], "end_char": span[1], "version": 1, "created_at": now,
                    "updated_at": now, **values}
            cid = conn.execute(insert(Coding).values(**full).returning(Coding.id)).scalar_one()
            self._event(conn, action, coder_id, cid, segment_id, None, _state(full))
            return Decision(cid, 1, layer)
        if expected_version is not None and row.version != expected_version:
            raise conflict_error(conn, row.id)
        new = {**values, "updated_at": now, "version": row.version + 1}
        result = conn.execute(update(Coding).where(Coding.id == row.id,
                                                   Coding.version == row.version).values(**new))
        if result.rowcount != 1:
            raise conflict_error(conn, row.id)
        before = _state(row)
        self._event(conn, action, coder_id, row.id, segment_id, before,
                    {**before, **{k: v for k, v in new.items() if k in STATE_KEYS}})
        return Decision(row.id, row.version + 1, layer)

    @guarded(Permission.code, coder="coder")
    def add_as(self, coder: str, segment_ids: Sequence[int], code_key: str, *,
               memo: str = "") -> list[int]:
        """Add a code to segments as ``coder``: in their own layer where the document is
        assigned to them blind, else in the shared layer (see :meth:`add_coding`)."""
        with self.engine.connect() as conn:
            docs = dict(conn.execute(select(Segment.id, Segment.document_id)
                                     .where(Segment.id.in_(list(segment_ids)))).all())
            missing = [s for s in segment_ids if s not in docs]
            if missing:
                raise NotFoundError(f"no segment {missing[0]}")
            blind = {d: self._is_blind(conn, d, coder) for d in set(docs.values())}
        ids: list[int] = []
        for layer in dict.fromkeys(coder if blind[docs[s]] else SHARED for s in segment_ids):
            segs = [s for s in segment_ids if (coder if blind[docs[s]] else SHARED) == layer]
            ids += self.add_coding(segs, code_key, coder, memo=memo, layer=layer)
        return ids

    # -- reliability and adjudication ----------------------------------------------

    def coder_codes(self, coder: str, document_id: int | None = None) -> dict[int, set[str]]:
        """Segment id → code keys ``coder`` accepted: their own layer, plus shared-layer
        codings whose coder they are (work done without a blind assignment). A span
        coding counts on every sentence it overlaps."""
        may_read_coder(self.actor, coder)
        mine = ((Coding.status == CodingStatus.accepted.value)
                & ((Coding.layer == coder) | ((Coding.layer == SHARED) & (Coder.name == coder))))
        sentences = (select(Coding.segment_id, Code.key)
                     .join(Code, Code.id == Coding.code_id)
                     .join(Coder, Coder.id == Coding.coder_id, isouter=True)
                     .where(mine, Coding.start_char.is_(None)))
        spans = (select(Segment.id, Code.key).select_from(Coding)
                 .join(Segment, and_(Segment.document_id == Coding.document_id,
                                     Segment.start_char < Coding.end_char,
                                     Segment.end_char > Coding.start_char))
                 .join(Code, Code.id == Coding.code_id)
                 .join(Coder, Coder.id == Coding.coder_id, isouter=True)
                 .where(mine, Coding.start_char.is_not(None)))
        if document_id is not None:
            sentences = sentences.where(Coding.document_id == document_id)
            spans = spans.where(Coding.document_id == document_id)
        out: dict[int, set[str]] = {}
        with self.engine.connect() as conn:
            for stmt in (sentences, spans):
                for seg, key in conn.execute(stmt):
                    out.setdefault(seg, set()).add(key)
        return out

    def coder_ranges(self, coder: str, document_id: int | None = None
                     ) -> list[tuple[int, int, str, int, int, bool]]:
        """(document id, turn number, code key, start, end, is span) of every coding
        ``coder`` accepted (the codings of :meth:`coder_codes`): a span's offsets, or the
        whole sentence's, in document offsets; for character-overlap agreement."""
        may_read_coder(self.actor, coder)
        start, end, _ = unit_columns()
        stmt = (select(Coding.document_id, Coding.turn_number, Code.key, start, end,
                       Coding.start_char.is_not(None))
                .join(Segment, Segment.id == Coding.segment_id)
                .join(Code, Code.id == Coding.code_id)
                .join(Coder, Coder.id == Coding.coder_id, isouter=True)
                .where(Coding.status == CodingStatus.accepted.value,
                       (Coding.layer == coder) | ((Coding.layer == SHARED) & (Coder.name == coder)))
                .order_by(Coding.document_id, start))
        if document_id is not None:
            stmt = stmt.where(Coding.document_id == document_id)
        with self.engine.connect() as conn:
            return [(*r[:5], bool(r[5])) for r in conn.execute(stmt)]

    def reviewed_turns(self, coder: str, document_id: int | None = None) -> set[tuple[int, int]]:
        """(document id, turn number) of every turn ``coder`` has reviewed.

        Reviewed: the coder decided a coding in the turn at least once (accepted,
        rejected, recoded, added or adjudicated one: a coding of theirs in their own
        layer or the shared layer that is no longer a bare suggestion, or such an
        event of theirs, also one undone or overruled since), or marked the turn or
        its whole document done. A memo alone is not a review.
        """
        may_read_coder(self.actor, coder)
        with self.engine.connect() as conn:
            coder_id = conn.scalar(select(Coder.id).where(Coder.name == coder))
            if coder_id is None:
                return set()
            mine = (Coding.layer == coder) | ((Coding.layer == SHARED)
                                              & (Coding.coder_id == coder_id))
            decided = (select(Coding.document_id, Coding.turn_number)
                       .where(mine, Coding.status != CodingStatus.suggested.value))
            evented = (select(Turn.document_id, Turn.number)
                       .join(Segment, Segment.turn_id == Turn.id)
                       .join(Event, Event.segment_id == Segment.id)
                       .where(Event.coder_id == coder_id, Event.action.in_(DECIDING)))
            marks = (select(ReviewMark.document_id, ReviewMark.turn_number)
                     .where((ReviewMark.layer == coder) | ((ReviewMark.layer == SHARED)
                                                          & (ReviewMark.coder_id == coder_id))))
            if document_id is not None:
                decided = decided.where(Coding.document_id == document_id)
                evented = evented.where(Turn.document_id == document_id)
                marks = marks.where(ReviewMark.document_id == document_id)
            out = {(d, t) for d, t in conn.execute(decided.distinct())}
            out |= {(d, t) for d, t in conn.execute(evented.distinct())}
            whole = set()
            for d, t in conn.execute(marks):
                if t is None:
                    whole.add(d)
                else:
                    out.add((d, t))
            if whole:
                out |= {(d, t) for d, t in conn.execute(
                    select(Turn.document_id, Turn.number).where(Turn.document_id.in_(whole)))}
        return out

    @guarded(Permission.code, coder="adjudicator")
    def adjudicate(self, segment_id: int, code_key: str, decision: str, adjudicator: str, *,
                   memo: str = "", expected_version: int | None = None) -> Decision:
        """Record an adjudicated decision ('accept' or 'reject') in the shared layer.

        The shared row of (segment, code) is created or updated with source
        'adjudicated' and the adjudicator as coder; the event's action is
        'adjudicate'. ``expected_version`` guards an existing shared row.
        """
        status = {"accept": CodingStatus.accepted.value,
                  "reject": CodingStatus.rejected.value}.get(decision)
        if status is None:
            raise ValueError(f"unknown decision {decision!r}")
        with self.write() as conn:
            document_id = conn.scalar(select(Segment.document_id).where(Segment.id == segment_id))
            if document_id is None:
                raise NotFoundError(f"no segment {segment_id}")
            check_layer(conn, self.actor, document_id, SHARED)
            code_id = self._code_pk(conn, code_key)
            coder_id = self._coder_id(conn, adjudicator)
            values: dict[str, Any] = {"status": status, "source": Source.adjudicated.value,
                                      "coder_id": coder_id}
            if memo:
                values["memo"] = memo
            return self._put(conn, segment_id, code_id, SHARED, values, "adjudicate", coder_id,
                             expected_version=expected_version)

    # -- history and undo ------------------------------------------------------------

    def history(self, segment_id: int, *, visible_to: str | None = None) -> list[HistoryEntry]:
        """Events of a segment's codings, oldest first.

        With ``visible_to``, while the segment's document is assigned blind to that
        coder, only their own layer's events and their own shared-layer events are
        returned (as :meth:`coder_view` hides the rest).
        """
        visible_to = own_view(self.actor, visible_to)
        # a coding carried over from a replaced document brings its earlier events along
        entries = self._history(or_(Event.segment_id == segment_id, Event.coding_id.in_(
            select(Coding.id).where(Coding.segment_id == segment_id))))
        if visible_to is None:
            return entries
        with self.engine.connect() as conn:
            doc = conn.scalar(select(Segment.document_id).where(Segment.id == segment_id))
            blind = doc is not None and self._is_blind(conn, doc, visible_to)
        if not blind:
            return entries
        return [e for e in entries
                if e.layer == visible_to or (e.layer == SHARED and e.coder == visible_to)]

    def document_history(self) -> list[HistoryEntry]:
        """Deletions and re-imports of documents, oldest first (``before``/``after`` hold the
        document ids, file names and counts; never text)."""
        return self._history(Event.action.in_((DELETE_ACTION, REPLACE_ACTION)))

    def _history(self, where: Any) -> list[HistoryEntry]:
        with self.engine.connect() as conn:
            keys = dict(conn.execute(select(Code.id, Code.key)).all())
            rows = conn.execute(select(Event, Coder.name.label("coder_name"))
                                .outerjoin(Coder, Coder.id == Event.coder_id)
                                .where(where).order_by(Event.id)).all()
            ids = [r.id for r in rows]
            undone = dict(conn.execute(select(Event.undoes, Event.id)
                                       .where(Event.undoes.in_(ids))).all()) if ids else {}
            # span codings: the turn (its start and text) each lies in, for the quote
            segs = {st.get("segment_id") for st in (r.after or r.before or {} for r in rows)
                    if st.get("start_char") is not None}
            turns = {seg: (at, text) for seg, at, text in conn.execute(
                select(Segment.id, Turn.start_char, Turn.text)
                .join(Turn, Turn.id == Segment.turn_id).where(Segment.id.in_(segs)))
            } if segs else {}
        out = []
        for r in rows:
            state = r.after or r.before or {}
            start, end = state.get("start_char"), state.get("end_char")
            quote = None
            if start is not None and state.get("segment_id") in turns:
                at, text = turns[state["segment_id"]]
                quote = text[start - at:end - at]
            out.append(HistoryEntry(r.id, r.at, r.coder_name, r.action, r.coding_id, r.segment_id,
                                    keys.get(state.get("code_id")), state.get("layer", SHARED),
                                    r.before, r.after, r.undoes, undone.get(r.id),
                                    start, end, quote))
        return out

    @guarded(Permission.code, coder="coder")
    def undo_last(self, coder: str, n: int = 1) -> list[HistoryEntry]:
        """Reverse ``coder``'s last ``n`` decisions that are not undone yet, newest first.

        Each coding gets its ``before`` state back (a row the decision created is
        deleted); each reversal is an event with action 'undo' whose ``undoes`` is
        the reversed event. If a coding was changed since by anyone (a later event
        that is not undone, or a changed version), :class:`ConflictError` is raised
        with a Danish message and nothing is undone. Returns the undo events.
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        with self.write() as conn:
            coder_id = conn.scalar(select(Coder.id).where(Coder.name == coder))
            if coder_id is None:
                raise NotFoundError(f"no coder {coder!r}")
            undone = select(Event.undoes).where(Event.undoes.is_not(None))
            targets = conn.execute(select(Event).where(
                Event.coder_id == coder_id, Event.action.in_(UNDOABLE),
                Event.id.not_in(undone)).order_by(Event.id.desc()).limit(n)).all()
            if not targets:
                raise NotFoundError(f"{coder} has no decisions to undo")
            made = [self._reverse(conn, ev, coder_id) for ev in targets]
        return self._history(Event.id.in_(made))

    def _reverse(self, conn: Connection, ev: Any, coder_id: int) -> int:
        later = conn.execute(select(Event.id, Event.action, Event.after, Event.coder_id)
                             .where(Event.coding_id == ev.coding_id, Event.id > ev.id)
                             .order_by(Event.id)).all()
        undone = set(conn.scalars(select(Event.undoes).where(
            Event.undoes.in_([e.id for e in later])))) if later else set()
        row = conn.execute(select(Coding).where(Coding.id == ev.coding_id)).first()
        for e in later:
            if e.action not in ("undo", CARRY_ACTION) and e.id not in undone:  # carry: re-import
                who = conn.scalar(select(Coder.name).where(Coder.id == e.coder_id)) or MACHINE
                raise ConflictError(f"Kodningen er ændret af {who} siden din beslutning; "
                                    "den kan ikke fortrydes. Se historikken.")
        expected = later[-1].after if later else ev.after
        if row is None or expected is None or row.version != expected.get("version"):
            if row is None and expected is None:
                raise ConflictError("Kodningen er allerede fjernet; intet at fortryde.")
            if row is None:
                raise ConflictError("Kodningen findes ikke længere; den kan ikke fortrydes.")
            raise conflict_error(conn, row.id)
        before = ev.before
        if before is None:
            conn.execute(delete(Coding).where(Coding.id == row.id, Coding.version == row.version))
            return self._event(conn, "undo", coder_id, row.id, row.segment_id, _state(row), None,
                               undoes=ev.id)
        if "coder_id" in before:
            restored_coder = before["coder_id"]
        elif before["status"] == CodingStatus.suggested.value and before["source"] in MACHINE_SOURCES:
            restored_coder = None  # events written before coder_id was recorded
        else:
            restored_coder = row.coder_id
        values = {"code_id": before["code_id"], "status": before["status"],
                  "source": before["source"], "memo": before["memo"], "coder_id": restored_coder,
                  "updated_at": utcnow(), "version": row.version + 1}
        if "confidence" in before:  # recorded since a recode clears them (older events: kept)
            values.update(confidence=before["confidence"], explanation=before["explanation"])
        if values["code_id"] != row.code_id and conn.scalar(select(Coding.id).where(
                Coding.segment_id == row.segment_id, Coding.code_id == values["code_id"],
                Coding.layer == row.layer, same_unit(row.start_char, row.end_char),
                Coding.id != row.id)) is not None:
            raise ConflictError("Den oprindelige kode er sat på segmentet igen siden; "
                                "omkodningen kan ikke fortrydes.")
        result = conn.execute(update(Coding).where(Coding.id == row.id,
                                                   Coding.version == row.version).values(**values))
        if result.rowcount != 1:
            raise conflict_error(conn, row.id)
        return self._event(conn, "undo", coder_id, row.id, row.segment_id, _state(row),
                           {**_state(row), **{k: v for k, v in values.items() if k in STATE_KEYS}},
                           undoes=ev.id)
