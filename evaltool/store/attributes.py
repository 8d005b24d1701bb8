"""Reading and writing the attributes of documents and speakers (migration 0011).

A document's attributes live in ``document_attributes`` (``site``, ``date`` and
``title`` also in their columns of ``documents``); a speaker's in
``speaker_attributes``, except ``role``, which is the speaker's column (and the role
of the turns that carried the old one). Every change is one transaction that
appends an :class:`~evaltool.store.models.Event` per key (action ``attribute``,
before and after as ``{document_id, speaker_id, key, value}``; speaker ids, never
names, which are personal data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from evaltool import attributes as attrs
from evaltool.domain import DOCUMENT_COLUMNS, AttributeChange, Permission, SpeakerInfo
from evaltool.errors import NotFoundError
from evaltool.store.access import guarded
from evaltool.store.documents import fit
from evaltool.store.models import (
    READY,
    Coder,
    Document,
    DocumentAttribute,
    Event,
    Speaker,
    SpeakerAttribute,
    Turn,
)

ATTRIBUTE_ACTION = "attribute"


class AttributeOps:
    """Attributes of documents and speakers (mixed into :class:`evaltool.store.Store`)."""

    engine: Engine

    def speaker_facets(self, document_id: int | None = None) -> list[SpeakerInfo]:
        """Speakers of ready documents (or of one) with their attributes, ``role`` included."""
        stmt = (select(Speaker.id, Speaker.document_id, Speaker.name, Speaker.role,
                       Speaker.is_moderator)
                .join(Document, Document.id == Speaker.document_id)
                .where(Document.status == READY).order_by(Speaker.document_id, Speaker.id))
        extra = (select(SpeakerAttribute.speaker_id, SpeakerAttribute.key, SpeakerAttribute.value)
                 .join(Speaker, Speaker.id == SpeakerAttribute.speaker_id)
                 .join(Document, Document.id == Speaker.document_id)
                 .where(Document.status == READY).order_by(SpeakerAttribute.id))
        if document_id is not None:
            stmt = stmt.where(Speaker.document_id == document_id)
            extra = extra.where(Speaker.document_id == document_id)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            found: dict[int, dict[str, Any]] = {}
            for speaker_id, key, value in conn.execute(extra):
                found.setdefault(speaker_id, {})[key] = value
        return [SpeakerInfo(r.id, r.document_id, r.name, r.role, r.is_moderator,
                            {**({"role": r.role} if r.role else {}), **found.get(r.id, {})})
                for r in rows]

    @guarded(Permission.manage, coder="actor")
    def set_attributes(self, document_id: int, values: Mapping[str, Any] | None = None, *,
                       unset: Sequence[str] = (), speaker: str | None = None,
                       actor: str | None = None) -> dict[str, Any]:
        """Set ``values`` and remove the ``unset`` keys of a document, or of its ``speaker``
        (by name), in one transaction; return the attributes after.

        Keys and values are checked first (:class:`~evaltool.errors.AttributeInputError`);
        :class:`NotFoundError` for an unknown document or speaker, or an unset key that
        is not there. Nothing is written unless everything is valid.
        """
        checked, gone = attrs.check(dict(values or {}), unset)
        with self.write() as conn:
            if conn.scalar(select(Document.id).where(Document.id == document_id,
                                                     Document.status == READY)) is None:
                raise NotFoundError(f"no document {document_id} (see `evaltool list`)")
            speaker_id = None
            if speaker is not None:
                speaker_id = conn.scalar(select(Speaker.id).where(
                    Speaker.document_id == document_id, Speaker.name == speaker))
                if speaker_id is None:
                    raise NotFoundError(f"document {document_id} has no speaker {speaker!r} "
                                        "(see `evaltool attributes DOCUMENT`)")
            before = self._attributes(conn, document_id, speaker_id)
            missing = [k for k in gone if k not in before]
            if missing:
                raise NotFoundError(f"no attribute {missing[0]!r} to unset")
            coder_id = self._coder_id(conn, actor.strip()) if actor and actor.strip() else None
            changes = {**checked, **dict.fromkeys(gone)}
            for key, value in changes.items():
                if before.get(key) == value:
                    continue
                self._write_attribute(conn, document_id, speaker_id, key, value, before.get(key))
                place = {"document_id": document_id, "speaker_id": speaker_id, "key": key}
                self._event(conn, ATTRIBUTE_ACTION, coder_id, None, None,
                            {**place, "value": before.get(key)}, {**place, "value": value})
            return self._attributes(conn, document_id, speaker_id)

    def attributes(self, document_id: int, speaker: str | None = None) -> dict[str, Any]:
        """A document's attributes, or its ``speaker``'s (by name)."""
        with self.engine.connect() as conn:
            speaker_id = None
            if speaker is not None:
                speaker_id = conn.scalar(select(Speaker.id).join(
                    Document, Document.id == Speaker.document_id).where(
                    Speaker.document_id == document_id, Speaker.name == speaker,
                    Document.status == READY))
                if speaker_id is None:
                    raise NotFoundError(f"document {document_id} has no speaker {speaker!r}")
            return self._attributes(conn, document_id, speaker_id)

    def attribute_history(self, document_id: int, limit: int = 50) -> list[AttributeChange]:
        """The latest changes of a document's and its speakers' attributes, newest first."""
        with self.engine.connect() as conn:
            names = dict(conn.execute(select(Speaker.id, Speaker.name)
                                      .where(Speaker.document_id == document_id)).all())
            # the place is inside the JSON: read the attribute events newest first and keep
            # this document's (there are few: one per changed key)
            rows = conn.execute(select(Event.at, Coder.name, Event.before, Event.after)
                                .outerjoin(Coder, Coder.id == Event.coder_id)
                                .where(Event.action == ATTRIBUTE_ACTION)
                                .order_by(Event.id.desc()))
            out = []
            for at, coder, before, after in rows:
                if (before or {}).get("document_id") != document_id:
                    continue
                speaker_id = before.get("speaker_id")
                out.append(AttributeChange(at, coder, None if speaker_id is None else
                                           names.get(speaker_id, f"#{speaker_id}"),
                                           before.get("key", ""), before.get("value"),
                                           (after or {}).get("value")))
                if len(out) == limit:
                    break
        return out

    @staticmethod
    def _attributes(conn: Connection, document_id: int, speaker_id: int | None) -> dict[str, Any]:
        if speaker_id is None:
            return dict(conn.execute(select(DocumentAttribute.key, DocumentAttribute.value)
                                     .where(DocumentAttribute.document_id == document_id)
                                     .order_by(DocumentAttribute.key)).all())
        role = conn.scalar(select(Speaker.role).where(Speaker.id == speaker_id))
        rest = conn.execute(select(SpeakerAttribute.key, SpeakerAttribute.value)
                            .where(SpeakerAttribute.speaker_id == speaker_id)
                            .order_by(SpeakerAttribute.key)).all()
        return dict(sorted([*([("role", role)] if role else []), *rest]))

    @staticmethod
    def _write_attribute(conn: Connection, document_id: int, speaker_id: int | None, key: str,
                         value: Any, old: Any) -> None:
        """One key's new value (None: removed), in its table and column."""
        if speaker_id is not None and key == "role":
            role = fit(Speaker.role, value)
            conn.execute(update(Speaker).where(Speaker.id == speaker_id).values(role=role))
            if old is not None:  # turns that carried the old role carry the new one
                conn.execute(update(Turn).where(Turn.speaker_id == speaker_id, Turn.role == old)
                             .values(role=role))
            return
        if speaker_id is None:
            table, where = DocumentAttribute, {"document_id": document_id}
            if key in DOCUMENT_COLUMNS:
                conn.execute(update(Document).where(Document.id == document_id).values(
                    {key: fit(getattr(Document, key), None if value is None else str(value))}))
        else:
            table, where = SpeakerAttribute, {"speaker_id": speaker_id}
        owner = getattr(table, next(iter(where)))
        conn.execute(delete(table).where(owner == next(iter(where.values())), table.key == key))
        if value is not None:
            conn.execute(insert(table).values(**where, key=key, value=value))


__all__ = ["ATTRIBUTE_ACTION", "AttributeOps"]
