"""Dashboard aggregations, computed in SQL (GROUP BY), never by looping over codings.

Every query counts *quotes*: distinct coded segments of the shared layer whose
status is in ``statuses`` and whose document is in ``document_ids`` (None = all).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, case, distinct, func, literal, select, true, union_all
from sqlalchemy.orm import aliased

from evaltool.store.codings import SHARED
from evaltool.store.models import (
    Category,
    Code,
    Codebook,
    CodeCategory,
    Coding,
    Document,
    Event,
    Segment,
    Speaker,
    Turn,
)


class AggregateOps:
    """Aggregations for the dashboards (mixed into :class:`~evaltool.store.Store`)."""

    engine: Any

    def data_version(self) -> tuple:
        """Changes whenever documents, codings or decisions change (a cache key)."""
        with self.engine.connect() as conn:
            codings = conn.execute(select(func.count(Coding.id), func.max(Coding.updated_at),
                                          func.sum(Coding.version))).one()
            events = conn.scalar(select(func.max(Event.id)))
            docs = conn.execute(select(func.count(Document.id), func.max(Document.id))).one()
            cb = conn.execute(select(Codebook.id, Codebook.version, Codebook.loaded_at)
                              .where(Codebook.is_active)).first()
        return (*codings, events, *docs, *(cb or ()))

    @staticmethod
    def _coded(statuses: Sequence[str], document_ids: Sequence[int] | None, *,
               with_turn: bool = False) -> Select:
        """Shared-layer codings of the active codebook with the given statuses
        (``with_turn`` adds the turn number, for windows over neighbouring turns)."""
        stmt = (
            select(Coding.segment_id, Coding.code_id, Segment.document_id, Document.site,
                   Code.key.label("code"), Code.cmo, Code.column,
                   *([Turn.number.label("turn")] if with_turn else []))
            .join(Segment, Segment.id == Coding.segment_id)
            .join(Document, Document.id == Segment.document_id)
            .join(Code, Code.id == Coding.code_id)
            .join(Codebook, and_(Codebook.id == Code.codebook_id, Codebook.is_active))
            .where(Coding.layer == SHARED, Coding.status.in_(list(statuses)))
        )
        if with_turn:
            stmt = stmt.join(Turn, Turn.id == Segment.turn_id)
        if document_ids is not None:
            stmt = stmt.where(Segment.document_id.in_(list(document_ids)))
        return stmt

    def _rows(self, stmt) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(stmt)]

    def count_by_category(self, kind: str, statuses: Sequence[str],
                          document_ids: Sequence[int] | None = None) -> list[tuple]:
        """(category key, site, cmo, quotes) for themes (``kind='theme'``) or goals."""
        coded = self._coded(statuses, document_ids).subquery()
        stmt = (
            select(Category.key, coded.c.site, coded.c.cmo,
                   func.count(distinct(coded.c.segment_id)))
            .join(CodeCategory, CodeCategory.code_id == coded.c.code_id)
            .join(Category, and_(Category.id == CodeCategory.category_id, Category.kind == kind))
            .group_by(Category.key, coded.c.site, coded.c.cmo)
        )
        return self._rows(stmt)

    def count_by_category_document(self, kind: str, statuses: Sequence[str],
                                   document_ids: Sequence[int] | None = None) -> list[tuple]:
        """(category key, document id, quotes): which documents (and so target groups)
        each theme or goal reached."""
        coded = self._coded(statuses, document_ids).subquery()
        stmt = (
            select(Category.key, coded.c.document_id, func.count(distinct(coded.c.segment_id)))
            .join(CodeCategory, CodeCategory.code_id == coded.c.code_id)
            .join(Category, and_(Category.id == CodeCategory.category_id, Category.kind == kind))
            .group_by(Category.key, coded.c.document_id)
        )
        return self._rows(stmt)

    def totals_by_category(self, kind: str, statuses: Sequence[str],
                           document_ids: Sequence[int] | None = None) -> list[tuple]:
        """(category key, quotes, sites) with distinct counts across sites."""
        coded = self._coded(statuses, document_ids).subquery()
        stmt = (
            select(Category.key, func.count(distinct(coded.c.segment_id)),
                   func.count(distinct(coded.c.site)))
            .join(CodeCategory, CodeCategory.code_id == coded.c.code_id)
            .join(Category, and_(Category.id == CodeCategory.category_id, Category.kind == kind))
            .group_by(Category.key)
        )
        return self._rows(stmt)

    def count_by_column(self, statuses: Sequence[str],
                        document_ids: Sequence[int] | None = None) -> list[tuple]:
        """(change-theory column, site, quotes)."""
        coded = self._coded(statuses, document_ids).subquery()
        stmt = (select(coded.c.column, coded.c.site, func.count(distinct(coded.c.segment_id)))
                .group_by(coded.c.column, coded.c.site))
        return self._rows(stmt)

    def count_by_code(self, statuses: Sequence[str],
                      document_ids: Sequence[int] | None = None) -> list[tuple]:
        """(code key, status, codings) for the codebook page."""
        stmt = (
            select(Code.key, Coding.status, func.count(Coding.id))
            .join(Code, Code.id == Coding.code_id)
            .join(Codebook, and_(Codebook.id == Code.codebook_id, Codebook.is_active))
            .where(Coding.layer == SHARED, Coding.status.in_(list(statuses)))
            .group_by(Code.key, Coding.status)
        )
        if document_ids is not None:
            stmt = stmt.join(Segment, Segment.id == Coding.segment_id).where(
                Segment.document_id.in_(list(document_ids)))
        return self._rows(stmt)

    def strongest_quotes(self, theme: str, statuses: Sequence[str],
                         document_ids: Sequence[int] | None = None, limit: int = 5,
                         min_chars: int = 40, max_chars: int = 400) -> list[dict[str, Any]]:
        """The theme's strongest quotes.

        Strength, in this order: decided by a person (accepted) before suggested; the
        number of codes the segment carries (a quote that shows context, mechanism and
        outcome at once is richer evidence); the machine's confidence; length. Quotes
        shorter than ``min_chars`` or longer than ``max_chars`` are left out.
        """
        theme_codes = (select(CodeCategory.code_id)
                       .join(Category, Category.id == CodeCategory.category_id)
                       .where(Category.kind == "theme", Category.key == theme))
        n_codes = (select(Coding.segment_id, func.count(distinct(Coding.code_id)).label("n"))
                   .where(Coding.layer == SHARED, Coding.status.in_(list(statuses)))
                   .group_by(Coding.segment_id).subquery())
        decided = case((Coding.status == "accepted", 1), else_=0)
        stmt = (
            select(Segment.id, Segment.text, Document.site, Document.name, Turn.number,
                   func.coalesce(Turn.role, Speaker.role), Code.key, Code.label, Code.cmo,
                   Coding.status, Coding.confidence, n_codes.c.n)
            .select_from(Coding)
            .join(Segment, Segment.id == Coding.segment_id)
            .join(Turn, Turn.id == Segment.turn_id)
            .join(Speaker, Speaker.id == Segment.speaker_id)
            .join(Document, Document.id == Segment.document_id)
            .join(Code, Code.id == Coding.code_id)
            .join(n_codes, n_codes.c.segment_id == Coding.segment_id)
            .where(Coding.layer == SHARED, Coding.status.in_(list(statuses)),
                   Coding.code_id.in_(theme_codes),
                   func.length(Segment.text).between(min_chars, max_chars))
            .order_by(decided.desc(), n_codes.c.n.desc(),
                      func.coalesce(Coding.confidence, literal(1.0)).desc(),
                      func.length(Segment.text).desc(), Segment.id)
            .limit(limit * 4)
        )
        if document_ids is not None:
            stmt = stmt.where(Segment.document_id.in_(list(document_ids)))
        out: list[dict[str, Any]] = []
        seen: set[int] = set()
        for r in self._rows(stmt):
            if r[0] in seen:
                continue
            seen.add(r[0])
            out.append({"segment_id": r[0], "text": r[1], "site": r[2], "document": r[3],
                        "turn": r[4], "role": r[5], "code": r[6], "code_label": r[7],
                        "cmo": r[8], "status": r[9], "confidence": r[10], "codes": r[11]})
            if len(out) == limit:
                break
        return out

    def cmo_configurations(self, statuses: Sequence[str],
                           document_ids: Sequence[int] | None = None, window: int = 1,
                           limit: int = 200) -> list[dict[str, Any]]:
        """Context–mechanism–outcome triples co-occurring within ``window`` turns.

        For every outcome coding, the context and mechanism codings of the same
        document in the same turn or up to ``window`` turns before or after it form
        a configuration; counted per site as distinct outcome quotes, with the
        lowest-id outcome segment as an example.
        """
        coded = self._coded(statuses, document_ids, with_turn=True).cte("coded")
        o, c, m = aliased(coded, name="o"), aliased(coded, name="c"), aliased(coded, name="m")
        # The window as rows of turn offsets: joining on an exact turn (o.turn + k) lets
        # the database index the join, where a BETWEEN range made SQLite compare every
        # outcome with every context coding (quadratic: 2 s at 10 k coded segments).
        offsets = union_all(*[select(literal(k).label("k"))
                              for k in range(-window, window + 1)]).cte("offsets")
        oc, om = aliased(offsets, name="oc"), aliased(offsets, name="om")

        def near(x, off):
            return and_(x.c.document_id == o.c.document_id, x.c.turn == o.c.turn + off.c.k)

        stmt = (
            select(o.c.site, c.c.code, m.c.code, o.c.code,
                   func.count(distinct(o.c.segment_id)).label("n"),
                   func.min(o.c.segment_id))
            .select_from(o)
            .join(oc, true())
            .join(c, and_(near(c, oc), c.c.cmo == "context"))
            .join(om, true())
            .join(m, and_(near(m, om), m.c.cmo == "mechanism"))
            .where(o.c.cmo == "outcome")
            .group_by(o.c.site, c.c.code, m.c.code, o.c.code)
            .order_by(func.count(distinct(o.c.segment_id)).desc(), o.c.site, c.c.code,
                      m.c.code, o.c.code)
            .limit(limit)
        )
        return [{"site": r[0], "context": r[1], "mechanism": r[2], "outcome": r[3], "n": r[4],
                 "example_segment": r[5]} for r in self._rows(stmt)]

    def segment_texts(self, segment_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Text, site and speaker role of segments (for example quotes)."""
        if not segment_ids:
            return {}
        stmt = (select(Segment.id, Segment.text, Document.site,
                       func.coalesce(Turn.role, Speaker.role), Turn.number, Document.name)
                .join(Turn, Turn.id == Segment.turn_id)
                .join(Speaker, Speaker.id == Segment.speaker_id)
                .join(Document, Document.id == Segment.document_id)
                .where(Segment.id.in_(list(segment_ids))))
        return {r[0]: {"text": r[1], "site": r[2], "role": r[3], "turn": r[4], "document": r[5]}
                for r in self._rows(stmt)}


__all__ = ["AggregateOps"]
