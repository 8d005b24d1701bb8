"""Database schema: SQLAlchemy 2 ORM models, the single source of the schema.

Migrations in ``store/migrations/versions`` create exactly these tables; a test
compares the migrated database with this metadata. Only ``evaltool.store``
imports this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Ids are never reused after a delete (SQLite AUTOINCREMENT; PostgreSQL sequences
# never reuse anyway), so the audit trail and exports never point at a new row.
NO_REUSE = {"sqlite_autoincrement": True}


READY = "ready"  # documents.status of a complete document
IMPORTING = "importing"  # documents.status while an import writes it


def utcnow() -> dt.datetime:
    """Timezone-aware now, for timestamps."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Document(Base):
    """One imported transcript."""

    __tablename__ = "documents"
    __table_args__ = (NO_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))  # original file name, no folders
    format: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(500))
    site: Mapped[str | None] = mapped_column(String(200), index=True)
    date: Mapped[str | None] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    # No text column: the normalised text is the turns joined by TURN_SEP (store.document_text).
    model: Mapped[str] = mapped_column(String(200))  # pipeline that segmented it
    # While importing: the last time the import wrote a batch (see status); then when it ended.
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # 'importing' while an import writes it in short transactions (invisible to every
    # reader), 'ready' once its last transaction has flipped it (migration 0007)
    status: Mapped[str] = mapped_column(String(12), default=READY, server_default=READY)
    import_owner: Mapped[str | None] = mapped_column(String(200))  # host pid start, while importing

    attributes: Mapped[list[DocumentAttribute]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )


class DocumentAttribute(Base):
    """A front-matter key of a document (target groups, moderator, any other key)."""

    __tablename__ = "document_attributes"
    __table_args__ = (UniqueConstraint("document_id", "key"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)

    document: Mapped[Document] = relationship(back_populates="attributes")


class Speaker(Base):
    """A speaker in one document."""

    __tablename__ = "speakers"
    __table_args__ = (UniqueConstraint("document_id", "name"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(300))
    is_moderator: Mapped[bool] = mapped_column(default=False)

    document: Mapped[Document] = relationship(back_populates="speakers")


class SpeakerAttribute(Base):
    """A free attribute of a speaker (target group, gender, age band, …; migration 0011).

    The speaker's role is its own column (``speakers.role``), not a row here.
    """

    __tablename__ = "speaker_attributes"
    __table_args__ = (UniqueConstraint("speaker_id", "key"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    speaker_id: Mapped[int] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)


class Turn(Base):
    """A speaker turn; ``number`` is 1-based in document order."""

    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("document_id", "number"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    speaker_id: Mapped[int] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"),
                                            index=True)
    number: Mapped[int] = mapped_column(Integer)
    role: Mapped[str | None] = mapped_column(String(300))  # role as known at this turn
    start_time: Mapped[float | None] = mapped_column(Float)  # seconds from the start
    start_char: Mapped[int] = mapped_column(Integer)
    end_char: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    source_line: Mapped[int | None] = mapped_column(Integer)  # line/cue in the file


class Segment(Base):
    """A sentence of a turn; offsets into the document text (``Store.document_text``)."""

    __tablename__ = "segments"
    __table_args__ = (
        UniqueConstraint("turn_id", "sent_index"),
        Index("ix_segments_document_start", "document_id", "start_char"),
        NO_REUSE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    speaker_id: Mapped[int] = mapped_column(ForeignKey("speakers.id", ondelete="CASCADE"))
    sent_index: Mapped[int] = mapped_column(Integer)  # 0-based within the turn
    start_char: Mapped[int] = mapped_column(Integer)
    end_char: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    lemmas: Mapped[str] = mapped_column(Text)  # space-joined lower-case lemmas
    tokens: Mapped[list[Any]] = mapped_column(JSON)  # [[start, end, lemma, pos], ...]


# -- codebooks and codes (migration 0002) ------------------------------------


class Codebook(Base):
    """A loaded codebook (its YAML kept as JSON for provenance)."""

    __tablename__ = "codebooks"
    __table_args__ = (NO_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the file's `id`
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(500))  # file name it was loaded from
    content: Mapped[Any] = mapped_column(JSON)
    # Coded turns from earlier material, used as extra training data (migration 0004)
    seed: Mapped[Any | None] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(default=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Category(Base):
    """A theme or goal of a codebook (``kind`` is 'theme' or 'goal')."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("codebook_id", "kind", "key"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_id: Mapped[int] = mapped_column(ForeignKey("codebooks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(20))  # T1, G3, ...
    label: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class Code(Base):
    """A code of a codebook; ``key`` is the stable id used in files and exports."""

    __tablename__ = "codes"
    __table_args__ = (UniqueConstraint("codebook_id", "key"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_id: Mapped[int] = mapped_column(ForeignKey("codebooks.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(Text, default="")
    include: Mapped[str] = mapped_column(Text, default="")
    exclude: Mapped[str] = mapped_column(Text, default="")
    cmo: Mapped[str] = mapped_column(String(10))
    column: Mapped[str] = mapped_column(String(100))
    parent: Mapped[str | None] = mapped_column(String(100))
    target_groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    patterns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    examples: Mapped[list[Any]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(default=False)  # removed from the file; codings kept


class CodeCategory(Base):
    """Link of a code to its themes and goals (for aggregation in SQL)."""

    __tablename__ = "code_categories"
    __table_args__ = (UniqueConstraint("code_id", "category_id"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"),
                                             index=True)


# -- coders, codings, memos, events, models (migration 0002) -----------------


class Coder(Base):
    """A person (or the machine, ``is_machine``) who makes coding decisions."""

    __tablename__ = "coders"
    __table_args__ = (NO_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_machine: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Coding(Base):
    """Current state of one code on one segment in one layer.

    ``layer`` is '' for the project's shared coding; blind double coding writes
    each coder's decisions to a layer named after the coder. ``version`` grows on
    every change (optimistic locking); every change is also an :class:`Event`.
    ``document_id`` and ``turn_number`` copy the segment's place (a segment never
    moves), so dashboard aggregations read one narrow index without joins.

    ``start_char``/``end_char`` are NULL for a coding of the whole sentence; a span
    coding (migration 0013) holds the document offsets of the coded words (inside one
    turn) and ``segment_id`` is the first sentence the span overlaps. A sentence coding
    is unique per (segment, code, layer), a span coding per (segment, code, layer, span).
    """

    __tablename__ = "codings"
    __table_args__ = (
        Index("uq_codings_sentence", "segment_id", "code_id", "layer", unique=True,
              sqlite_where=sql_text("start_char IS NULL"),
              postgresql_where=sql_text("start_char IS NULL")),
        Index("uq_codings_span", "segment_id", "code_id", "layer", "start_char", "end_char",
              unique=True),
        Index("ix_codings_status_code", "status", "code_id"),
        # status first: a filter on the layer alone (exports) scans the table in order
        # instead of visiting every row through this index
        Index("ix_codings_dashboard", "status", "layer", "code_id", "document_id", "segment_id",
              "turn_number", "confidence"),
        # the review queue: a page is read from each side of the threshold (migration 0014)
        Index("ix_codings_queue", "layer", "status", "confidence", "segment_id"),
        NO_REUSE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"),
                                            index=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(Integer)
    turn_number: Mapped[int] = mapped_column(Integer)
    layer: Mapped[str] = mapped_column(String(200), default="")
    start_char: Mapped[int | None] = mapped_column(Integer)  # NULL: the whole sentence
    end_char: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))
    confidence: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text, default="")
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("coders.id"), index=True)
    model_version: Mapped[str | None] = mapped_column(String(100))
    codebook_version: Mapped[int | None] = mapped_column(Integer)
    memo: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Memo(Base):
    """A free memo on a segment, a document (``segment_id`` NULL) or the whole project
    (``document_id`` NULL too, migration 0012); a coding's memo is ``codings.memo``."""

    __tablename__ = "memos"
    __table_args__ = (NO_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("coders.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewMark(Base):
    """A turn (``turn_number``) or a whole document (``None``) a coder marked as done
    in a layer: everything in it that is not coded was seen and left off (migration 0008)."""

    __tablename__ = "review_marks"
    __table_args__ = (NO_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             index=True)
    turn_number: Mapped[int | None] = mapped_column(Integer)
    layer: Mapped[str] = mapped_column(String(200), default="")
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("coders.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Event(Base):
    """Append-only history of coding changes: who, when, what, before, after."""

    __tablename__ = "events"
    __table_args__ = (NO_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("coders.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    coding_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: history outlives rows
    segment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    undoes: Mapped[int | None] = mapped_column(Integer)  # id of the event this one reverses


class TrainedModel(Base):
    """A trained suggestion model (scikit-learn, serialised), with its metrics."""

    __tablename__ = "trained_models"
    __table_args__ = (NO_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_id: Mapped[int] = mapped_column(ForeignKey("codebooks.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    params: Mapped[Any] = mapped_column(JSON)
    metrics: Mapped[Any] = mapped_column(JSON)
    blob: Mapped[bytes] = mapped_column(LargeBinary)


# -- team work and personal data (migration 0003) ------------------------------


class Assignment(Base):
    """A document assigned to a coder; ``blind`` hides other coders' decisions on it."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("document_id", "coder_id"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             index=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("coders.id", ondelete="CASCADE"))
    blind: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Pseudonym(Base):
    """A name replaced by a pseudonym in one document (never exported).

    ``spans`` lists where the pseudonym now stands in the document's text, as
    ``[[start, end], ...]``, so that the replacement can be reversed exactly; a span
    of a multi-token name carries a third item, the token boundaries inside the
    original name (see :mod:`evaltool.pseudonymize`).
    """

    __tablename__ = "pseudonyms"
    __table_args__ = (UniqueConstraint("document_id", "original"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[str] = mapped_column(String(20))  # speaker | person
    original: Mapped[str] = mapped_column(String(300))
    pseudonym: Mapped[str] = mapped_column(String(300))
    spans: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# -- the report (migration 0015) -----------------------------------------------


class QuotePin(Base):
    """A coding pinned to a theme for the report ("til rapporten"), with who and when;
    pinning and unpinning are also :class:`Event` rows (actions 'pin' and 'unpin')."""

    __tablename__ = "quote_pins"
    __table_args__ = (UniqueConstraint("coding_id", "theme"), NO_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    coding_id: Mapped[int] = mapped_column(ForeignKey("codings.id", ondelete="CASCADE"),
                                           index=True)
    theme: Mapped[str] = mapped_column(String(20), index=True)  # a theme's key: T1, T2, ...
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("coders.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# -- accounts on a team server (migration 0017) ---------------------------------


class User(Base):
    """A sign-in account: its name is the coder name its decisions carry. The password is
    only ever stored as an argon2 hash (``evaltool.accounts``); an account with no hash
    signs in through the organisation's OpenID Connect provider (matched by ``email``)."""

    __tablename__ = "users"
    __table_args__ = (NO_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # domain.Role
    email: Mapped[str | None] = mapped_column(String(320), unique=True)  # lower case
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SignInFailure(Base):
    """One failed sign-in (never the password): the name typed and the client it came from.
    Recent rows lock the account or client (``evaltool.accounts``); kept in the database so
    the limit holds across server processes."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (NO_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(200), index=True)
    client: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


# -- the data version (migration 0018) -------------------------------------------


class DataVersion(Base):
    """One row counting committed writes: the app's cache key. Database triggers on every
    other table bump it (``store/version.py``), whoever writes."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
