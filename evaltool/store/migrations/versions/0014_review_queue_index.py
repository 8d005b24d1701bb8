"""Review queue index: open suggestions in confidence order.

The 'Næste usikre' queue shows the suggestions whose confidence lies closest to the
model's threshold; with this index a page of it reads a few rows on each side of the
threshold instead of sorting every open suggestion (``store/queue.py``).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_codings_queue", "codings",
                    ["layer", "status", "confidence", "segment_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_codings_queue", table_name="codings")
