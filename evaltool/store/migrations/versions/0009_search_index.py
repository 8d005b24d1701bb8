"""Full-text index of the segments for search.

SQLite: an FTS5 table over segments' text and lemmas (external content, kept in
sync by triggers on every insert, update and delete of a segment, cascades
included); skipped where SQLite lacks FTS5 (search then scans). PostgreSQL: a
GIN index on ``to_tsvector('simple', text || ' ' || lemmas)`` (no stemming in the
index: evaltool.search decides matches the same way on both backends).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.exc import OperationalError

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE segments_fts USING fts5(text, lemmas, content='segments', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER segments_fts_insert AFTER INSERT ON segments BEGIN "
    "INSERT INTO segments_fts(rowid, text, lemmas) VALUES (new.id, new.text, new.lemmas); END",
    "CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN "
    "INSERT INTO segments_fts(segments_fts, rowid, text, lemmas) "
    "VALUES ('delete', old.id, old.text, old.lemmas); END",
    "CREATE TRIGGER segments_fts_update AFTER UPDATE OF text, lemmas ON segments BEGIN "
    "INSERT INTO segments_fts(segments_fts, rowid, text, lemmas) "
    "VALUES ('delete', old.id, old.text, old.lemmas); "
    "INSERT INTO segments_fts(rowid, text, lemmas) VALUES (new.id, new.text, new.lemmas); END",
    "INSERT INTO segments_fts(segments_fts) VALUES ('rebuild')",
]
POSTGRES = ("CREATE INDEX ix_segments_search ON segments "
            "USING gin (to_tsvector('simple'::regconfig, text || ' ' || lemmas))")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        try:
            bind.exec_driver_sql("SAVEPOINT fts5_probe")
            bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
            bind.exec_driver_sql("DROP TABLE temp.fts5_probe")
            bind.exec_driver_sql("RELEASE fts5_probe")
        except OperationalError:  # this SQLite has no FTS5: search scans instead
            bind.exec_driver_sql("ROLLBACK TO fts5_probe")
            bind.exec_driver_sql("RELEASE fts5_probe")
            return
        for statement in SQLITE:
            bind.exec_driver_sql(statement)
    elif bind.dialect.name == "postgresql":
        bind.exec_driver_sql(POSTGRES)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("segments_fts_insert", "segments_fts_delete", "segments_fts_update"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS segments_fts")
    elif bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_segments_search")
