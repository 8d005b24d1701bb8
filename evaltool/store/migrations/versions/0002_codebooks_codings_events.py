"""Codebooks (themes, goals, codes), coders, codings, memos, events, trained models.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "codebooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codebooks")),
        sa.UniqueConstraint("key", name=op.f("uq_codebooks_key")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "coders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_machine", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coders")),
        sa.UniqueConstraint("name", name=op.f("uq_coders_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("codebook_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["codebook_id"],
            ["codebooks.id"],
            name=op.f("fk_categories_codebook_id_codebooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("codebook_id", "kind", "key", name=op.f("uq_categories_codebook_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("codebook_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("include", sa.Text(), nullable=False),
        sa.Column("exclude", sa.Text(), nullable=False),
        sa.Column("cmo", sa.String(length=10), nullable=False),
        sa.Column("column", sa.String(length=100), nullable=False),
        sa.Column("parent", sa.String(length=100), nullable=True),
        sa.Column("target_groups", sa.JSON(), nullable=False),
        sa.Column("patterns", sa.JSON(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["codebook_id"],
            ["codebooks.id"],
            name=op.f("fk_codes_codebook_id_codebooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codes")),
        sa.UniqueConstraint("codebook_id", "key", name=op.f("uq_codes_codebook_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("coding_id", sa.Integer(), nullable=True),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("undoes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coder_id"], ["coders.id"], name=op.f("fk_events_coder_id_coders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_coding_id"), ["coding_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_segment_id"), ["segment_id"], unique=False)

    op.create_table(
        "trained_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("codebook_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["codebook_id"],
            ["codebooks.id"],
            name=op.f("fk_trained_models_codebook_id_codebooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trained_models")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "code_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_code_categories_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["codes.id"],
            name=op.f("fk_code_categories_code_id_codes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_categories")),
        sa.UniqueConstraint("code_id", "category_id", name=op.f("uq_code_categories_code_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("code_categories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_code_categories_category_id"), ["category_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_code_categories_code_id"), ["code_id"], unique=False)

    op.create_table(
        "codings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=True),
        sa.Column("model_version", sa.String(length=100), nullable=True),
        sa.Column("codebook_version", sa.Integer(), nullable=True),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"], ["codes.id"], name=op.f("fk_codings_code_id_codes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["coder_id"], ["coders.id"], name=op.f("fk_codings_coder_id_coders")
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_codings_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codings")),
        sa.UniqueConstraint("segment_id", "code_id", "layer", name=op.f("uq_codings_segment_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("codings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_codings_code_id"), ["code_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_codings_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_codings_segment_id"), ["segment_id"], unique=False)
        batch_op.create_index("ix_codings_status_code", ["status", "code_id"], unique=False)

    op.create_table(
        "memos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("coder_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["coder_id"], ["coders.id"], name=op.f("fk_memos_coder_id_coders")),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_memos_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_memos_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memos")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("memos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memos_document_id"), ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("memos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memos_document_id"))

    op.drop_table("memos")
    with op.batch_alter_table("codings", schema=None) as batch_op:
        batch_op.drop_index("ix_codings_status_code")
        batch_op.drop_index(batch_op.f("ix_codings_segment_id"))
        batch_op.drop_index(batch_op.f("ix_codings_coder_id"))
        batch_op.drop_index(batch_op.f("ix_codings_code_id"))

    op.drop_table("codings")
    with op.batch_alter_table("code_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_code_categories_code_id"))
        batch_op.drop_index(batch_op.f("ix_code_categories_category_id"))

    op.drop_table("code_categories")
    op.drop_table("trained_models")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_segment_id"))
        batch_op.drop_index(batch_op.f("ix_events_coding_id"))
        batch_op.drop_index(batch_op.f("ix_events_coder_id"))
        batch_op.drop_index(batch_op.f("ix_events_at"))

    op.drop_table("events")
    op.drop_table("codes")
    op.drop_table("categories")
    op.drop_table("coders")
    op.drop_table("codebooks")
