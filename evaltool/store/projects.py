"""Storing a whole project read from another tool (REFI-QDA) in one transaction.

The codebook, the documents (speakers, turns, sentence segments), the coders, the
accepted codings and the memos appear together or not at all. The project goes into a
new database: one that already holds documents is refused (:class:`NotEmptyError`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, insert, select, update

from evaltool.domain import TURN_SEP, ImportedProject, Permission, Source
from evaltool.errors import NotEmptyError
from evaltool.store.access import guarded
from evaltool.store.codings import SHARED, CodingOps
from evaltool.store.documents import DocumentWriter
from evaltool.store.memos import MEMO_ADD
from evaltool.store.models import (
    READY,
    Category,
    Code,
    Codebook,
    CodeCategory,
    Coding,
    Document,
    Memo,
    Segment,
    SpeakerAttribute,
    utcnow,
)


class ProjectOps:
    """Importing a whole project into :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any

    @staticmethod
    def _add_retired_codes(conn, cb_id: int, codes: list[dict[str, Any]], position: int) -> None:
        """Store codes retired in the exporting project (their codings follow), linked to
        those of their themes and goals the codebook has."""
        cats = {(k, key): i for k, key, i in conn.execute(
            select(Category.kind, Category.key, Category.id).where(Category.codebook_id == cb_id))}
        present = set(conn.scalars(select(Code.key).where(Code.codebook_id == cb_id)))
        for pos, code in enumerate(codes, start=position):
            if code["key"] in present:  # already in this codebook (and retired by the sync)
                continue
            row = {k: code[k] for k in ("label", "definition", "include", "exclude", "cmo",
                                         "column", "parent", "target_groups")}
            code_pk = conn.execute(insert(Code).values(
                codebook_id=cb_id, key=code["key"], position=pos, retired=True, patterns=[],
                examples=[], **row).returning(Code.id)).scalar_one()
            links = [cats[(kind, key)] for kind, keys in (("theme", code["themes"]),
                                                          ("goal", code["goals"]))
                     for key in keys if (kind, key) in cats]
            if links:
                conn.execute(insert(CodeCategory), [{"code_id": code_pk, "category_id": c}
                                                    for c in links])

    @guarded(Permission.manage)
    def import_project(self, project: ImportedProject) -> tuple[int, int, list[int]]:
        """Store ``project`` in one transaction; return (codings stored, memos stored, the
        indexes of codings left out because the same place already had that code)."""
        spec = project.codebook
        with self.write() as conn:  # type: ignore[attr-defined]
            present = conn.scalar(select(func.count()).select_from(Document)
                                  .where(Document.status == READY)) or 0
            if present:
                raise NotEmptyError(present)
            values = {"version": spec.version, "title": spec.title, "source": project.source[-500:],
                      "content": spec.model_dump(mode="json"), "seed": None, "is_active": True,
                      "loaded_at": utcnow()}
            conn.execute(update(Codebook).values(is_active=False))
            cb_id = conn.scalar(select(Codebook.id).where(Codebook.key == spec.id))
            if cb_id is None:
                cb_id = conn.execute(insert(Codebook).values(key=spec.id, **values)
                                     .returning(Codebook.id)).scalar_one()
            else:
                conn.execute(update(Codebook).where(Codebook.id == cb_id).values(**values))
            self._sync_codes(conn, cb_id, spec)  # type: ignore[attr-defined]
            self._add_retired_codes(conn, cb_id, project.retired_codes, len(spec.codes))
            code_pk = dict(conn.execute(select(Code.key, Code.id).where(Code.codebook_id == cb_id))
                           .all())
            for name in project.coders:
                CodingOps._coder_id(conn, name)
            writer = DocumentWriter(conn)
            places: list[list[tuple[int, int, int, int]]] = []  # per document: segment id, start, end, turn
            doc_ids: list[int] = []
            for doc in project.documents:
                doc_id = writer.add_document(name=doc.name, fmt="qdpx", metadata=doc.metadata,
                                             content_hash=doc.content_hash, model=doc.model)
                speaker_ids = writer.add_speakers(doc_id, doc.speakers)
                attribute_rows = [{"speaker_id": speaker_ids[name], "key": key, "value": value}
                                  for name, values in doc.speaker_attributes.items()
                                  for key, value in values.items() if name in speaker_ids]
                if attribute_rows:
                    conn.execute(insert(SpeakerAttribute), attribute_rows)
                rows, offset = [], 0
                for number, turn in enumerate(doc.turns, start=1):
                    if number > 1:
                        offset += len(TURN_SEP)
                    rows.append({"document_id": doc_id, "speaker_id": speaker_ids[turn.speaker],
                                 "number": number, "role": turn.role,
                                 "start_time": turn.start_time, "start_char": offset,
                                 "end_char": offset + len(turn.text), "text": turn.text,
                                 "source_line": turn.line or None})
                    offset += len(turn.text)
                turn_ids = writer.add_turns_with_sentences(rows, doc.sentences)
                doc_ids.append(doc_id)
                number_of = {tid: i for i, tid in enumerate(turn_ids, start=1)}
                places.append([(r.id, r.start_char, r.end_char, number_of[r.turn_id])
                               for r in conn.execute(
                                   select(Segment.id, Segment.start_char, Segment.end_char,
                                          Segment.turn_id)
                                   .where(Segment.document_id == doc_id)
                                   .order_by(Segment.start_char))])
            stored = 0
            duplicates: list[int] = []
            seen: set[tuple] = set()
            for i, c in enumerate(project.codings):
                segs = places[c.document]
                if c.sentence:
                    seg = next(p for p in segs if p[1] == c.start and p[2] == c.end)
                    unit: tuple[int | None, int | None] = (None, None)
                else:
                    seg = next(p for p in segs if p[1] < c.end and p[2] > c.start)
                    unit = (c.start, c.end)
                key = (seg[0], c.code_key, unit)
                if key in seen:
                    duplicates.append(i)
                    continue
                seen.add(key)
                coder_id = CodingOps._coder_id(conn, c.coder)
                at = c.created if isinstance(c.created, dt.datetime) else utcnow()
                after = {"code_id": code_pk[c.code_key], "status": c.status,
                         "source": Source.human.value, "memo": c.memo, "layer": SHARED,
                         "version": 1, "segment_id": seg[0], "coder_id": coder_id,
                         "confidence": None, "explanation": "", "start_char": unit[0],
                         "end_char": unit[1]}
                coding_id = conn.execute(insert(Coding).values(
                    **after, document_id=doc_ids[c.document], turn_number=seg[3],
                    created_at=at, updated_at=at).returning(Coding.id)).scalar_one()
                self._event(conn, "add", coder_id, coding_id, seg[0], None,  # type: ignore[attr-defined]
                            {k: v for k, v in after.items() if k not in ("start_char", "end_char")
                             or v is not None})
                stored += 1
            memos = 0
            now = utcnow()
            for m in project.memos:
                document_id = doc_ids[m.document] if m.document is not None else None
                segment_id = None
                if m.start is not None and m.document is not None:
                    segment_id = next(p[0] for p in places[m.document]
                                      if p[1] <= m.start < p[2])
                coder_id = CodingOps._coder_id(conn, m.coder)
                memo_id = conn.execute(insert(Memo).values(
                    document_id=document_id, segment_id=segment_id, coder_id=coder_id,
                    text=m.text, created_at=now, updated_at=now).returning(Memo.id)).scalar_one()
                self._memo_event(conn, MEMO_ADD, coder_id, memo_id,  # type: ignore[attr-defined]
                                 document_id, segment_id, None, m.text)
                memos += 1
        return stored, memos, duplicates
