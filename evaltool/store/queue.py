"""The review queue: open machine suggestions in review order, one page at a time, in SQL.

Uncertainty order puts the confidence closest to the model's threshold first
(``abs(confidence - threshold)`` ascending; no confidence counts as 0), then segment id,
then code key. Text order is document, place in the document, code position. A page
reads only the rows it shows: each side of the threshold is read from the index on
``(layer, status, confidence, segment_id)`` in confidence order, and the two sides
(plus rows without a confidence) are merged.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, Select, exists, func, literal, select, union_all

from evaltool.domain import CodingStatus
from evaltool.store.models import Assignment, Code, Codebook, Coder, Coding, Document, Segment

SHARED = ""
ORDERS = ("uncertainty", "document")


class QueueOps:
    """Reads of the review queue (mixed into :class:`~evaltool.store.Store`)."""

    engine: Any

    @staticmethod
    def _open(document_id: int | None, coder: str | None, exclude: Collection[int]) -> list:
        """Conditions on a coding row: an open shared suggestion of the active codebook, in
        the document (if given), not excluded, not yet decided by ``coder`` in a blind layer."""
        active = select(Code.id).join(Codebook, Codebook.id == Code.codebook_id).where(
            Codebook.is_active)
        where = [Coding.layer == SHARED, Coding.status == CodingStatus.suggested.value,
                 Coding.code_id.in_(active)]
        if document_id is not None:
            where.append(Coding.document_id == document_id)
        if exclude:
            where.append(Coding.id.not_in(list(exclude)))
        if coder is not None:
            # a blind coder decides in a layer of their own; the shared row stays open
            own = Coding.__table__.alias("own")
            where.append(~exists().where(
                own.c.layer == coder, own.c.segment_id == Coding.segment_id,
                own.c.code_id == Coding.code_id, own.c.start_char.is_(None),
                own.c.status != CodingStatus.suggested.value,
                Assignment.document_id == own.c.document_id, Assignment.blind,
                Coder.id == Assignment.coder_id, Coder.name == coder))
        return where

    def review_queue(self, threshold: float, *, order: str = "uncertainty",
                     document_id: int | None = None, coder: str | None = None,
                     exclude: Collection[int] = (), limit: int | None = None,
                     offset: int = 0) -> list[Row]:
        """Open suggestions in review order: rows of ``id, segment_id, document_id,
        document, turn, code_key, confidence, version``.

        ``coder`` leaves out what that coder has decided in their blind layer;
        ``exclude`` leaves out coding ids (skipped ones); ``limit``/``offset`` page.
        """
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}")
        where = self._open(document_id, coder, exclude)
        cols = (Coding.id, Coding.segment_id, Coding.document_id, Coding.turn_number.label("turn"),
                Code.key.label("code_key"), Coding.confidence, Coding.version)

        def rows(*conds) -> Select:
            return (select(*cols).join(Code, Code.id == Coding.code_id)
                    .where(*where, *conds))

        t = literal(float(threshold))
        if order == "document":
            stmt = (rows().add_columns(Segment.start_char, Code.position)
                    .join(Segment, Segment.id == Coding.segment_id))
            q = stmt.subquery()
            key = (q.c.document_id, q.c.start_char, q.c.position, q.c.id)
        elif limit is None:
            q = rows().subquery()
            key = (func.abs(func.coalesce(q.c.confidence, 0.0) - t), q.c.segment_id, q.c.code_key)
        else:
            # The page's rows lie among the first offset+limit of each side of the
            # threshold taken in confidence order (distance grows monotonically with it).
            n = offset + limit
            sides = [
                rows(Coding.confidence >= t).order_by(Coding.confidence, Coding.segment_id, Code.key),
                rows(Coding.confidence < t).order_by(Coding.confidence.desc(), Coding.segment_id,
                                                     Code.key),
                rows(Coding.confidence.is_(None)).order_by(Coding.segment_id, Code.key),
            ]
            parts = [select(*s.limit(n).subquery().c) for s in sides]
            q = union_all(*parts).subquery()
            key = (func.abs(func.coalesce(q.c.confidence, 0.0) - t), q.c.segment_id, q.c.code_key)
        stmt = (select(q.c.id, q.c.segment_id, q.c.document_id, Document.name.label("document"),
                       q.c.turn, q.c.code_key, q.c.confidence, q.c.version)
                .join(Document, Document.id == q.c.document_id)
                .order_by(*key).offset(offset or None).limit(limit))
        with self.engine.connect() as conn:
            return list(conn.execute(stmt))

    def review_queue_size(self, *, document_id: int | None = None, coder: str | None = None,
                          exclude: Collection[int] = ()) -> int:
        """How many open suggestions :meth:`review_queue` holds with the same filters."""
        stmt = select(func.count()).select_from(Coding).where(
            *self._open(document_id, coder, exclude))
        with self.engine.connect() as conn:
            return int(conn.scalar(stmt) or 0)

