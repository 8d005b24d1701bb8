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
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
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
    text: Mapped[str] = mapped_column(Text)  # normalised text; offsets point into it
    model: Mapped[str] = mapped_column(String(200))  # pipeline that segmented it
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

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
    """A sentence of a turn; offsets into ``Document.text``."""

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
