"""Codebooks, codes, suggestions and coding decisions in the database.

Decisions are never destructive: each change bumps the coding's ``version``
(optimistic locking) and appends an :class:`~evaltool.store.models.Event` with the
state before and after. Machine suggestions never overwrite a human decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, literal, select, update

from evaltool.domain import (
    CodeInfo,
    CodingStatus,
    CodingUnit,
    CodingView,
    HistoryEntry,
    Permission,
    ReviewedLabels,
    Source,
    Suggestion,
)
from evaltool.errors import ConflictError, NotFoundError, StaleCodebookError
from evaltool.store.access import check_layer, guarded, may_read_coder, may_read_layer
from evaltool.store.models import (
    READY,
    Category,
    Code,
    Codebook,
    CodeCategory,
    Coder,
    Coding,
    Document,
    Event,
    Memo,
    ReviewMark,
    Segment,
    Speaker,
    TrainedModel,
    Turn,
    utcnow,
)

MACHINE = "evaltool"
SHARED = ""
# Event actions of codebook edits: one per change, and one per coding a merge moved.
CODEBOOK_ACTION = "codebook"
MERGE_ACTION = "merge"
# How strong a coding's decision is when a merge folds two codings into one.
_STATUS_STRENGTH = {CodingStatus.accepted.value: 2, CodingStatus.rejected.value: 1}


def segment_places(conn: Connection, segment_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """The place of each segment as a coding row stores it: ``document_id`` and
    ``turn_number`` (see :class:`~evaltool.store.models.Coding`)."""
    ids = list(dict.fromkeys(segment_ids))
    out: dict[int, dict[str, int]] = {}
    for start in range(0, len(ids), 5000):
        for seg, doc, turn in conn.execute(
                select(Segment.id, Segment.document_id, Turn.number)
                .join(Turn, Turn.id == Segment.turn_id)
                .join(Document, Document.id == Segment.document_id)
                .where(Segment.id.in_(ids[start:start + 5000]),
                       Document.status == READY)):  # not a document still being imported
            out[seg] = {"document_id": doc, "turn_number": turn}
    missing = [i for i in ids if i not in out]
    if missing:
        raise NotFoundError(f"no segment {missing[0]}")
    return out


def unit_columns() -> tuple[Any, Any, Any]:
    """SQL expressions of a coding's coded unit: start, end and text of its span (the
    span's words cut from its turn's text), or of its sentence (a query joins
    ``Segment`` and ``Turn``)."""
    span = Coding.start_char.is_not(None)
    start = func.coalesce(Coding.start_char, Segment.start_char)
    end = func.coalesce(Coding.end_char, Segment.end_char)
    # substr counts characters on both backends (1-based)
    quote = case((span, func.substr(Turn.text, Coding.start_char - Turn.start_char + 1,
                                    Coding.end_char - Coding.start_char)),
                 else_=Segment.text)
    return start, end, quote


def accepted_spans(conn: Connection, layer: str, *, with_keys: bool = True) -> list[tuple]:
    """(segment id, code key) of every sentence an accepted span coding of ``layer``
    overlaps (by one character or more); (segment id, code id) with ``with_keys=False``."""
    stmt = (select(Segment.id, Code.key if with_keys else Coding.code_id).select_from(Coding)
            .join(Segment, and_(Segment.document_id == Coding.document_id,
                                Segment.start_char < Coding.end_char,
                                Segment.end_char > Coding.start_char))
            .where(Coding.layer == layer, Coding.start_char.is_not(None),
                   Coding.status == CodingStatus.accepted.value))
    if with_keys:
        stmt = stmt.join(Code, Code.id == Coding.code_id)
    return [tuple(r) for r in conn.execute(stmt)]


@dataclass(frozen=True)
class CodebookLoad:
    """What loading a codebook changed."""

    key: str
    version: int
    added: int
    updated: int
    retired: int
    kept_codings: int


@dataclass(frozen=True)
class SuggestionWrite:
    """What writing suggestions changed."""

    added: int
    updated: int
    removed: int
    unchanged: int
    human_kept: int


STATUS_DA = {"suggested": "forslag", "accepted": "accepteret", "rejected": "afvist"}


def conflict_error(conn: Connection, coding_id: int) -> ConflictError:
    """The Danish message for a coding someone else changed, with its current state
    (read again, so it names the coder who won the race on every backend)."""
    row = conn.execute(select(Coding.status, Coding.version, Coding.coder_id)
                       .where(Coding.id == coding_id)).first()
    if row is None:
        return ConflictError("Kodningen er slettet af en anden koder. Genindlæs siden.")
    who = conn.scalar(select(Coder.name).where(Coder.id == row.coder_id)) or MACHINE
    return ConflictError(f"Kodningen er ændret af {who}, siden du åbnede den "
                         f"(nu: {STATUS_DA.get(row.status, row.status)}, version {row.version}). "
                         "Se den aktuelle tilstand og prøv igen.")


def event_state(row: Any) -> dict[str, Any]:
    """The user-visible state of a coding, as stored in events."""
    return {"code_id": row.code_id, "status": row.status, "source": row.source,
            "memo": row.memo, "layer": row.layer, "version": row.version,
            "segment_id": row.segment_id, "coder_id": row.coder_id,
            "confidence": row.confidence, "explanation": row.explanation,
            "start_char": row.start_char, "end_char": row.end_char}


def same_unit(start: int | None, end: int | None) -> Any:
    """SQL condition: a coding of this unit (the whole sentence when ``start`` is None,
    else the span ``[start, end)``); with segment, code and layer it finds one row."""
    if start is None:
        return Coding.start_char.is_(None)
    return and_(Coding.start_char == start, Coding.end_char == end)


def _place(row: Any) -> tuple:
    """Where a coding is: two codings of one code cannot share a place (a span coding's
    place includes its offsets)."""
    return (row.segment_id, row.layer, row.start_char, row.end_char)


def _strength(row: Any) -> tuple[int, int]:
    """A coding's decision strength: accepted > rejected > suggested; a person's over the
    machine's."""
    return (_STATUS_STRENGTH.get(row.status, 0), row.coder_id is not None)


class CodingOps:
    """Coding operations of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any
    actor: Any  # the signed-in Actor, or None (see Store.as_actor)

    # -- codebooks -------------------------------------------------------------

    @guarded(Permission.manage)
    def load_codebook(self, spec, source: str, seed: list | None = None) -> CodebookLoad:
        """Store a validated codebook and make it the active one.

        Codes are matched by id: changed codes are updated in place (their codings
        stay), new ones added, and codes no longer in the file are retired (hidden
        from suggestions; their codings are kept). ``seed`` (coded turns from earlier
        material, see :func:`evaltool.gold.seed_records`) is kept as extra training data.
        """
        content = spec.model_dump(mode="json")
        with self.write() as conn:
            cb_id, stored = conn.execute(select(Codebook.id, Codebook.version)
                                         .where(Codebook.key == spec.id)).first() or (None, None)
            if stored is not None and stored > spec.version:
                # an older file would silently undo the edits made since (in the app, say)
                raise StaleCodebookError(source, None, "version",
                                    f"version {spec.version} is older than the stored codebook "
                                    f"{spec.id!r} (version {stored}); export that with "
                                    "`evaltool codebook export FILE`, or give the file a "
                                    "higher version")
            values = {"version": spec.version, "title": spec.title, "source": source,
                      "content": content, "seed": seed, "is_active": True,
                      "loaded_at": utcnow()}
            conn.execute(update(Codebook).values(is_active=False))
            if cb_id is None:
                cb_id = conn.execute(insert(Codebook).values(key=spec.id, **values)
                                     .returning(Codebook.id)).scalar_one()
            else:
                conn.execute(update(Codebook).where(Codebook.id == cb_id).values(**values))
            added, updated, gone = self._sync_codes(conn, cb_id, spec)
            kept = conn.scalar(select(func.count()).select_from(Coding)
                               .join(Code, Code.id == Coding.code_id)
                               .where(Code.codebook_id == cb_id)) or 0
        return CodebookLoad(spec.id, spec.version, added, updated, gone, kept)

    def _sync_codes(self, conn: Connection, cb_id: int, spec) -> tuple[int, int, int]:
        """Make the codes (and their theme and goal links) of codebook ``cb_id`` those of
        ``spec``: matched by id, updated in place, added, or retired when gone.
        Returns (added, updated, newly retired)."""
        cats = self._upsert_categories(conn, cb_id, spec)
        existing = {k: (i, r) for k, i, r in conn.execute(
            select(Code.key, Code.id, Code.retired).where(Code.codebook_id == cb_id))}
        added = updated = 0
        for pos, code in enumerate(spec.codes):
            row = {"label": code.label, "definition": code.definition,
                   "include": code.include, "exclude": code.exclude, "cmo": code.cmo,
                   "column": code.column, "parent": code.parent,
                   "target_groups": list(code.target_groups),
                   "patterns": [p if isinstance(p, str) else list(p) for p in code.patterns],
                   "examples": list(code.examples), "position": pos, "retired": False}
            if code.id in existing:
                code_pk = existing[code.id][0]
                conn.execute(update(Code).where(Code.id == code_pk).values(**row))
                conn.execute(delete(CodeCategory).where(CodeCategory.code_id == code_pk))
                updated += 1
            else:
                code_pk = conn.execute(insert(Code).values(codebook_id=cb_id, key=code.id,
                                                           **row).returning(Code.id)).scalar_one()
                added += 1
            links = [("theme", t) for t in code.themes] + [("goal", g) for g in code.goals]
            conn.execute(insert(CodeCategory), [
                {"code_id": code_pk, "category_id": cats[link]} for link in links])
        keep = {c.id for c in spec.codes}
        gone = [i for k, (i, retired) in existing.items() if k not in keep and not retired]
        if gone:
            conn.execute(update(Code).where(Code.id.in_(gone)).values(retired=True))
        return added, updated, len(gone)

    @guarded(Permission.manage, coder="coder")
    def save_codebook_edit(self, spec, *, expected_version: int, coder: str | None,
                           change: dict[str, Any], merge: tuple[str, str] | None = None
                           ) -> tuple[int, int]:
        """Store an edited (validated) active codebook as its next version, in one transaction.

        ``expected_version`` is the version the edit was made on; if the codebook changed
        since, :class:`ConflictError` is raised and nothing is written. The codes are synced
        as :meth:`load_codebook` does (a code no longer in ``spec`` is retired, its codings
        kept). ``merge=(source, target)`` moves the source's codings to the target (see
        :meth:`_merge_codings`). An event with action 'codebook' records ``change``.
        Returns (codings moved, codings combined) of a merge, else (0, 0).
        """
        content = spec.model_dump(mode="json")
        with self.write() as conn:
            cb_id = self._active_codebook_id(conn)
            done = conn.execute(update(Codebook).where(
                Codebook.id == cb_id, Codebook.version == expected_version,
                Codebook.key == spec.id).values(version=spec.version, title=spec.title,
                                                content=content))
            if done.rowcount != 1:
                now = conn.scalar(select(Codebook.version).where(Codebook.id == cb_id))
                raise ConflictError(f"Kodebogen er ændret af en anden (nu version {now}), siden "
                                    "du åbnede den. Se den aktuelle kodebog og prøv igen.")
            coder_id = self._coder_id(conn, coder)
            moved = combined = 0
            if merge is not None:
                codes = dict(conn.execute(select(Code.key, Code.id)
                                          .where(Code.codebook_id == cb_id)).all())
                moved, combined = self._merge_codings(conn, codes[merge[0]], codes[merge[1]],
                                                      coder_id)
            self._sync_codes(conn, cb_id, spec)
            self._event(conn, CODEBOOK_ACTION, coder_id, None, None,
                        {"version": expected_version},
                        {"version": spec.version, **change, "moved": moved,
                         "combined": combined})
        return moved, combined

    def _merge_codings(self, conn: Connection, source: int, target: int,
                       coder_id: int | None) -> tuple[int, int]:
        """Move code ``source``'s codings (every layer) to ``target``; returns (moved,
        combined).

        Where the target is already on the same place (segment and layer), one row stays:
        the one with the stronger decision (accepted over rejected over a suggestion; a
        person's over the machine's; on a tie the target's), with both memos. The other row
        is deleted. Each row changed or deleted is a 'merge' event with its state before
        and after, so the history shows the merge and undoing an earlier decision on it
        is refused.
        """
        rows = conn.execute(select(Coding).where(Coding.code_id == source)
                            .order_by(Coding.id)).all()
        theirs: dict[tuple, Any] = {}
        segs = sorted({r.segment_id for r in rows})
        for start in range(0, len(segs), 5000):
            for r in conn.execute(select(Coding).where(
                    Coding.code_id == target, Coding.segment_id.in_(segs[start:start + 5000]))):
                theirs[_place(r)] = r
        now = utcnow()
        moved = combined = 0
        for row in rows:
            other = theirs.get(_place(row))
            if other is None:
                values = {"code_id": target, "version": row.version + 1, "updated_at": now}
                conn.execute(update(Coding).where(Coding.id == row.id).values(**values))
                self._event(conn, MERGE_ACTION, coder_id, row.id, row.segment_id,
                            event_state(row),
                            {**event_state(row), "code_id": target, "version": row.version + 1})
                moved += 1
                continue
            keep, drop = (row, other) if _strength(row) > _strength(other) else (other, row)
            memo = "\n".join(m for m in dict.fromkeys([keep.memo, drop.memo]) if m)
            conn.execute(delete(Coding).where(Coding.id == drop.id))
            self._event(conn, MERGE_ACTION, coder_id, drop.id, drop.segment_id,
                        event_state(drop), None)
            if keep.code_id != target or memo != keep.memo:
                values = {"code_id": target, "memo": memo, "version": keep.version + 1,
                          "updated_at": now}
                conn.execute(update(Coding).where(Coding.id == keep.id).values(**values))
                self._event(conn, MERGE_ACTION, coder_id, keep.id, keep.segment_id,
                            event_state(keep), {**event_state(keep), "code_id": target,
                                                "memo": memo, "version": keep.version + 1})
            combined += 1
        return moved, combined

    def codebook_history(self) -> list[HistoryEntry]:
        """Edits of the codebook (add, edit, parent, merge, retire), oldest first: ``after``
        holds the new version, the action, the code and what the edit changed."""
        return self._history(Event.action == CODEBOOK_ACTION)

    @staticmethod
    def _upsert_categories(conn: Connection, cb_id: int, spec) -> dict[tuple[str, str], int]:
        existing = {(k, key): i for k, key, i in conn.execute(
            select(Category.kind, Category.key, Category.id).where(Category.codebook_id == cb_id))}
        out: dict[tuple[str, str], int] = {}
        items = [("theme", t) for t in spec.themes] + [("goal", g) for g in spec.goals]
        for pos, (kind, item) in enumerate(items):
            values = {"label": item.label, "description": item.description, "position": pos}
            if (kind, item.id) in existing:
                out[(kind, item.id)] = existing[(kind, item.id)]
                conn.execute(update(Category).where(Category.id == out[(kind, item.id)])
                             .values(**values))
            else:
                out[(kind, item.id)] = conn.execute(
                    insert(Category).values(codebook_id=cb_id, kind=kind, key=item.id, **values)
                    .returning(Category.id)).scalar_one()
        return out

    def active_codebook(self) -> dict[str, Any]:
        """The active codebook's key, version, title and content."""
        with self.engine.connect() as conn:
            row = conn.execute(select(Codebook.id, Codebook.key, Codebook.version,
                                      Codebook.title, Codebook.content)
                               .where(Codebook.is_active)).first()
        if row is None:
            raise NotFoundError("no codebook loaded (run `evaltool codebook load FILE`)")
        return {"id": row.id, "key": row.key, "version": row.version, "title": row.title,
                "content": row.content}

    def _active_codebook_id(self, conn: Connection) -> int:
        """Id of the active codebook, without loading its content."""
        found = conn.scalar(select(Codebook.id).where(Codebook.is_active))
        if found is None:
            raise NotFoundError("no codebook loaded (run `evaltool codebook load FILE`)")
        return found

    def codebook_seed(self) -> list:
        """The active codebook's seed training data ([] when it has none)."""
        with self.engine.connect() as conn:
            seed = conn.scalar(select(Codebook.seed).where(
                Codebook.id == self._active_codebook_id(conn)))
        return seed or []

    def codes(self, *, include_retired: bool = False) -> list[CodeInfo]:
        """Codes of the active codebook, in codebook order."""
        with self.engine.connect() as conn:
            cb = {"id": self._active_codebook_id(conn)}
            links: dict[int, dict[str, list[str]]] = {}
            for code_id, kind, key in conn.execute(
                select(CodeCategory.code_id, Category.kind, Category.key)
                .join(Category, Category.id == CodeCategory.category_id)
                .where(Category.codebook_id == cb["id"]).order_by(Category.position)
            ):
                links.setdefault(code_id, {"theme": [], "goal": []})[kind].append(key)
            stmt = (select(Code.id, Code.key, Code.label, Code.cmo, Code.column, Code.definition,
                           Code.retired, Code.parent)
                    .where(Code.codebook_id == cb["id"]).order_by(Code.position))
            if not include_retired:
                stmt = stmt.where(Code.retired.is_(False))
            rows = conn.execute(stmt).all()
        return [CodeInfo(c.id, c.key, c.label, c.cmo, c.column,
                         tuple(links.get(c.id, {}).get("theme", [])),
                         tuple(links.get(c.id, {}).get("goal", [])), c.definition, c.retired,
                         c.parent)
                for c in rows]

    # -- coders --------------------------------------------------------------

    @staticmethod
    def _coder_id(conn: Connection, name: str | None, machine: bool = False) -> int | None:
        if not name:
            return None
        found = conn.scalar(select(Coder.id).where(Coder.name == name))
        if found is not None:
            return found
        return conn.execute(insert(Coder).values(name=name, is_machine=machine, created_at=utcnow())
                            .returning(Coder.id)).scalar_one()

    def coders(self) -> list[str]:
        """Names of human coders."""
        with self.engine.connect() as conn:
            return list(conn.scalars(select(Coder.name).where(Coder.is_machine.is_(False))
                                     .order_by(Coder.name)))

    # -- units for coding ----------------------------------------------------

    def coding_units(self, document_id: int | None = None,
                     segment_ids: Sequence[int] | None = None) -> list[CodingUnit]:
        """Segments with their turn context, in document order."""
        stmt = (
            select(Segment.id, Segment.document_id, Document.site, Segment.turn_id, Turn.number,
                   Segment.sent_index, Speaker.name, func.coalesce(Turn.role, Speaker.role),
                   Speaker.is_moderator, Segment.text, Segment.lemmas, Segment.tokens)
            .join(Turn, Turn.id == Segment.turn_id)
            .join(Speaker, Speaker.id == Segment.speaker_id)
            .join(Document, Document.id == Segment.document_id)
            .where(Document.status == READY)  # not a document still being imported
            .order_by(Segment.document_id, Segment.start_char)
        )
        if document_id is not None:
            stmt = stmt.where(Segment.document_id == document_id)
        if segment_ids is not None:
            stmt = stmt.where(Segment.id.in_(list(segment_ids)))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        turn_lemmas: dict[int, list[str]] = {}
        for r in rows:
            turn_lemmas.setdefault(r[3], []).append(r[10])
        return [CodingUnit(*r, turn_lemmas=" ".join(turn_lemmas[r[3]])) for r in rows]

    # -- suggestions -----------------------------------------------------------

    @guarded(Permission.code)
    def write_suggestions(self, suggestions: Iterable[Suggestion], *, segment_ids: Sequence[int],
                          model_version: str, codebook_version: int) -> SuggestionWrite:
        """Replace the machine suggestions of these segments with ``suggestions``.

        One transaction: a crash leaves the previous suggestions in place. Rows a
        human decided (accepted, rejected, added, or any coding with a coder) are
        never touched; a suggestion that a re-run no longer makes is removed. A code a
        person put on a span is not suggested for the sentences the span overlaps.
        """
        codes = {c.key: c.id for c in self.codes()}
        wanted = {(s.segment_id, codes[s.code_key]): s for s in suggestions if s.code_key in codes}
        seg_set = list(segment_ids)
        added = updated = removed = unchanged = human = 0
        with self.write() as conn:
            existing = {}
            for start in range(0, len(seg_set), 5000):
                chunk = seg_set[start:start + 5000]
                for row in conn.execute(
                    select(Coding.id, Coding.segment_id, Coding.code_id, Coding.status,
                           Coding.coder_id, Coding.confidence, Coding.source, Coding.explanation)
                    .where(Coding.segment_id.in_(chunk), Coding.layer == SHARED,
                           Coding.start_char.is_(None))
                ):
                    existing[(row.segment_id, row.code_id)] = row
            # a person coded these words: one pass over the (few) span codings
            for key in accepted_spans(conn, SHARED, with_keys=False):
                if wanted.pop(key, None) is not None:
                    human += 1
            inserts, stale = [], []
            now = utcnow()
            places = segment_places(conn, (k[0] for k in wanted if k not in existing))
            for key, row in existing.items():
                machine_row = row.status == CodingStatus.suggested.value and row.coder_id is None
                if not machine_row:
                    human += 1 if key in wanted else 0
                    continue
                s = wanted.get(key)
                if s is None:
                    stale.append(row.id)
                elif (round(row.confidence or 0, 6), row.source, row.explanation) == (
                        round(s.confidence, 6), s.source, s.explanation):
                    unchanged += 1
                else:
                    conn.execute(update(Coding).where(Coding.id == row.id).values(
                        confidence=s.confidence, source=s.source, explanation=s.explanation,
                        model_version=model_version, codebook_version=codebook_version,
                        updated_at=now, version=Coding.version + 1))
                    updated += 1
            for key, s in wanted.items():
                if key not in existing:
                    inserts.append({"segment_id": key[0], **places[key[0]], "code_id": key[1],
                                    "layer": SHARED,
                                    "status": CodingStatus.suggested.value, "source": s.source,
                                    "confidence": s.confidence, "explanation": s.explanation,
                                    "model_version": model_version,
                                    "codebook_version": codebook_version, "memo": "",
                                    "version": 1, "created_at": now, "updated_at": now})
            for start in range(0, len(inserts), 2000):
                conn.execute(insert(Coding), inserts[start:start + 2000])
            added = len(inserts)
            for start in range(0, len(stale), 2000):
                conn.execute(delete(Coding).where(Coding.id.in_(stale[start:start + 2000])))
            removed = len(stale)
        return SuggestionWrite(added, updated, removed, unchanged, human)

    # -- human decisions -------------------------------------------------------

    def _event(self, conn: Connection, action: str, coder_id: int | None, coding_id: int | None,
               segment_id: int | None, before: dict | None, after: dict | None,
               undoes: int | None = None) -> int:
        return conn.execute(insert(Event).values(
            at=utcnow(), action=action, coder_id=coder_id, coding_id=coding_id,
            segment_id=segment_id, before=before, after=after, undoes=undoes,
        ).returning(Event.id)).scalar_one()

    @guarded(Permission.code, coder="coder")
    def decide(self, coding_id: int, action: str, coder: str, *, expected_version: int | None = None,
               code_key: str | None = None, memo: str | None = None) -> int:
        """Accept, reject, recode or memo a coding; return its new version.

        ``expected_version`` is the version the coder saw; if someone changed the
        coding since, :class:`ConflictError` is raised and nothing is written.
        """
        if action not in {"accept", "reject", "recode", "memo"}:
            raise ValueError(f"unknown action {action!r}")
        with self.write() as conn:
            row = conn.execute(select(Coding).where(Coding.id == coding_id)).first()
            if row is None:
                raise NotFoundError(f"no coding {coding_id}")
            check_layer(conn, self.actor, row.document_id, row.layer)
            if expected_version is not None and row.version != expected_version:
                raise conflict_error(conn, coding_id)
            coder_id = self._coder_id(conn, coder)
            before = event_state(row)
            values: dict[str, Any] = {"coder_id": coder_id, "updated_at": utcnow(),
                                      "version": row.version + 1}
            if action == "accept":
                values["status"] = CodingStatus.accepted.value
            elif action == "reject":
                values["status"] = CodingStatus.rejected.value
            elif action == "recode":
                if not code_key:
                    raise ValueError("recode needs a code")
                new_code = self._code_pk(conn, code_key)
                clash = conn.execute(select(Coding.id, Coding.status, Coding.coder_id).where(
                    Coding.segment_id == row.segment_id, Coding.code_id == new_code,
                    Coding.layer == row.layer, same_unit(row.start_char, row.end_char),
                    Coding.id != row.id)).first()
                if clash is not None and (clash.status != CodingStatus.suggested.value
                                          or clash.coder_id is not None):
                    # somebody decided that code on this sentence: never overwrite their row
                    raise ConflictError(
                        "Der er allerede taget stilling til den kode på sætningen (nu: "
                        f"{STATUS_DA.get(clash.status, clash.status)}). Afvis forslaget, "
                        "eller ændr den anden kodning.")
                if clash is not None:  # the machine's suggestion of the new code gives way
                    conn.execute(delete(Coding).where(Coding.id == clash.id))
                # the coder chose this code: a human coding, without the machine's
                # confidence and explanation (they were about the old code)
                values.update(code_id=new_code, status=CodingStatus.accepted.value,
                              source=Source.human.value, confidence=None, explanation="")
            if memo is not None:
                values["memo"] = memo
            result = conn.execute(update(Coding).where(Coding.id == coding_id,
                                                       Coding.version == row.version).values(**values))
            if result.rowcount != 1:
                raise conflict_error(conn, coding_id)
            after = {**before, **{k: v for k, v in values.items()
                                  if k in ("code_id", "status", "source", "memo", "version",
                                           "coder_id", "confidence", "explanation")}}
            self._event(conn, action, coder_id, coding_id, row.segment_id, before, after)
            return values["version"]

    def coding_state(self, coding_id: int) -> tuple[str, int] | None:
        """(status, version) of a coding, or None when it does not exist."""
        with self.engine.connect() as conn:
            row = conn.execute(select(Coding.status, Coding.version)
                               .where(Coding.id == coding_id)).first()
        return None if row is None else (row.status, row.version)

    def segment_memos(self, segment_id: int) -> list[tuple[str | None, str]]:
        """(coder, text) of the memos on a segment, oldest first."""
        with self.engine.connect() as conn:
            return [(who, text) for who, text in conn.execute(
                select(Coder.name, Memo.text).outerjoin(Coder, Coder.id == Memo.coder_id)
                .where(Memo.segment_id == segment_id).order_by(Memo.id))]

    def _code_pk(self, conn: Connection, code_key: str) -> int:
        found = conn.scalar(select(Code.id).join(Codebook, Codebook.id == Code.codebook_id)
                            .where(Codebook.is_active, Code.key == code_key))
        if found is None:
            raise NotFoundError(f"no code {code_key!r} in the active codebook")
        return found

    @guarded(Permission.code, coder="coder")
    def add_coding(self, segment_ids: Sequence[int], code_key: str, coder: str, *,
                   memo: str = "", source: str = Source.human.value,
                   layer: str = SHARED, status: str = CodingStatus.accepted.value) -> list[int]:
        """Add a code to segments (accepted, by ``coder``); existing rows are accepted."""
        ids = []
        with self.write() as conn:
            code_pk = self._code_pk(conn, code_key)
            coder_id = self._coder_id(conn, coder)
            places = segment_places(conn, segment_ids)
            for document_id in {p["document_id"] for p in places.values()}:
                check_layer(conn, self.actor, document_id, layer)
            for seg in segment_ids:
                row = conn.execute(select(Coding).where(
                    Coding.segment_id == seg, Coding.code_id == code_pk, Coding.layer == layer,
                    Coding.start_char.is_(None))).first()
                now = utcnow()
                if row is None:
                    cid = conn.execute(insert(Coding).values(
                        segment_id=seg, **places[seg], code_id=code_pk, layer=layer, status=status,
                        source=source, confidence=None, explanation="", coder_id=coder_id,
                        memo=memo, version=1, created_at=now, updated_at=now,
                    ).returning(Coding.id)).scalar_one()
                    after = {"code_id": code_pk, "status": status, "source": source,
                             "memo": memo, "layer": layer, "version": 1, "segment_id": seg,
                             "coder_id": coder_id}
                    self._event(conn, "add", coder_id, cid, seg, None, after)
                else:
                    cid = row.id
                    before = event_state(row)
                    values = {"status": status, "coder_id": coder_id, "updated_at": now,
                              "version": row.version + 1}
                    if memo:
                        values["memo"] = memo
                    conn.execute(update(Coding).where(Coding.id == cid).values(**values))
                    self._event(conn, "add", coder_id, cid, seg, before,
                                {**before, "status": status, "version": row.version + 1,
                                 "coder_id": coder_id, "memo": values.get("memo", before["memo"])})
                ids.append(cid)
        return ids

    # -- reads for review, training and export ------------------------------------

    # Columns of :meth:`coding_rows`, in order (the last is the code's primary key).
    # start_char, end_char and text are the coded unit's: the sentence's, or the span's.
    CODING_COLUMNS = ("id", "segment_id", "document_id", "document", "site", "turn", "speaker",
                      "role", "start_char", "end_char", "text", "code_key", "code_label", "cmo",
                      "status", "source", "confidence", "explanation", "coder", "memo", "layer",
                      "version", "is_span", "code_pk")

    def coding_rows(self, *, status: str | None = None, document_id: int | None = None,
                    code_key: str | None = None, theme: str | None = None,
                    site: str | None = None, layer: str = SHARED,
                    segment_ids: Sequence[int] | None = None) -> list[tuple]:
        """Codings joined with their segment, speaker, document and code, as plain tuples
        (:attr:`CODING_COLUMNS`), in text order — the fast path for large exports."""
        may_read_layer(self.actor, layer)
        start, end, quote = unit_columns()
        stmt = (select(Coding.id, Coding.segment_id, Segment.document_id, Document.name, Document.site,
                   Turn.number, Speaker.name, func.coalesce(Turn.role, Speaker.role),
                   start, end, quote, Code.key, Code.label,
                   Code.cmo, Coding.status, Coding.source, Coding.confidence, Coding.explanation,
                   Coder.name, Coding.memo, Coding.layer, Coding.version,
                   Coding.start_char.is_not(None), Code.id)
            .join(Segment, Segment.id == Coding.segment_id)
            .join(Turn, Turn.id == Segment.turn_id)
            .join(Speaker, Speaker.id == Segment.speaker_id)
            .join(Document, Document.id == Segment.document_id)
            .join(Code, Code.id == Coding.code_id)
            .join(Codebook, and_(Codebook.id == Code.codebook_id, Codebook.is_active))
            .outerjoin(Coder, Coder.id == Coding.coder_id)
            .where(Coding.layer == layer)
            .order_by(Document.id, start, Segment.start_char, end, Code.position)
        )
        if status and status != "all":
            stmt = stmt.where(Coding.status == status)
        if document_id is not None:
            stmt = stmt.where(Segment.document_id == document_id)
        if code_key:
            stmt = stmt.where(Code.key == code_key)
        if site:
            stmt = stmt.where(Document.site == site)
        if segment_ids is not None:
            stmt = stmt.where(Coding.segment_id.in_(list(segment_ids)))
        if theme:
            stmt = stmt.where(Code.id.in_(
                select(CodeCategory.code_id).join(Category, Category.id == CodeCategory.category_id)
                .where(Category.kind == "theme", Category.key == theme)))
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(stmt)]

    def coding_views(self, *, status: str | None = None, document_id: int | None = None,
                     code_key: str | None = None, theme: str | None = None,
                     site: str | None = None, layer: str = SHARED,
                     segment_ids: Sequence[int] | None = None) -> list[CodingView]:
        """Codings joined with their segment, speaker, document and code."""
        may_read_layer(self.actor, layer)
        themes_goals = self.code_categories()
        out = []
        for r in self.coding_rows(status=status, document_id=document_id, code_key=code_key,
                                  theme=theme, site=site, layer=layer, segment_ids=segment_ids):
            t, g = themes_goals.get(r[-1], ((), ()))
            out.append(CodingView(*r[:14], t, g, *r[14:-2], bool(r[-2])))
        return out

    def coding_times(self, coding_ids: Sequence[int]) -> dict[int, tuple[Any, Any]]:
        """Coding id → (created_at, updated_at) in UTC, for the given codings (the REFI-QDA
        export's creation and modification times)."""
        out: dict[int, tuple[Any, Any]] = {}
        ids = list(coding_ids)
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                for row in conn.execute(select(Coding.id, Coding.created_at, Coding.updated_at)
                                        .where(Coding.id.in_(ids[i:i + 500]))):
                    out[row.id] = (row.created_at, row.updated_at)
        return out

    def code_categories(self) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Code primary key → (themes, goals)."""
        out: dict[int, tuple[list[str], list[str]]] = {}
        with self.engine.connect() as conn:
            for code_id, kind, key in conn.execute(
                select(CodeCategory.code_id, Category.kind, Category.key)
                .join(Category, Category.id == CodeCategory.category_id)
                .order_by(Category.position)
            ):
                pair = out.setdefault(code_id, ([], []))
                pair[0 if kind == "theme" else 1].append(key)
        return {k: (tuple(v[0]), tuple(v[1])) for k, v in out.items()}

    def accepted_labels(self, layer: str = SHARED) -> dict[int, set[str]]:
        """Segment id → accepted code keys (training targets; a span coding labels every
        sentence it overlaps)."""
        may_read_layer(self.actor, layer)
        out: dict[int, set[str]] = {}
        with self.engine.connect() as conn:
            for seg, key in conn.execute(
                select(Coding.segment_id, Code.key).join(Code, Code.id == Coding.code_id)
                .where(Coding.status == CodingStatus.accepted.value, Coding.layer == layer,
                       Coding.start_char.is_(None))
            ):
                out.setdefault(seg, set()).add(key)
            for seg, key in accepted_spans(conn, layer):
                out.setdefault(seg, set()).add(key)
        return out

    def reviewed_labels(self, layer: str = SHARED) -> ReviewedLabels:
        """The turns a human has seen in ``layer`` and the labels in them (training data).

        Seen: a turn with a human decision (any coding that is no longer a bare
        suggestion), a turn marked done, every turn of a document marked done.
        """
        may_read_layer(self.actor, layer)
        decided = (Coding.layer == layer) & (Coding.status != CodingStatus.suggested.value)
        with self.engine.connect() as conn:
            turns = {(d, t) for d, t in conn.execute(
                select(Coding.document_id, Coding.turn_number).where(decided).distinct())}
            marks = conn.execute(select(ReviewMark.document_id, ReviewMark.turn_number)
                                 .where(ReviewMark.layer == layer)).all()
            done_docs = {d for d, t in marks if t is None}
            done_turns = {(d, t) for d, t in marks if t is not None}
            if done_docs:
                turns |= {(d, t) for d, t in conn.execute(
                    select(Turn.document_id, Turn.number).where(Turn.document_id.in_(done_docs)))}
            turns |= done_turns
            accepted: dict[int, set[str]] = {}
            still_open: dict[int, set[str]] = {}
            for seg, doc, turn, status, key in conn.execute(
                select(Coding.segment_id, Coding.document_id, Coding.turn_number, Coding.status,
                       Code.key).join(Code, Code.id == Coding.code_id)
                .where(Coding.layer == layer, Coding.start_char.is_(None),
                       Coding.status != CodingStatus.rejected.value)):
                if status == CodingStatus.accepted.value:
                    accepted.setdefault(seg, set()).add(key)
                elif ((doc, turn) in turns and doc not in done_docs
                      and (doc, turn) not in done_turns):
                    still_open.setdefault(seg, set()).add(key)
            for seg, key in accepted_spans(conn, layer):  # positives of the sentences overlapped
                accepted.setdefault(seg, set()).add(key)
        return ReviewedLabels(frozenset(turns), accepted, still_open)

    @guarded(Permission.code, coder="coder")
    def mark_done(self, document_id: int, coder: str, *, turn: int | None = None,
                  done: bool = True) -> bool:
        """Mark a turn (or, without ``turn``, the whole document) as reviewed by ``coder``,
        in the layer they work in; ``done=False`` removes the mark. Returns whether
        anything changed."""
        layer = coder if self.is_blind(document_id, coder) else SHARED
        with self.write() as conn:
            if conn.scalar(select(Document.id).where(Document.id == document_id)) is None:
                raise NotFoundError(f"no document {document_id}")
            if turn is not None and conn.scalar(select(Turn.id).where(
                    Turn.document_id == document_id, Turn.number == turn)) is None:
                raise NotFoundError(f"document {document_id} has no turn {turn}")
            check_layer(conn, self.actor, document_id, layer)
            same = ((ReviewMark.document_id == document_id) & (ReviewMark.layer == layer)
                    & (ReviewMark.turn_number.is_(None) if turn is None
                       else ReviewMark.turn_number == turn))
            exists = conn.scalar(select(ReviewMark.id).where(same).limit(1)) is not None
            if done and not exists:
                conn.execute(insert(ReviewMark).values(
                    document_id=document_id, turn_number=turn, layer=layer,
                    coder_id=self._coder_id(conn, coder), created_at=utcnow()))
                return True
            if not done and exists:
                conn.execute(delete(ReviewMark).where(same))
                return True
            return False

    def done_marks(self, document_id: int, coder: str) -> set[int | None]:
        """Turn numbers of a document marked done in the layer ``coder`` works in
        (``None``: the whole document)."""
        may_read_coder(self.actor, coder)
        layer = coder if self.is_blind(document_id, coder) else SHARED
        with self.engine.connect() as conn:
            return set(conn.scalars(select(ReviewMark.turn_number).where(
                ReviewMark.document_id == document_id, ReviewMark.layer == layer)))


class ModelOps:
    """Trained-model storage of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any

    @guarded(Permission.code)
    def save_model(self, version: str, params: dict, metrics: dict, blob: bytes) -> int:
        """Store a trained model for the active codebook."""
        cb = self.active_codebook()
        with self.write() as conn:
            return conn.execute(insert(TrainedModel).values(
                codebook_id=cb["id"], version=version, created_at=utcnow(), params=params,
                metrics=metrics, blob=blob).returning(TrainedModel.id)).scalar_one()

    def latest_model(self, *, blob: bool = True) -> dict[str, Any] | None:
        """The newest model of the active codebook (None if never trained); ``blob=False``
        leaves out the pickled model (megabytes) when only its version or params are needed."""
        with self.engine.connect() as conn:
            cb_id = self._active_codebook_id(conn)  # not the codebook's content: read per click
            row = conn.execute(select(TrainedModel.version, TrainedModel.params,
                                      TrainedModel.metrics,
                                      TrainedModel.blob if blob else literal(None).label("blob"),
                                      TrainedModel.created_at)
                               .where(TrainedModel.codebook_id == cb_id)
                               .order_by(TrainedModel.id.desc()).limit(1)).first()
        return None if row is None else dict(row._mapping)
