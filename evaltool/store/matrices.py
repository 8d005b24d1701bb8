"""Matrices of coded units: code × code co-occurrence and code × case, aggregated in SQL.

A unit is a sentence (``segment``) or a turn. Code × code counts the units of the row
code in which the column code occurs too; with ``window`` N (turn units) the column
code may occur up to N turns before or after. Code × case counts the row code's units
per site, speaker role (as at the turn), document or document attribute value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, and_, func, select

from evaltool.domain import CodingStatus, Matrix
from evaltool.errors import NotFoundError
from evaltool.store.models import (
    READY,
    Code,
    Coding,
    Document,
    DocumentAttribute,
    Segment,
    Speaker,
    Turn,
)

UNITS = ("segment", "turn")
CASES = ("site", "role", "document")  # and "attr:KEY"


def _values(value: Any) -> list[str]:
    """An attribute's values as text (a list gives one value per item)."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None and v != ""]
    return [str(value)]


class MatrixOps:
    """Code matrices (mixed into :class:`evaltool.store.Store`)."""

    engine: Engine

    def matrix(self, cols: str, *, unit: str = "segment", window: int = 0,
               statuses: Sequence[str] = (CodingStatus.accepted.value,), layer: str = "",
               documents: Sequence[int] = ()) -> Matrix:
        """Codes (rows) against ``cols``: 'code', 'site', 'role', 'document' or 'attr:KEY'.

        ``window`` (turns, with ``unit='turn'``) widens code × code co-occurrence.
        :class:`NotFoundError` for an unknown column dimension or unit.
        """
        if unit not in UNITS:
            raise NotFoundError(f"unknown unit {unit!r} (use segment or turn)")
        if cols not in ("code", *CASES) and not (cols.startswith("attr:") and len(cols) > 5):
            raise NotFoundError(f"unknown columns {cols!r} (use code, site, role, document or "
                                "attr:KEY)")
        if window and (unit != "turn" or cols != "code"):
            raise NotFoundError("a window of turns needs --unit turn and --cols code")
        where = [Coding.status.in_(list(statuses)), Coding.layer == layer]
        if documents:
            where.append(Coding.document_id.in_(list(documents)))
        units = (select(Code.key.label("code"), Coding.document_id.label("doc"),
                        Coding.turn_number.label("turn"),
                        (Coding.segment_id if unit == "segment" else Coding.turn_number)
                        .label("unit"))
                 .join(Code, Code.id == Coding.code_id)
                 .join(Document, and_(Document.id == Coding.document_id,
                                      Document.status == READY))
                 .where(*where).distinct().subquery())
        with self.engine.connect() as conn:
            order = {k: i for i, k in enumerate(conn.scalars(
                select(Code.key).order_by(Code.codebook_id.desc(), Code.position)))}
            per_doc: dict[tuple[str, int], int] = {
                (r.code, r.doc): r.n for r in conn.execute(
                    select(units.c.code, units.c.doc, func.count().label("n"))
                    .group_by(units.c.code, units.c.doc))}
            row_totals: dict[str, int] = {}
            for (code, _doc), n in per_doc.items():
                row_totals[code] = row_totals.get(code, 0) + n
            if cols == "code":
                counts, col_totals = self._code_pairs(conn, units, unit, window), row_totals
            elif cols == "role":
                counts, col_totals = self._by_role(conn, units, unit, documents)
            else:
                counts, col_totals = self._by_document(conn, per_doc, cols, unit, documents)
        rows = tuple(sorted(row_totals, key=lambda k: (order.get(k, len(order)), k)))
        col_keys = rows if cols == "code" else tuple(sorted(col_totals))
        return Matrix("code", cols, unit, window, rows, col_keys, counts, row_totals, col_totals)

    @staticmethod
    def _code_pairs(conn, units, unit: str, window: int) -> dict[tuple[str, str], int]:
        """Units of the row code in which (or within ``window`` turns of which) the column
        code occurs; the diagonal is the row code's own units."""
        a, b = units.alias("a"), units.alias("b")
        if unit == "segment":
            on = a.c.unit == b.c.unit
        else:
            on = and_(a.c.doc == b.c.doc, b.c.turn.between(a.c.turn - window, a.c.turn + window))
        pairs = (select(a.c.code.label("r"), b.c.code.label("c"), a.c.doc, a.c.unit)
                 .join(b, on).distinct().subquery())
        return {(r.r, r.c): r.n for r in conn.execute(
            select(pairs.c.r, pairs.c.c, func.count().label("n")).group_by(pairs.c.r, pairs.c.c))}

    @staticmethod
    def _by_role(conn, units, unit: str, documents: Sequence[int]
                 ) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
        """The row code's units per speaker role, and every role's units."""
        role = func.coalesce(Turn.role, Speaker.role, "")
        coded = (select(units.c.code, role.label("role"), func.count().label("n"))
                 .join(Turn, and_(Turn.document_id == units.c.doc, Turn.number == units.c.turn))
                 .join(Speaker, Speaker.id == Turn.speaker_id)
                 .group_by(units.c.code, role))
        if unit == "segment":
            total = select(role.label("role"), func.count(Segment.id).label("n")).select_from(
                Segment).join(Turn, Turn.id == Segment.turn_id)
        else:
            total = select(role.label("role"), func.count(Turn.id).label("n")).select_from(Turn)
        total = (total.join(Speaker, Speaker.id == Turn.speaker_id)
                 .join(Document, and_(Document.id == Turn.document_id, Document.status == READY))
                 .group_by(role))
        if documents:
            total = total.where(Turn.document_id.in_(list(documents)))
        counts = {(r.code, r.role): r.n for r in conn.execute(coded)}
        return counts, {r.role: r.n for r in conn.execute(total)}

    @staticmethod
    def _by_document(conn, per_doc: dict[tuple[str, int], int], cols: str, unit: str,
                     documents: Sequence[int]) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
        """The row code's units per document, site or attribute value, and each one's units."""
        model = Segment if unit == "segment" else Turn
        docs = (select(Document.id, Document.name, Document.site,
                       func.count(model.id).label("n"))
                .join(model, model.document_id == Document.id)
                .where(Document.status == READY).group_by(Document.id, Document.name,
                                                          Document.site))
        if documents:
            docs = docs.where(Document.id.in_(list(documents)))
        rows = conn.execute(docs).all()
        if cols == "document":
            case = {r.id: [r.name] for r in rows}
        elif cols == "site":
            case = {r.id: _values(r.site) for r in rows}
        else:
            attrs = dict(conn.execute(select(DocumentAttribute.document_id, DocumentAttribute.value)
                                      .where(DocumentAttribute.key == cols[5:])).all())
            case = {r.id: _values(attrs.get(r.id)) for r in rows}
        totals: dict[str, int] = {}
        for r in rows:
            for value in case[r.id]:
                totals[value] = totals.get(value, 0) + r.n
        counts: dict[tuple[str, str], int] = {}
        for (code, doc), n in per_doc.items():
            for value in case.get(doc, []):
                counts[(code, value)] = counts.get((code, value), 0) + n
        return counts, totals
