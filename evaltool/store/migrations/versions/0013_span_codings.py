"""Span codings: a coding may cover any words of one turn, not only a whole sentence.

``codings.start_char``/``end_char`` hold the span's document offsets (NULL: the whole
sentence). The unique constraint (segment, code, layer) becomes a partial unique index
over sentence codings; span codings are unique per (segment, code, layer, start, end).
Partial indexes work on SQLite and PostgreSQL. On SQLite the batch copies ``codings``
only (``segments`` and its search triggers are not touched).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SENTENCE = sa.text("start_char IS NULL")


def upgrade() -> None:
    # SQLite: the batch recreates the table; keep AUTOINCREMENT (ids never reused, see models)
    with op.batch_alter_table("codings", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("start_char", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("end_char", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_codings_segment_id", type_="unique")
    op.create_index("uq_codings_sentence", "codings", ["segment_id", "code_id", "layer"],
                    unique=True, sqlite_where=SENTENCE, postgresql_where=SENTENCE)
    op.create_index("uq_codings_span", "codings",
                    ["segment_id", "code_id", "layer", "start_char", "end_char"], unique=True)


def downgrade() -> None:
    # span codings have no place in the old schema: they go (their events stay)
    op.execute("DELETE FROM codings WHERE start_char IS NOT NULL")
    op.drop_index("uq_codings_span", table_name="codings")
    op.drop_index("uq_codings_sentence", table_name="codings")
    with op.batch_alter_table("codings", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.create_unique_constraint("uq_codings_segment_id",
                                          ["segment_id", "code_id", "layer"])
        batch_op.drop_column("end_char")
        batch_op.drop_column("start_char")
