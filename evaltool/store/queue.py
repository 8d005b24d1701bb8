"""The review queue: open machine suggestions in review order, one page at a time, in SQL.

Uncertainty order puts the confidence closest to the model's threshold first
(``abs(confidence - threshold)`` ascending; no confidence counts as 0), then segment id,
then code key. Text order is document, place in the document, code position. A page
reads only the rows it shows: each side of the threshold is read in confidence order
(from the index on ``layer, status, confidence``), and the two sides, plus the rows
without a confidence, are merged.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Row,
    Select,
    bindparam,
    exists,
    func,
    or_,
    select,
    union_all,
)

from evaltool.domain import CodingStatus
from evaltool.store.access import may_read_coder
from evaltool.store.models import Assignment, Code, Codebook, Coder, Coding, Document, Segment

SHARED = ""
ORDERS = ("uncertainty", "document")


def _open(by_document: bool, excluding: bool, blind: bool) -> list:
    """Conditions on a coding row: an open shared suggestion of the active codebook, in
    the document ``:doc``, not among ``:exclude``, not decided by ``:coder`` in their
    blind layer on one of the documents ``:blind`` (each only when asked for)."""
    active = select(Code.id).join(Codebook, Codebook.id == Code.codebook_id).where(
        Codebook.is_active)
    where = [Coding.layer == SHARED, Coding.status == CodingStatus.suggested.value,
             Coding.code_id.in_(active)]  # suggestions are sentence codings: no span test
    if by_document:
        where.append(Coding.document_id == bindparam("doc", type_=Integer))
    if excluding:
        where.append(Coding.id.not_in(bindparam("exclude", expanding=True)))
    if blind:
        # a blind coder decides in a layer of their own; the shared row stays open
        own = Coding.__table__.alias("own")
        where.append(or_(
            Coding.document_id.not_in(bindparam("blind", expanding=True)),
            ~exists().where(own.c.layer == bindparam("coder"),
                            own.c.segment_id == Coding.segment_id,
                            own.c.code_id == Coding.code_id,
                            own.c.start_char.is_(None),  # a span is no decision on this
                            own.c.status != CodingStatus.suggested.value)))
    return where


@lru_cache(maxsize=64)
def _page_statement(order: str, paged: bool, by_document: bool, excluding: bool,
                    blind: bool) -> Select:
    """The queue's query for one combination of filters (built once: per click it only
    gets new parameter values)."""
    where = _open(by_document, excluding, blind)
    cols = (Coding.id, Coding.segment_id, Coding.document_id, Coding.turn_number.label("turn"),
            Code.key.label("code_key"), Coding.confidence, Coding.version)

    def rows(*conds) -> Select:
        return select(*cols).join(Code, Code.id == Coding.code_id).where(*where, *conds)

    t = bindparam("threshold", type_=Float)
    if order == "document":
        q = (rows().add_columns(Segment.start_char, Code.position)
             .join(Segment, Segment.id == Coding.segment_id)).subquery()
        key = (q.c.document_id, q.c.start_char, q.c.position, q.c.id)
    else:
        if paged:
            # The page's rows lie among the first offset+limit of each side of the
            # threshold in confidence order (the distance grows with it on each side).
            n = bindparam("n", type_=Integer)
            sides = [
                rows(Coding.confidence >= t).order_by(Coding.confidence, Coding.segment_id,
                                                      Code.key),
                rows(Coding.confidence < t).order_by(Coding.confidence.desc(),
                                                     Coding.segment_id, Code.key),
                rows(Coding.confidence.is_(None)).order_by(Coding.segment_id, Code.key),
            ]
            q = union_all(*(select(*s.limit(n).subquery().c) for s in sides)).subquery()
        else:
            q = rows().subquery()
        key = (func.abs(func.coalesce(q.c.confidence, 0.0) - t), q.c.segment_id, q.c.code_key)
    stmt = (select(q.c.id, q.c.segment_id, q.c.document_id, Document.name.label("document"),
                   q.c.turn, q.c.code_key, q.c.confidence, q.c.version)
            .join(Document, Document.id == q.c.document_id).order_by(*key))
    if paged:
        stmt = (stmt.limit(bindparam("limit", type_=Integer))
                .offset(bindparam("offset", type_=Integer)))
    return stmt


@lru_cache(maxsize=16)
def _size_statement(by_document: bool, excluding: bool, blind: bool) -> Select:
    """How many rows the queue's query finds with these filters."""
    return select(func.count()).select_from(Coding).where(*_open(by_document, excluding, blind))


class QueueOps:
    """Reads of the review queue (mixed into :class:`~evaltool.store.Store`)."""

    engine: Any
    actor: Any  # the signed-in Actor, or None (see Store.as_actor)

    def _queue_params(self, document_id: int | None, coder: str | None,
                      exclude: Collection[int]) -> dict[str, Any]:
        """The filters' parameter values (only those in use)."""
        params: dict[str, Any] = {}
        if document_id is not None:
            params["doc"] = document_id
        if exclude:
            params["exclude"] = list(exclude)
        if coder is not None:
            with self.engine.connect() as conn:
                blind = list(conn.scalars(
                    select(Assignment.document_id).join(Coder, Coder.id == Assignment.coder_id)
                    .where(Coder.name == coder, Assignment.blind)))
            if blind:
                params.update(coder=coder, blind=blind)
        return params

    def review_queue(self, threshold: float, *, order: str = "uncertainty",
                     document_id: int | None = None, coder: str | None = None,
                     exclude: Collection[int] = (), limit: int | None = None,
                     offset: int = 0) -> list[Row]:
        """Open suggestions in review order: rows of ``id, segment_id, document_id,
        document, turn, code_key, confidence, version``.

        ``coder`` leaves out what that coder has decided in their blind layer;
        ``exclude`` leaves out coding ids (skipped ones); ``limit``/``offset`` page.
        """
        may_read_coder(self.actor, coder)
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}")
        params = self._queue_params(document_id, coder, exclude)
        paged = limit is not None
        stmt = _page_statement(order, paged, "doc" in params, "exclude" in params,
                               "blind" in params)
        if order == "uncertainty":
            params["threshold"] = float(threshold)
            if paged:
                params["n"] = offset + limit
        if paged:
            params.update(limit=limit, offset=offset)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt, params))

    def review_queue_size(self, *, document_id: int | None = None, coder: str | None = None,
                          exclude: Collection[int] = ()) -> int:
        """How many open suggestions :meth:`review_queue` holds with the same filters."""
        may_read_coder(self.actor, coder)
        params = self._queue_params(document_id, coder, exclude)
        stmt = _size_statement("doc" in params, "exclude" in params, "blind" in params)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt, params).scalar() or 0)
