"""A document's text is its turns joined, no longer a stored copy.

``documents.text`` was always the turns' texts joined by a blank line (the turn
offsets point into it). Keeping the copy made importing hold, and SQLite build,
the whole text of a file at once; it is now rebuilt from the turns when asked.
The upgrade first checks, document by document, that the copy equals the turns
joined, and stops (changing nothing) if one does not.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from evaltool.errors import StoreError

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TURN_SEP = "\n\n"  # evaltool.domain.TURN_SEP, fixed here as it was when this migration was written

_TURNS = sa.text("SELECT text FROM turns WHERE document_id = :id ORDER BY number")


def _joined(conn: sa.Connection, document_id: int) -> str:
    return TURN_SEP.join(conn.execute(_TURNS, {"id": document_id}).scalars())


def _is_joined_turns(conn: sa.Connection, document_id: int, stored: str) -> bool:
    """Whether ``stored`` is the document's turns joined (compared in place, not built)."""
    pos = 0
    for i, text in enumerate(conn.execute(_TURNS, {"id": document_id}).scalars()):
        if i:
            if not stored.startswith(TURN_SEP, pos):
                return False
            pos += len(TURN_SEP)
        if not stored.startswith(text, pos):
            return False
        pos += len(text)
    return pos == len(stored)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite" and conn.dialect.dbapi.sqlite_version_info < (3, 35):
        raise StoreError(f"cannot upgrade the database to schema {revision}: it needs SQLite 3.35 "
                         f"or newer (this Python has {conn.dialect.dbapi.sqlite_version}); "
                         "the upgrade was stopped and undone")
    ids = conn.execute(sa.text("SELECT id FROM documents ORDER BY id")).scalars().all()
    for doc_id in ids:  # one document's text in memory at a time
        stored = conn.execute(sa.text("SELECT text FROM documents WHERE id = :id"),
                              {"id": doc_id}).scalar_one()
        if not _is_joined_turns(conn, doc_id, stored):
            raise StoreError(
                f"cannot upgrade the database to schema {revision}: the stored text of document "
                f"{doc_id} is not its turns joined; the upgrade was stopped and undone (re-import "
                "that transcript with the evaltool that made the database, then upgrade)")
    # A plain ALTER TABLE (SQLite >= 3.35), never a batch copy: on SQLite that drops and
    # recreates the table, and with foreign keys on, dropping it cascades to every turn.
    op.drop_column("documents", "text")


def downgrade() -> None:
    # NOT NULL needs a default to be added in place (see upgrade); every row is filled below.
    op.add_column("documents", sa.Column("text", sa.Text(), nullable=False, server_default=""))
    conn = op.get_bind()
    ids = conn.execute(sa.text("SELECT id FROM documents ORDER BY id")).scalars().all()
    for doc_id in ids:
        conn.execute(sa.text("UPDATE documents SET text = :text WHERE id = :id"),
                     {"text": _joined(conn, doc_id), "id": doc_id})
