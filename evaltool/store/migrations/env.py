"""Alembic environment: migrations run on the connection evaltool passes in."""

from __future__ import annotations

from alembic import context

from evaltool.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE via copy on SQLite
)
with context.begin_transaction():
    context.run_migrations()
