"""Seed training data stored with a codebook.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("codebooks") as batch_op:
        batch_op.add_column(sa.Column("seed", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("codebooks") as batch_op:
        batch_op.drop_column("seed")
