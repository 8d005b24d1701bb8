"""Removing and replacing documents without losing human work unnoticed.

Replacing a document (``ingest --replace``) carries its codings over to the new
document's sentences whose text is identical (:func:`carry_over`), and its span codings
to the turn whose text is identical (same place in the turn), inside the import's
transaction: a coding row keeps its id, version, layer, coder, memo and
decision and is pointed at the new segment (offsets come from the new document);
one ``carry`` event per coding records the old and the new segment. If a human
decision would be lost, nothing is changed unless the caller discards them.

Deleting a document removes its speakers, turns, segments, codings (every layer)
and assignments in one transaction (the foreign keys cascade) and appends one
:class:`~evaltool.store.models.Event` (action ``delete_document``) that records who
deleted which document and how much went with it: counts and the file name, never
transcript text. Events of the deleted codings stay (history outlives rows).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from evaltool.domain import DOCUMENT_COLUMNS, CarryOver, DocumentDeletion, Permission, UncarriedCoding
from evaltool.errors import DecisionsWouldBeLostError, NotFoundError
from evaltool.store.access import guarded
from evaltool.store.models import (
    READY,
    Assignment,
    Code,
    Coding,
    Document,
    DocumentAttribute,
    Event,
    Memo,
    ReviewMark,
    Segment,
    Speaker,
    SpeakerAttribute,
    Turn,
    utcnow,
)

DELETE_ACTION = "delete_document"
REPLACE_ACTION = "replace_document"
CARRY_ACTION = "carry"  # a coding moved to the identical sentence of a re-imported document
LISTED = 5  # places named in the one-line refusal


def _segments(conn: Connection, document_id: int) -> list[Any]:
    """(id, turn number, sent_index, text) of a document's segments, in text order."""
    return conn.execute(select(Segment.id, Turn.number.label("turn"), Segment.sent_index,
                               Segment.text)
                        .join(Turn, Turn.id == Segment.turn_id)
                        .where(Segment.document_id == document_id)
                        .order_by(Segment.start_char)).all()


def _longest_common(a: Sequence[str], alo: int, ahi: int, b: Sequence[str], blo: int, bhi: int
                    ) -> list[tuple[int, int]]:
    """Index pairs of a longest common subsequence of ``a[alo:ahi]`` and ``b[blo:bhi]``
    (Hunt–Szymanski: a longest increasing run over the equal pairs)."""
    where: dict[str, list[int]] = {}
    for j in range(blo, bhi):
        where.setdefault(b[j], []).append(j)
    ends: list[int] = []  # ends[k]: smallest b index that ends a common run of length k + 1
    tails: list[tuple] = []  # the run's last pair, linked back: (i, j, previous)
    for i in range(alo, ahi):
        for j in reversed(where.get(a[i], ())):  # descending: one i extends a run only once
            k = bisect_left(ends, j)
            node = (i, j, tails[k - 1] if k else None)
            if k == len(ends):
                ends.append(j)
                tails.append(node)
            else:
                ends[k], tails[k] = j, node
    pairs = []
    node = tails[-1] if tails else None
    while node is not None:
        pairs.append((node[0], node[1]))
        node = node[2]
    return pairs[::-1]


def common_order(a: Sequence[str], b: Sequence[str], alo: int = 0, ahi: int | None = None,
                 blo: int = 0, bhi: int | None = None) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` with ``a[i] == b[j]``, increasing in both: the identical
    sentences of two versions of a document, aligned in document order.

    Patience diff: equal beginnings and ends are paired first, then the texts that
    occur once on each side anchor the alignment (the longest ordered run of them)
    and each stretch between two anchors is aligned the same way; a stretch without
    such texts gets an exact longest common subsequence. A sentence that recurs
    ("Ja.") therefore never has to be paired with every other occurrence at once.
    """
    ahi = len(a) if ahi is None else ahi
    bhi = len(b) if bhi is None else bhi
    head: list[tuple[int, int]] = []
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        head.append((alo, blo))
        alo, blo = alo + 1, blo + 1
    tail: list[tuple[int, int]] = []
    while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
        ahi, bhi = ahi - 1, bhi - 1
        tail.append((ahi, bhi))
    if alo == ahi or blo == bhi:
        return head + tail[::-1]
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    once_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
    anchors = [(i, once_b[a[i]]) for i in range(alo, ahi)
               if count_a[a[i]] == 1 and a[i] in once_b]
    if not anchors:
        return head + _longest_common(a, alo, ahi, b, blo, bhi) + tail[::-1]
    chain = _longest_common([str(j) for _, j in anchors], 0, len(anchors),
                            [str(j) for j in sorted(j for _, j in anchors)], 0, len(anchors))
    middle: list[tuple[int, int]] = []
    i0, j0 = alo, blo
    for k, _ in chain:
        i, j = anchors[k]
        middle += common_order(a, b, i0, i, j0, j)
        middle.append((i, j))
        i0, j0 = i + 1, j + 1
    middle += common_order(a, b, i0, ahi, j0, bhi)
    return head + middle + tail[::-1]


def match_segments(old: Sequence[Any], new: Sequence[Any], wanted: set[int]
                   ) -> dict[int, tuple[Any, bool]]:
    """Old segment id → (new segment, moved) for the old segments in ``wanted``.

    Identical texts in the same order are aligned first (a longest common
    subsequence, so inserted or deleted sentences shift nothing); a wanted sentence
    left over goes to an identical sentence elsewhere (moved), preferring one no old
    sentence took, then the nearest turn.
    """
    old_texts, new_texts = [s.text for s in old], [s.text for s in new]
    if old_texts == new_texts:
        pairs = {i: i for i in range(len(old))}
    else:
        pairs = dict(common_order(old_texts, new_texts))
    out = {old[i].id: (new[j], False) for i, j in pairs.items() if old[i].id in wanted}
    taken = set(pairs.values())
    by_text: dict[str, list[int]] = {}
    for j, s in enumerate(new):
        by_text.setdefault(s.text, []).append(j)
    for s in old:
        if s.id not in wanted or s.id in out or s.text not in by_text:
            continue
        j = min(by_text[s.text], key=lambda c: (c in taken, abs(new[c].turn - s.turn),
                                                abs(new[c].sent_index - s.sent_index), c))
        taken.add(j)
        out[s.id] = (new[j], True)
    return out


def _uncarried_line(c: UncarriedCoding) -> str:
    if c.span is not None:
        return f"turn {c.turn} characters {c.span[0]}-{c.span[1]} {c.code_key}"
    return f"turn {c.turn} sentence {c.sent_index + 1} {c.code_key}"


def matching_turns(conn: Connection, old_id: int, new_turns: Sequence[Any]
                   ) -> dict[int, tuple[Any, bool]]:
    """Old turn number → (the new turn, moved): the row of ``new_turns`` (number, text, ...)
    whose text is identical, aligned in order first; a turn left over takes the first
    identical one (moved)."""
    old_turns = conn.execute(select(Turn.number, Turn.text).where(Turn.document_id == old_id)
                             .order_by(Turn.number)).all()
    by_text: dict[str, Any] = {}
    for t in new_turns:
        by_text.setdefault(t.text, t)
    pairs = common_order([t.text for t in old_turns], [t.text for t in new_turns])
    out = {old_turns[i].number: (new_turns[j], False) for i, j in pairs}
    for number, text in old_turns:
        if number not in out and text in by_text:
            out[number] = (by_text[text], True)
    return out


def _carry_marks(conn: Connection, old_ids: Sequence[int], new_id: int) -> tuple[int, int]:
    """Move the 'done' marks of the old documents to the new one: a document mark as it
    is, a turn mark to the new turn with the identical text (else it is dropped: the
    turn changed since it was reviewed). Returns (moved, dropped)."""
    rows = conn.execute(select(ReviewMark).where(ReviewMark.document_id.in_(list(old_ids)))
                        .order_by(ReviewMark.id)).all()
    if not rows:
        return 0, 0
    new_turns = conn.execute(select(Turn.number, Turn.text).where(Turn.document_id == new_id)
                             .order_by(Turn.number)).all()
    turn_map: dict[tuple[int, int], int] = {}
    for old_id in old_ids:
        turn_map.update({(old_id, n): t.number
                         for n, (t, _) in matching_turns(conn, old_id, new_turns).items()})
    seen: set[tuple[int | None, str]] = set()
    moved = dropped = 0
    for m in rows:
        turn = None if m.turn_number is None else turn_map.get((m.document_id, m.turn_number))
        if (m.turn_number is not None and turn is None) or (turn, m.layer) in seen:
            dropped += (turn, m.layer) not in seen
            continue  # goes with the old document
        seen.add((turn, m.layer))
        conn.execute(update(ReviewMark).where(ReviewMark.id == m.id)
                     .values(document_id=new_id, turn_number=turn))
        moved += 1
    return moved, dropped


def _carry_memos(conn: Connection, old_ids: Sequence[int], new_id: int, new: Sequence[Any]
                 ) -> int:
    """Move the memos of the old documents to the new one: a document memo as it is, a
    sentence's memo to the identical sentence (as codings go), else onto the new document
    as a whole (the sentence changed; the note is kept). Returns how many moved."""
    rows = conn.execute(select(Memo.id, Memo.document_id, Memo.segment_id)
                        .where(Memo.document_id.in_(list(old_ids)))).all()
    if not rows:
        return 0
    targets: dict[int, int | None] = {}
    for old_id in old_ids:
        wanted = {r.segment_id for r in rows if r.document_id == old_id and r.segment_id}
        if wanted:
            matched = match_segments(_segments(conn, old_id), new, wanted)
            targets.update({seg: matched[seg][0].id if seg in matched else None
                            for seg in wanted})
    for r in rows:
        conn.execute(update(Memo).where(Memo.id == r.id).values(
            document_id=new_id, segment_id=targets.get(r.segment_id) if r.segment_id else None))
    return len(rows)


def carry_over(conn: Connection, old_ids: Sequence[int], new_id: int, *,
               discard_decisions: bool = False, coder_id: int | None = None) -> CarryOver:
    """Move the codings (every layer), assignments, 'done' marks and memos of the documents
    ``old_ids`` to the identical sentences (turns) of document ``new_id``, then delete the
    old documents.

    Runs on the caller's transaction. If a human decision (a coding with a coder)
    finds no identical sentence, :class:`DecisionsWouldBeLostError` is raised before
    anything is written, unless ``discard_decisions``; machine suggestions that find
    none are dropped and listed. Returns what was carried and what was not.
    """
    new = _segments(conn, new_id)
    new_turns = conn.execute(select(Turn.number, Turn.text, Turn.start_char, Turn.id)
                             .where(Turn.document_id == new_id).order_by(Turn.number)).all()
    new_segs = conn.execute(select(Segment.id, Segment.turn_id, Segment.start_char,
                                   Segment.end_char).where(Segment.document_id == new_id)
                            .order_by(Segment.start_char)).all()
    new_by_id = {s.id: s for s in new}
    keys = dict(conn.execute(select(Code.id, Code.key)).all())
    moves: list[dict[str, Any]] = []  # coding id → new place
    events: list[dict[str, Any]] = []
    lost: list[UncarriedCoding] = []
    carried = carried_human = moved = 0
    claimed: set[tuple] = set()  # (new segment, code, layer, span) already carried to
    now = utcnow()
    for old_id in old_ids:
        codings = conn.execute(select(Coding).where(Coding.document_id == old_id)
                               .order_by(Coding.id)).all()
        if not codings:
            continue
        old = _segments(conn, old_id)
        place = {s.id: s for s in old}
        matched = match_segments(old, new, {c.segment_id for c in codings
                                            if c.start_char is None})
        spans = _carry_spans(conn, old_id, [c for c in codings if c.start_char is not None],
                             matching_turns(conn, old_id, new_turns), new_segs, new_by_id)
        for c in codings:
            target = matched.get(c.segment_id) if c.start_char is None else spans.get(c.id)
            span = (None, None) if target is None or c.start_char is None else target[2:]
            key = (target[0].id, c.code_id, c.layer, *span) if target else None
            if target is None or key in claimed:
                seg = place[c.segment_id]
                lost.append(UncarriedCoding(old_id, c.segment_id, seg.turn, seg.sent_index,
                                            keys.get(c.code_id, "?"), c.layer, c.status,
                                            c.coder_id is not None,
                                            None if c.start_char is None
                                            else (c.start_char, c.end_char)))
                continue
            claimed.add(key)
            seg, was_moved = target[:2]
            moves.append({"cid": c.id, "seg": seg.id, "doc": new_id, "turn": seg.turn,
                          "start": span[0], "end": span[1]})
            state = {"code_id": c.code_id, "status": c.status, "source": c.source, "memo": c.memo,
                     "layer": c.layer, "version": c.version, "coder_id": c.coder_id,
                     "confidence": c.confidence, "explanation": c.explanation}
            events.append({"at": now, "action": CARRY_ACTION, "coder_id": coder_id,
                           "coding_id": c.id, "segment_id": seg.id, "undoes": None,
                           "before": {**state, "segment_id": c.segment_id,
                                      "start_char": c.start_char, "end_char": c.end_char},
                           "after": {**state, "segment_id": seg.id,
                                     "start_char": span[0], "end_char": span[1]}})
            carried += 1
            carried_human += c.coder_id is not None
            moved += was_moved
    carry = CarryOver(tuple(old_ids), carried, carried_human, moved, tuple(lost))
    if carry.human_lost and not discard_decisions:
        human = [c for c in lost if c.human]
        named = "; ".join(_uncarried_line(c) for c in human[:LISTED])
        more = f"; and {len(human) - LISTED} more" if len(human) > LISTED else ""
        raise DecisionsWouldBeLostError(
            f"re-importing would lose {len(human)} human decision(s) that no identical sentence "
            f"can take over ({named}{more}); nothing changed (use --discard-decisions to "
            "replace anyway)", carry)
    if moves:
        conn.execute(update(Coding).where(Coding.id == bindparam("cid")).values(
            segment_id=bindparam("seg"), document_id=bindparam("doc"),
            turn_number=bindparam("turn"), start_char=bindparam("start"),
            end_char=bindparam("end")), moves)
        conn.execute(insert(Event), events)
    had = set(conn.scalars(select(Assignment.coder_id).where(Assignment.document_id == new_id)))
    assignments = 0
    for a in conn.execute(select(Assignment).where(Assignment.document_id.in_(list(old_ids)))
                          .order_by(Assignment.id)).all():
        if a.coder_id not in had:
            conn.execute(update(Assignment).where(Assignment.id == a.id)
                         .values(document_id=new_id))
            had.add(a.coder_id)
            assignments += 1
    marks, marks_dropped = _carry_marks(conn, old_ids, new_id)
    _carry_memos(conn, old_ids, new_id, new)
    _carry_attributes(conn, old_ids, new_id)
    summary = [{"document_id": old_id,
                "document": conn.scalar(select(Document.name).where(Document.id == old_id)),
                **document_counts(conn, old_id)} for old_id in old_ids]  # what goes with it
    for old_id in old_ids:
        conn.execute(delete(Document).where(Document.id == old_id))
    carry = CarryOver(tuple(old_ids), carried, carried_human, moved, tuple(lost), assignments,
                      marks, marks_dropped)
    conn.execute(insert(Event).values(
        at=now, action=REPLACE_ACTION, coder_id=coder_id, coding_id=None, segment_id=None,
        before={"documents": summary},
        after={"document_id": new_id, "carried": carried, "carried_human": carried_human,
               "moved": moved, "not_carried": len(lost), "human_lost": carry.human_lost},
        undoes=None))
    return carry


def _carry_spans(conn: Connection, old_id: int, codings: Sequence[Any],
                 turns: dict[int, tuple[Any, bool]], new_segs: Sequence[Any],
                 new_by_id: dict[int, Any]) -> dict[int, tuple]:
    """Coding id → (new segment, moved, start, end) of the span codings whose turn has an
    identical turn in the new document (``turns``, see :func:`matching_turns`): the same
    place in that turn; the first sentence it overlaps there is its segment."""
    if not codings:
        return {}
    starts = dict(conn.execute(select(Turn.number, Turn.start_char)
                               .where(Turn.document_id == old_id)).all())
    out: dict[int, tuple] = {}
    for c in codings:
        if c.turn_number not in turns:
            continue  # the turn's text changed: the span's words may have too
        turn, moved = turns[c.turn_number]
        shift = turn.start_char - starts[c.turn_number]
        start, end = c.start_char + shift, c.end_char + shift
        seg = next((s for s in new_segs if s.turn_id == turn.id and s.start_char < end
                    and s.end_char > start), None)
        if seg is None:
            continue
        out[c.id] = (new_by_id[seg.id], moved, start, end)
    return out


def _carry_attributes(conn: Connection, old_ids: Sequence[int], new_id: int) -> None:
    """Give the new document the old documents' attributes its file does not set, and its
    speakers those of the old speakers of the same name (edited in the app or the CLI)."""
    have = set(conn.scalars(select(DocumentAttribute.key)
                            .where(DocumentAttribute.document_id == new_id)))
    speakers = dict(conn.execute(select(Speaker.name, Speaker.id)
                                 .where(Speaker.document_id == new_id)).all())
    taken = set(conn.execute(select(SpeakerAttribute.speaker_id, SpeakerAttribute.key)
                             .where(SpeakerAttribute.speaker_id.in_(list(speakers.values())))).all())
    for old_id in old_ids:
        for key, value in conn.execute(select(DocumentAttribute.key, DocumentAttribute.value)
                                       .where(DocumentAttribute.document_id == old_id)
                                       .order_by(DocumentAttribute.id)).all():
            if key not in have:
                conn.execute(insert(DocumentAttribute).values(document_id=new_id, key=key,
                                                              value=value))
                if key in DOCUMENT_COLUMNS:  # kept in its column too
                    conn.execute(update(Document).where(Document.id == new_id).values(
                        {key: conn.scalar(select(getattr(Document, key))
                                          .where(Document.id == old_id))}))
                have.add(key)
        for name, key, value in conn.execute(
                select(Speaker.name, SpeakerAttribute.key, SpeakerAttribute.value)
                .join(Speaker, Speaker.id == SpeakerAttribute.speaker_id)
                .where(Speaker.document_id == old_id).order_by(SpeakerAttribute.id)).all():
            target = speakers.get(name)
            if target is not None and (target, key) not in taken:
                conn.execute(insert(SpeakerAttribute).values(speaker_id=target, key=key,
                                                             value=value))
                taken.add((target, key))


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


def _memo_count(conn: Connection, document_id: int) -> int:
    """Memos on a document or its sentences (they go with it; project memos stay)."""
    return int(conn.scalar(select(func.count()).select_from(Memo)
                           .where(Memo.document_id == document_id)) or 0)


class LifecycleOps:
    """Document deletion of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any

    @guarded(Permission.manage, coder="actor")
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
            memos = _memo_count(conn, document_id)
            coder_id = self._coder_id(conn, actor.strip())
            # speakers, turns, segments, their codings and assignments cascade
            conn.execute(delete(Document).where(Document.id == document_id))
            record = {"document_id": document_id, "document": name, **counts}
            event_id = self._event(conn, DELETE_ACTION, coder_id, None, None, record, None)
        return DocumentDeletion(document_id, name, counts["turns"], counts["segments"],
                                counts["codings"], counts["human_decisions"],
                                counts["assignments"], event_id, memos)

    def deletion_preview(self, document_id: int) -> DocumentDeletion:
        """What :meth:`delete_document` would remove now (nothing is written; no event)."""
        with self.engine.connect() as conn:
            name = conn.scalar(select(Document.name).where(Document.id == document_id,
                                                            Document.status == READY))
            if name is None:
                raise NotFoundError(f"no document {document_id} (see `evaltool list`)")
            counts = document_counts(conn, document_id)
            memos = _memo_count(conn, document_id)
        return DocumentDeletion(document_id, name, counts["turns"], counts["segments"],
                                counts["codings"], counts["human_decisions"],
                                counts["assignments"], memos=memos)
