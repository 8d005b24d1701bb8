"""The data version: one counter row that database triggers bump on every write (migration 0018).

The app keys every cached computation on it, so it must change with any write a page
may show, whoever writes (this process, the CLI, a second server, code written later),
and be cheap enough to read on every rerun: a single row, read by primary key.

Triggers, not Python, bump it, so no write path can forget it:

- SQLite has row triggers only: each inserted, updated or deleted row adds one.
- PostgreSQL bumps once per transaction, in a statement trigger that runs *before*
  the statement: the counter row is then the first row a writing transaction locks,
  so writers queue on it (as SQLite's writers do on the file) and cannot deadlock
  over it. The counter changes with the commit, never before: a reader that sees the
  new version also sees the new data.
- Rows an import writes while its document is still ``importing`` are invisible to
  every reader (ARCHITECTURE.md); inserting them bumps nothing, publishing the
  document (its status turning ``ready``) does.

Failed sign-ins (``sign_in_failures``) change nothing a page shows and are written by
people who are not signed in: they have no triggers, so nobody can flush every
session's caches by typing wrong passwords.

SQLite drops a table's triggers when a migration copies the table (batch mode): such
a migration must create them again with :func:`trigger_ddl` (a test checks every
table at head).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, text, update

from evaltool.store.models import DataVersion

EVENTS = ("INSERT", "UPDATE", "DELETE")
UNVERSIONED = ("data_version", "sign_in_failures")
# an import writes rows of these tables before its document is visible
STAGED = ("document_attributes", "speakers", "turns", "segments", "speaker_attributes")
_READY_DOC = ("(SELECT status FROM documents WHERE id = {row}.document_id) = 'ready'")
_READY_SPEAKER = ("(SELECT d.status FROM speakers s JOIN documents d ON d.id = s.document_id "
                  "WHERE s.id = {row}.speaker_id) = 'ready'")

# PostgreSQL: once per transaction (a transaction-local setting remembers it; a rolled
# back savepoint forgets it with the update it made)
POSTGRES_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION data_version_bump_once() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('evaltool.data_version_bumped', true) IS DISTINCT FROM 'on' THEN
    UPDATE data_version SET version = version + 1;
    PERFORM set_config('evaltool.data_version_bumped', 'on', true);
  END IF;
END $$""",
    """CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM data_version_bump_once();
  RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION data_version_bump_ready() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'speaker_attributes' THEN
    IF EXISTS (SELECT 1 FROM inserted i JOIN speakers s ON s.id = i.speaker_id
               JOIN documents d ON d.id = s.document_id WHERE d.status = 'ready') THEN
      PERFORM data_version_bump_once();
    END IF;
  ELSIF EXISTS (SELECT 1 FROM inserted i JOIN documents d ON d.id = i.document_id
                WHERE d.status = 'ready') THEN
    PERFORM data_version_bump_once();
  END IF;
  RETURN NULL;
END $$""",
]
POSTGRES_DROP_FUNCTIONS = ["DROP FUNCTION IF EXISTS data_version_bump_ready()",
                           "DROP FUNCTION IF EXISTS data_version_bump()",
                           "DROP FUNCTION IF EXISTS data_version_bump_once()"]


def _sqlite(table: str) -> list[str]:
    bump = "BEGIN UPDATE data_version SET version = version + 1; END"
    when = dict.fromkeys(EVENTS, "")
    if table == "documents":
        when = {"INSERT": " WHEN new.status = 'ready'",
                "UPDATE": " WHEN old.status = 'ready' OR new.status = 'ready'",
                "DELETE": " WHEN old.status = 'ready'"}
    elif table in STAGED:
        ready = _READY_SPEAKER if table == "speaker_attributes" else _READY_DOC
        when["INSERT"] = " WHEN " + ready.format(row="new")
    return [f"CREATE TRIGGER data_version_{table}_{event.lower()} AFTER {event} ON {table}"
            f"{when[event]} {bump}" for event in EVENTS]


def _postgres(table: str) -> list[str]:
    if table == "documents":  # only a ready document's rows count
        return [f"CREATE TRIGGER data_version_{event.lower()} AFTER {event} ON documents "
                f"FOR EACH ROW WHEN ({cond}) EXECUTE FUNCTION data_version_bump()"
                for event, cond in (("INSERT", "NEW.status = 'ready'"),
                                    ("UPDATE", "OLD.status = 'ready' OR NEW.status = 'ready'"),
                                    ("DELETE", "OLD.status = 'ready'"))]
    if table in STAGED:
        return [f"CREATE TRIGGER data_version_bump BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump()",
                f"CREATE TRIGGER data_version_insert AFTER INSERT ON {table} "
                "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
                "EXECUTE FUNCTION data_version_bump_ready()"]
    return [f"CREATE TRIGGER data_version_bump BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump()"]


def trigger_ddl(dialect: str, table: str) -> list[str]:
    """Statements creating ``table``'s triggers that bump the data version."""
    return _sqlite(table) if dialect == "sqlite" else _postgres(table)


def drop_trigger_ddl(dialect: str, table: str) -> list[str]:
    """Statements dropping ``table``'s data-version triggers."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS data_version_{table}_{e.lower()}" for e in EVENTS]
    return [f"DROP TRIGGER IF EXISTS {name} ON {table}"
            for name in ("data_version_bump", "data_version_insert", "data_version_update",
                         "data_version_delete")]


class VersionOps:
    """The data version of :class:`~evaltool.store.Store` (mixed in)."""

    engine: Any

    def data_version(self) -> tuple:
        """A key that changes with every committed write (the app's cache key): one row,
        bumped by database triggers (see :mod:`evaltool.store.version`)."""
        with self.engine.connect() as conn:
            return (conn.scalar(select(DataVersion.version)),)

    def _move_version_past(self, conn: Connection, seen: int) -> None:
        """Set the version above ``seen`` and above its own value (after a restore brought
        back an older count that caches may already hold other data under)."""
        current = conn.scalar(select(DataVersion.version))
        conn.execute(update(DataVersion).values(version=max(current, seen) + 1))


def triggered_tables(store: Any) -> set[tuple[str, str]]:
    """(table, event) pairs that have a data-version trigger, as the database lists them."""
    with store.engine.connect() as conn:
        if store.is_sqlite:
            names = conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                      "AND name LIKE 'data_version_%'")).all()
            found = set()
            for name in names:
                table, event = name.removeprefix("data_version_").rsplit("_", 1)
                found.add((table, event.upper()))
            return found
        rows = conn.execute(text(
            "SELECT event_object_table, event_manipulation FROM information_schema.triggers "
            "WHERE trigger_name LIKE 'data_version%'")).all()
        return {(t, e) for t, e in rows}
