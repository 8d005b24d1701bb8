"""Documents have a status: ``importing`` while an import writes them, then ``ready``.

An import segments a file outside any write transaction and writes it in short
transactions, so other writers (a coder deciding in the app) never wait long.
Until its last short transaction flips it to ``ready``, the document is
``importing``: readers see only ready documents, and an import that was killed
leaves only invisible rows, which the next import removes. ``import_owner`` names
the process writing it (host, pid and start time), so a live import's rows are
told apart from a dead one's. Existing documents are ready.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no table copy on SQLite): a constant default fills existing rows
    op.add_column("documents", sa.Column("status", sa.String(12), nullable=False,
                                         server_default="ready"))
    op.add_column("documents", sa.Column("import_owner", sa.String(200), nullable=True))


def downgrade() -> None:
    # documents still being imported are not documents yet
    op.execute("DELETE FROM documents WHERE status != 'ready'")
    with op.batch_alter_table("documents", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("import_owner")
        batch_op.drop_column("status")
