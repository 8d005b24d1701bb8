"""Data version: one counter row, bumped by triggers on every table on every write.

The app's cache key was a count, max and sum over all codings and more, read on every
rerun (30-115 ms at 100 k segments); now it is one row read by its key. Triggers bump
it whoever writes (see ``evaltool/store/version.py`` for the rules per backend).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from evaltool.store.version import (
    POSTGRES_DROP_FUNCTIONS,
    POSTGRES_FUNCTIONS,
    drop_trigger_ddl,
    trigger_ddl,
)

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# every table at this revision but sign_in_failures (see store/version.py); a later
# table gets its triggers in its own migration
TABLES = ("documents", "document_attributes", "speakers", "speaker_attributes", "turns",
          "segments", "codebooks", "categories", "codes", "code_categories", "coders",
          "codings", "memos", "review_marks", "events", "trained_models", "assignments",
          "pseudonyms", "quote_pins", "users")


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO data_version (id, version) VALUES (1, 1)"))
    dialect = bind.dialect.name
    if dialect == "postgresql":
        for statement in POSTGRES_FUNCTIONS:
            bind.exec_driver_sql(statement)
    for table in TABLES:
        for statement in trigger_ddl(dialect, table):
            bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    for table in TABLES:
        for statement in drop_trigger_ddl(dialect, table):
            bind.exec_driver_sql(statement)
    if dialect == "postgresql":
        for statement in POSTGRES_DROP_FUNCTIONS:
            bind.exec_driver_sql(statement)
    op.drop_table("data_version")
