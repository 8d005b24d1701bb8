"""Matrices of coded units: code × code co-occurrence and code × case, aggregated in SQL.

A unit is a sentence (``segment``) or a turn. Code × code counts the units of the row
code in which the column code occurs too; with ``window`` N (turn units) the column
code may occur up to N turns before or after. Code × case counts the row code's units
per site, speaker role (as at the turn), document, document attribute value
(``attr:KEY``), speaker attribute value (``speaker:KEY``) or target group (a unit's is
its speaker's, else its document's: :func:`evaltool.domain.quote_target_groups`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, and_, func, select

from evaltool.domain import CodingStatus, Matrix, attribute_values, quote_target_groups
from evaltool.errors import NotFoundError
from evaltool.store.access import may_read_layer
from evaltool.store.aggregates import counted_code, spoken_by
from evaltool.store.models import (
    READY,
    Code,
    Codebook,
    Coding,
    Document,
    DocumentAttribute,
    Segment,
    Speaker,
    Turn,
)

UNITS = ("segment", "turn")
CASES = ("site", "role", "document", "target_group")  # and "attr:KEY", "speaker:KEY"


def _values(value: Any) -> list[str]:
    """An attribute's values as text (a list gives one value per item)."""
    return attribute_values(value)


def _keyed(cols: str, prefix: str) -> bool:
    return cols.startswith(prefix) and len(cols) > len(prefix)


class MatrixOps:
    """Code matrices (mixed into :class:`evaltool.store.Store`)."""

    engine: Engine

    def matrix(self, cols: str, *, unit: str = "segment", window: int = 0,
               statuses: Sequence[str] = (CodingStatus.accepted.value,), layer: str = "",
               documents: Sequence[int] = (), speakers: Sequence[int] | None = None) -> Matrix:
        """Codes (rows) against ``cols``: 'code', 'site', 'role', 'document', 'target_group',
        'attr:KEY' (document attribute) or 'speaker:KEY' (speaker attribute).

        ``window`` (turns, with ``unit='turn'``) widens code × code co-occurrence;
        ``documents`` and ``speakers`` (ids; None: all) limit the units counted.
        :class:`NotFoundError` for an unknown column dimension or unit.
        """
        may_read_layer(self.actor, layer)
        if unit not in UNITS:
            raise NotFoundError(f"unknown unit {unit!r} (use segment or turn)")
        if cols not in ("code", *CASES) and not (_keyed(cols, "attr:")
                                                 or _keyed(cols, "speaker:")):
            raise NotFoundError(f"unknown columns {cols!r} (use code, site, role, document, "
                                "target_group, attr:KEY or speaker:KEY)")
        if window and (unit != "turn" or cols != "code"):
            raise NotFoundError("a window of turns needs --unit turn and --cols code")
        where = [Coding.status.in_(list(statuses)), Coding.layer == layer]
        if documents:
            where.append(Coding.document_id.in_(list(documents)))
        if speakers is not None:
            where.append(spoken_by(speakers))
        units = (select(Code.key.label("code"), Coding.document_id.label("doc"),
                        Coding.turn_number.label("turn"),
                        (Coding.segment_id if unit == "segment" else Coding.turn_number)
                        .label("unit"))
                 .join(Code, Code.id == Coding.code_id)
                 .join(Codebook, counted_code())  # a retired code's codings count nowhere
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
                counts, col_totals = self._by_role(conn, units, unit, documents, speakers)
            elif cols == "target_group" or cols.startswith("speaker:"):
                counts, col_totals = self._by_speaker(conn, units, cols, unit, documents,
                                                      speakers)
            else:
                counts, col_totals = self._by_document(conn, per_doc, cols, unit, documents,
                                                       speakers)
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

    def _by_speaker(self, conn, units, cols: str, unit: str, documents: Sequence[int],
                    speakers: Sequence[int] | None
                    ) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
        """The row code's units per speaker attribute value or target group (a speaker's
        own, else the document's), and each value's units."""
        coded = (select(units.c.code, Turn.speaker_id, func.count().label("n"))
                 .join(Turn, and_(Turn.document_id == units.c.doc, Turn.number == units.c.turn))
                 .group_by(units.c.code, Turn.speaker_id))
        model = Segment if unit == "segment" else Turn
        total = (select(model.speaker_id, func.count(model.id).label("n"))
                 .join(Document, and_(Document.id == model.document_id, Document.status == READY))
                 .group_by(model.speaker_id))
        if documents:
            total = total.where(model.document_id.in_(list(documents)))
        if speakers is not None:
            total = total.where(model.speaker_id.in_(list(speakers)))
        docs = {d.id: d.attributes for d in self.document_facets()}
        if cols == "target_group":
            case = {s.id: quote_target_groups(s.attributes, docs.get(s.document_id, {}))
                    for s in self.speaker_facets()}
        else:
            case = {s.id: _values(s.attributes.get(cols.removeprefix("speaker:")))
                    for s in self.speaker_facets()}
        counts: dict[tuple[str, str], int] = {}
        for code, speaker_id, n in conn.execute(coded):
            for value in case.get(speaker_id, []):
                counts[(code, value)] = counts.get((code, value), 0) + n
        totals: dict[str, int] = {}
        for speaker_id, n in conn.execute(total):
            for value in case.get(speaker_id, []):
                totals[value] = totals.get(value, 0) + n
        return counts, totals

    @staticmethod
    def _by_role(conn, units, unit: str, documents: Sequence[int],
                 speakers: Sequence[int] | None = None
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
        if speakers is not None:
            total = total.where(Turn.speaker_id.in_(list(speakers)))
        counts = {(r.code, r.role): r.n for r in conn.execute(coded)}
        return counts, {r.role: r.n for r in conn.execute(total)}

    @staticmethod
    def _by_document(conn, per_doc: dict[tuple[str, int], int], cols: str, unit: str,
                     documents: Sequence[int], speakers: Sequence[int] | None = None
                     ) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
        """The row code's units per document, site or attribute value, and each one's units."""
        model = Segment if unit == "segment" else Turn
        docs = (select(Document.id, Document.name, Document.site,
                       func.count(model.id).label("n"))
                .join(model, model.document_id == Document.id)
                .where(Document.status == READY).group_by(Document.id, Document.name,
                                                          Document.site))
        if documents:
            docs = docs.where(Document.id.in_(list(documents)))
        if speakers is not None:
            docs = docs.where(model.speaker_id.in_(list(speakers)))
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
