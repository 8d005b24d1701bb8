"""Codings carry their segment's document id and turn number (for the dashboard).

The dashboard groups codings by document and by neighbouring turns; with both
stored on the coding, its queries read one narrow index instead of joining every
coding to its segment and turn. Both are copies: a segment never moves to another
document or turn, so they never go stale.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("codings") as batch_op:
        batch_op.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("turn_number", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE codings SET "
        "document_id = (SELECT s.document_id FROM segments s WHERE s.id = codings.segment_id), "
        "turn_number = (SELECT t.number FROM segments s JOIN turns t ON t.id = s.turn_id "
        "WHERE s.id = codings.segment_id)")
    # SQLite: the batch recreates the table; keep AUTOINCREMENT (ids never reused, see models)
    with op.batch_alter_table("codings", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("turn_number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_codings_dashboard",
                              ["status", "layer", "code_id", "document_id", "segment_id",
                               "turn_number", "confidence"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("codings", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_index("ix_codings_dashboard")
        batch_op.drop_column("turn_number")
        batch_op.drop_column("document_id")
