"""Review marks: a turn or a whole document a coder has marked as done.

Training takes as negatives only what a human has seen; a "done" mark says the
coder has seen a turn (or a document) whole, codes left off included.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("turn_number", sa.Integer(), nullable=True),
        sa.Column("layer", sa.String(length=200), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["coder_id"], ["coders.id"],
                                name=op.f("fk_review_marks_coder_id_coders")),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name=op.f("fk_review_marks_document_id_documents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_marks")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("review_marks") as batch_op:
        batch_op.create_index(batch_op.f("ix_review_marks_document_id"), ["document_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("review_marks")
