"""Quotes pinned "til rapporten": a coding pinned to a theme, with who and when.

A lead or an evaluator pins a coding (a sentence or a span coding) to one of the themes
of its code; the theme chapter and the report (:mod:`evaltool.report`) show a theme's
pinned quotes first. Pinning and unpinning are each one transaction that also appends
an event (actions ``pin`` and ``unpin``; ``after``/``before`` hold the theme), so the
coding's history shows them beside the decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from evaltool.domain import CodingStatus, Permission, QuotePin
from evaltool.errors import NotFoundError, PinError
from evaltool.store.access import guarded
from evaltool.store.codings import SHARED
from evaltool.store.models import (
    READY,
    Category,
    Codebook,
    CodeCategory,
    Coder,
    Coding,
    Document,
    utcnow,
)
from evaltool.store.models import (
    QuotePin as QuotePinRow,
)

PIN_ACTION = "pin"
UNPIN_ACTION = "unpin"


class PinOps:
    """Quote-pin operations of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any

    @guarded(Permission.report, coder="coder")
    def pin_quote(self, coding_id: int, theme: str, coder: str) -> QuotePin:
        """Pin a coding to a theme of its code for the report (one transaction, an event)."""
        if not coder or not coder.strip():
            raise PinError("no_coder", coding_id, theme)
        with self.write() as conn:
            row = self._pin_target(conn, coding_id, theme)
            if row.status == CodingStatus.rejected.value:
                raise PinError("rejected", coding_id, theme)
            if row.layer != SHARED:
                raise PinError("own_layer", coding_id, theme)
            if conn.scalar(select(QuotePinRow.id).where(QuotePinRow.coding_id == coding_id,
                                                        QuotePinRow.theme == theme)) is not None:
                raise PinError("pinned", coding_id, theme)
            coder_id = self._coder_id(conn, coder.strip())
            now = utcnow()
            pin_id = conn.execute(insert(QuotePinRow).values(
                coding_id=coding_id, theme=theme, coder_id=coder_id, created_at=now)
                .returning(QuotePinRow.id)).scalar_one()
            self._event(conn, PIN_ACTION, coder_id, coding_id, row.segment_id, None,
                        _pin_state(row, theme))
        return QuotePin(pin_id, coding_id, theme, coder.strip(), now)

    @guarded(Permission.report, coder="coder")
    def unpin_quote(self, coding_id: int, theme: str, coder: str) -> None:
        """Take a pinned coding out of a theme's report quotes (one transaction, an event)."""
        if not coder or not coder.strip():
            raise PinError("no_coder", coding_id, theme)
        with self.write() as conn:
            row = self._pin_target(conn, coding_id, theme)
            gone = conn.execute(delete(QuotePinRow).where(QuotePinRow.coding_id == coding_id,
                                                          QuotePinRow.theme == theme))
            if gone.rowcount == 0:
                raise PinError("not_pinned", coding_id, theme)
            self._event(conn, UNPIN_ACTION, self._coder_id(conn, coder.strip()), coding_id,
                        row.segment_id, _pin_state(row, theme), None)

    def quote_pins(self, theme: str | None = None, coding_ids: Sequence[int] | None = None
                   ) -> list[QuotePin]:
        """Pins of ready documents' codings (of one theme, or of some codings), oldest first."""
        stmt = (select(QuotePinRow.id, QuotePinRow.coding_id, QuotePinRow.theme, Coder.name,
                       QuotePinRow.created_at)
                .join(Coding, Coding.id == QuotePinRow.coding_id)
                .join(Document, (Document.id == Coding.document_id) & (Document.status == READY))
                .outerjoin(Coder, Coder.id == QuotePinRow.coder_id)
                .order_by(QuotePinRow.created_at, QuotePinRow.id))
        if theme is not None:
            stmt = stmt.where(QuotePinRow.theme == theme)
        if coding_ids is not None:
            stmt = stmt.where(QuotePinRow.coding_id.in_(list(coding_ids)))
        with self.engine.connect() as conn:
            return [QuotePin(r.id, r.coding_id, r.theme, r.name, r.created_at)
                    for r in conn.execute(stmt)]

    @staticmethod
    def _pin_target(conn: Connection, coding_id: int, theme: str) -> Any:
        """The coding row (of a ready document), its code checked to be in ``theme``."""
        row = conn.execute(select(Coding).join(Document, Document.id == Coding.document_id)
                           .where(Coding.id == coding_id, Document.status == READY)).first()
        if row is None:
            raise NotFoundError(f"no coding {coding_id}")
        themes = select(Category.id).join(Codebook, Codebook.id == Category.codebook_id).where(
            Codebook.is_active, Category.kind == "theme", Category.key == theme)
        if conn.scalar(themes.limit(1)) is None:
            raise PinError("unknown_theme", coding_id, theme)
        linked = conn.scalar(select(CodeCategory.id).where(
            CodeCategory.code_id == row.code_id, CodeCategory.category_id.in_(themes)).limit(1))
        if linked is None:
            raise PinError("not_in_theme", coding_id, theme)
        return row


def _pin_state(row: Any, theme: str) -> dict[str, Any]:
    """What a pin event records: the theme and the coding's place (never its text)."""
    return {"theme": theme, "code_id": row.code_id, "layer": row.layer,
            "segment_id": row.segment_id, "start_char": row.start_char, "end_char": row.end_char}
