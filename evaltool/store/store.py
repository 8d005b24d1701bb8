"""The :class:`Store` façade: opening, migrating and reading the database."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, and_, func, select

from evaltool import config
from evaltool.domain import Actor, DocumentInfo, Permission, SegmentView, TurnView
from evaltool.errors import AccessError, NotFoundError, StoreError
from evaltool.store import db
from evaltool.store.access import guarded, inside_guard
from evaltool.store.aggregates import AggregateOps
from evaltool.store.attributes import AttributeOps
from evaltool.store.backup import BackupOps
from evaltool.store.codings import CodingOps, ModelOps
from evaltool.store.documents import DocumentWriter, discard_staged, document_text, staged_documents
from evaltool.store.lifecycle import LifecycleOps
from evaltool.store.matrices import MatrixOps
from evaltool.store.memos import MemoOps
from evaltool.store.models import READY, Document, DocumentAttribute, Segment, Speaker, Turn
from evaltool.store.pins import PinOps
from evaltool.store.projects import ProjectOps
from evaltool.store.pseudonyms import PseudonymOps
from evaltool.store.queue import QueueOps
from evaltool.store.search import SearchOps
from evaltool.store.spans import SpanOps
from evaltool.store.team import TeamOps
from evaltool.store.users import UserOps
from evaltool.store.version import VersionOps


class Store(CodingOps, ModelOps, AggregateOps, TeamOps, PseudonymOps, BackupOps, LifecycleOps,
            SearchOps, MatrixOps, AttributeOps, MemoOps, QueueOps, SpanOps, PinOps, UserOps,
            VersionOps, ProjectOps):
    """A migrated database and the operations evaltool performs on it.

    ``actor`` is None for the embedded single user and the CLI (no checks), or the
    signed-in user of a team server (see :meth:`as_actor` and :mod:`evaltool.store.access`).
    """

    def __init__(self, engine: Engine, actor: Actor | None = None) -> None:
        self.engine = engine
        self.actor = actor

    def as_actor(self, actor: Actor | None) -> Store:
        """This store acting for ``actor``: every write checks their role and name. Shares
        the engine (and its connection pool); cheap enough for every script run."""
        bound = copy.copy(self)
        bound.actor = actor
        return bound

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite backend."""
        return self.engine.url.get_backend_name() == "sqlite"

    def schema_version(self) -> str | None:
        """Current schema revision."""
        return db.current_revision(self.engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (SQLite: ``BEGIN IMMEDIATE``, so writers queue up).

        On a store bound to an actor, only a guarded method may open one (see
        :mod:`evaltool.store.access`): an unguarded write is refused, not trusted.
        """
        if self.actor is not None and not inside_guard():
            raise AccessError("this write is not checked against the signed-in user; refused",
                              "unguarded")
        with db.transaction(self.engine.execution_options(evaltool_write=True)) as conn:
            yield conn

    @contextmanager
    @guarded(Permission.manage)
    def document_writer(self) -> Iterator[DocumentWriter]:
        """A :class:`DocumentWriter` inside one write transaction."""
        with self.write() as conn:
            yield DocumentWriter(conn)

    def staged_documents(self) -> list[tuple[int, str | None, dt.datetime]]:
        """(id, owner, last write) of documents that imports are writing or left behind."""
        with self.engine.connect() as conn:
            return staged_documents(conn)

    @guarded(Permission.manage)
    def discard_staged(self, document_id: int) -> bool:
        """Remove a staged (never a ready) document, in short transactions."""
        return discard_staged(self.engine, document_id)

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def backup(self, target: str | Path) -> None:
        """Consistent copy of a live SQLite database."""
        if not self.is_sqlite:
            raise StoreError("backup works on SQLite databases; use pg_dump for PostgreSQL")
        db.backup_sqlite(self.engine, Path(target))

    # -- reads -------------------------------------------------------------

    def list_documents(self) -> list[DocumentInfo]:
        """All documents with speaker, turn and segment counts (not those being imported)."""
        with self.engine.connect() as conn:
            return self._documents(conn)

    def _documents(self, conn: Connection, where=None) -> list[DocumentInfo]:
        speakers = (select(Speaker.document_id, func.count().label("n"))
                    .group_by(Speaker.document_id).subquery())
        turns = (select(Turn.document_id, func.count().label("n"))
                 .group_by(Turn.document_id).subquery())
        segs = (select(Segment.document_id, func.count().label("n"))
                .group_by(Segment.document_id).subquery())
        stmt = (
            select(Document.id, Document.name, Document.format, Document.title, Document.site,
                   Document.date, func.coalesce(speakers.c.n, 0), func.coalesce(turns.c.n, 0),
                   func.coalesce(segs.c.n, 0))
            .outerjoin(speakers, speakers.c.document_id == Document.id)
            .outerjoin(turns, turns.c.document_id == Document.id)
            .outerjoin(segs, segs.c.document_id == Document.id)
            .where(Document.status == READY)  # an import's rows appear when it ends
            .order_by(Document.id)
        )
        if where is not None:
            stmt = stmt.where(where)
        rows = conn.execute(stmt).all()
        attrs: dict[int, dict] = {}
        ids = [r[0] for r in rows]
        if ids:
            for doc_id, key, value in conn.execute(
                select(DocumentAttribute.document_id, DocumentAttribute.key,
                       DocumentAttribute.value).where(DocumentAttribute.document_id.in_(ids))
            ):
                attrs.setdefault(doc_id, {})[key] = value
        return [DocumentInfo(*r, attributes=attrs.get(r[0], {})) for r in rows]

    def document_facets(self) -> list[DocumentInfo]:
        """Documents with their attributes but without counts (cheap; for filters)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(Document.id, Document.name, Document.format,
                                       Document.title, Document.site, Document.date)
                                .where(Document.status == READY).order_by(Document.id)).all()
            attrs: dict[int, dict] = {}
            for doc_id, key, value in conn.execute(
                    select(DocumentAttribute.document_id, DocumentAttribute.key,
                           DocumentAttribute.value)
                    .join(Document, Document.id == DocumentAttribute.document_id)
                    .where(Document.status == READY)):
                attrs.setdefault(doc_id, {})[key] = value
        return [DocumentInfo(*r, 0, 0, 0, attributes=attrs.get(r[0], {})) for r in rows]

    def get_document(self, ref: str | int) -> DocumentInfo:
        """A document by id or file name (``NotFoundError`` if none)."""
        ref_s = str(ref)
        cond = Document.id == int(ref_s) if ref_s.isdigit() else Document.name == ref_s
        with self.engine.connect() as conn:
            found = self._documents(conn, cond)
        if not found:
            raise NotFoundError(f"no document {ref!r} (see `evaltool list`)")
        if len(found) > 1:
            raise NotFoundError(f"several documents are named {ref!r}; use the id")
        return found[0]

    def document_text(self, document_id: int) -> str:
        """The document's normalised text (its turns joined; offsets point into it)."""
        with self.engine.connect() as conn:
            text = document_text(conn, document_id)
        if text is None:
            raise NotFoundError(f"no document {document_id}")
        return text

    def turns(self, document_id: int, number: int | None = None) -> list[TurnView]:
        """Turns of a document (or one turn by number), in order."""
        stmt = (
            select(Turn.id, Turn.document_id, Turn.number, Speaker.name,
                   func.coalesce(Turn.role, Speaker.role), Speaker.is_moderator, Turn.start_time,
                   Turn.start_char, Turn.end_char, Turn.text)
            .join(Speaker, Speaker.id == Turn.speaker_id)
            .join(Document, and_(Document.id == Turn.document_id, Document.status == READY))
            .where(Turn.document_id == document_id)
            .order_by(Turn.number)
        )
        if number is not None:
            stmt = stmt.where(Turn.number == number)
        with self.engine.connect() as conn:
            return [TurnView(*r) for r in conn.execute(stmt)]

    def segments(self, document_id: int, turn: int | None = None) -> list[SegmentView]:
        """Segments of a document (or of one turn), in text order."""
        stmt = (
            select(Segment.id, Segment.document_id, Segment.turn_id, Turn.number,
                   Segment.sent_index, Speaker.name, Segment.start_char, Segment.end_char,
                   Segment.text, Segment.lemmas)
            .join(Turn, Turn.id == Segment.turn_id)
            .join(Speaker, Speaker.id == Segment.speaker_id)
            .join(Document, and_(Document.id == Segment.document_id, Document.status == READY))
            .where(Segment.document_id == document_id)
            .order_by(Segment.start_char)
        )
        if turn is not None:
            stmt = stmt.where(Turn.number == turn)
        with self.engine.connect() as conn:
            return [SegmentView(*r) for r in conn.execute(stmt)]


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the database at ``url`` (path or URL; default ``EVALTOOL_DB``), migrating it."""
    engine = db.make_engine(config.db_url(url))
    if migrate:
        db.migrate(engine)
    return Store(engine)
