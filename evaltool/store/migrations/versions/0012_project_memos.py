"""Project memos (no document) and editable memos.

``memos.document_id`` becomes nullable: a memo with neither document nor segment is
a memo on the whole project. ``updated_at`` records the last edit (a memo can now
be edited and deleted by its author); existing memos take their creation time.
SQLite rebuilds the ``memos`` table (batch mode), keeping AUTOINCREMENT.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memos") as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE memos SET updated_at = created_at")
    with op.batch_alter_table("memos", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column("updated_at", existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # an older schema has no place for a project memo: they go with the downgrade
    op.execute("DELETE FROM memos WHERE document_id IS NULL")
    with op.batch_alter_table("memos", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("updated_at")
