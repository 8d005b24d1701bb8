"""Alembic migrations (one small file per schema change in ``versions/``)."""
