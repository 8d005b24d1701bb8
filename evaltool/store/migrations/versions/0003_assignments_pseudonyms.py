"""Assignments of documents to coders (blind double coding) and pseudonym mappings.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coder_id"], ["coders.id"], name=op.f("fk_assignments_coder_id_coders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_assignments_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("document_id", "coder_id", name=op.f("uq_assignments_document_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_document_id"), ["document_id"], unique=False)

    op.create_table(
        "pseudonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("original", sa.String(length=300), nullable=False),
        sa.Column("pseudonym", sa.String(length=300), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_pseudonyms_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pseudonyms")),
        sa.UniqueConstraint("document_id", "original", name=op.f("uq_pseudonyms_document_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("pseudonyms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pseudonyms_document_id"), ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pseudonyms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pseudonyms_document_id"))

    op.drop_table("pseudonyms")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_document_id"))

    op.drop_table("assignments")
