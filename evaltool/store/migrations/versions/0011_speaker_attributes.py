"""Speaker attributes: free keys (target group, gender, age band, …) per speaker.

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "speaker_attributes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("speaker_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["speaker_id"], ["speakers.id"],
                                name=op.f("fk_speaker_attributes_speaker_id_speakers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speaker_attributes")),
        sa.UniqueConstraint("speaker_id", "key", name=op.f("uq_speaker_attributes_speaker_id")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("speaker_attributes")
