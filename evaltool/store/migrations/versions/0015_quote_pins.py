"""Quote pins: codings pinned to a theme for the report ("til rapporten").

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quote_pins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coding_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=20), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["coding_id"], ["codings.id"],
                                name=op.f("fk_quote_pins_coding_id_codings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["coder_id"], ["coders.id"],
                                name=op.f("fk_quote_pins_coder_id_coders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_pins")),
        sa.UniqueConstraint("coding_id", "theme", name=op.f("uq_quote_pins_coding_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_quote_pins_coding_id"), "quote_pins", ["coding_id"], unique=False)
    op.create_index(op.f("ix_quote_pins_theme"), "quote_pins", ["theme"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_quote_pins_theme"), table_name="quote_pins")
    op.drop_index(op.f("ix_quote_pins_coding_id"), table_name="quote_pins")
    op.drop_table("quote_pins")
