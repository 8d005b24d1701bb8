"""Engine, migrations and transactions: the one place that opens the database.

SQLite is the embedded default (WAL journal, foreign keys on, a busy timeout so
that a second writer waits instead of failing); any SQLAlchemy URL works through
the same code, PostgreSQL included. The schema is created and upgraded by
Alembic migrations; a SQLite file is copied to ``<file>.bak`` before an upgrade.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from evaltool.errors import StoreError

BUSY_TIMEOUT_MS = 30_000
MMAP_BYTES = 256 * 1024 * 1024


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    """Per-connection SQLite settings: WAL, foreign keys, wait for locks.

    The driver's own transaction handling is switched off (``isolation_level =
    None``) so that :func:`_sqlite_begin` decides how a transaction begins; see
    https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    """
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Reads through a memory map instead of a read() call per page: the dashboard's
    # aggregations touch tens of thousands of pages (100 k segments: ~85 -> ~71 ms).
    # Writes still go through the WAL; only pages read count in the process's memory.
    cur.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    """Writes take the write lock up front (``BEGIN IMMEDIATE``): two writers then
    queue on the busy timeout instead of one failing with "database is locked"
    when it upgrades a read lock."""
    immediate = conn.get_execution_options().get("evaltool_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with evaltool's connection settings."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"invalid database URL {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            folder = Path(db).parent
            if not folder.is_dir():
                raise StoreError(f"{db}: folder {folder} does not exist")
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise StoreError(f"database driver missing for {parsed.drivername}: {exc.name} "
                         "(for PostgreSQL: pip install 'evaltool[postgres]')") from None


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", "evaltool.store:migrations")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return head or "base"


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _online_copy(src: sqlite3.Connection, target: Path) -> None:
    """Copy the database open in ``src`` into ``target`` with SQLite's online backup API
    (a consistent snapshot even while others write), closing both connections."""
    with closing(src), closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000)) as dst:
        src.backup(dst)


def backup_sqlite(engine: Engine, target: Path) -> None:
    """Consistent copy of a live SQLite database via SQLite's online backup API.

    The copy is made in one backup step, i.e. inside one read transaction: in WAL
    mode writers go on meanwhile, and the copy holds exactly the transactions
    committed when it began (https://www.sqlite.org/backup.html).
    """
    source = engine.url.database
    if not source or source == ":memory:":
        raise StoreError("backup needs a file database")
    target = Path(target)
    if target.is_dir():
        raise StoreError(f"{target}: is a folder; give a file name for the backup")
    if not target.parent.is_dir():
        raise StoreError(f"{target}: folder {target.parent} does not exist")
    if target.resolve() == Path(source).resolve():
        raise StoreError(f"{target}: is the database itself; choose another file")
    tmp = target.with_name(target.name + ".tmp")
    _online_copy(sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000), tmp)
    tmp.replace(target)


SQLITE_MAGIC = b"SQLite format 3\x00"


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                           timeout=BUSY_TIMEOUT_MS / 1000)


def backup_revision(path: Path) -> str:
    """The schema revision of an evaltool SQLite backup file.

    :class:`StoreError` when the file is missing, not SQLite, damaged, not an
    evaltool database, or made by a newer evaltool (a revision these migrations
    do not know).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            magic = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read ({exc.strerror})") from None
    if magic != SQLITE_MAGIC:
        raise StoreError(f"{path}: not an SQLite database")
    con = _read_only(path)
    try:
        if con.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise StoreError(f"{path}: damaged database (integrity check failed)")
        try:
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            row = None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: unreadable database ({exc.__class__.__name__})") from None
    finally:
        con.close()
    if row is None:
        raise StoreError(f"{path}: not an evaltool database (no schema version)")
    known = {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if row[0] not in known:
        raise StoreError(f"{path}: schema {row[0]} is newer than this evaltool knows (newest "
                         f"{head_revision()}); upgrade evaltool to restore it")
    return row[0]


def restore_sqlite(engine: Engine, source: Path) -> Path:
    """Replace the live SQLite database with ``source``; return the copy kept of the old one.

    The old database is first copied to ``<db>.before-restore``. The new content is
    written with the online backup API into the live file, as one write
    transaction: connections that have the file open see the old or the new
    database, never a torn file (replacing the file would leave them on the old
    inode, and copying bytes over it could corrupt it under them).
    """
    live = engine.url.database
    if not live or live == ":memory:":
        raise StoreError("restore needs a file database")
    source = Path(source)
    if source.resolve() == Path(live).resolve():
        raise StoreError(f"{source}: is the database itself")
    kept = Path(live + ".before-restore")
    backup_sqlite(engine, kept)
    engine.dispose()  # pooled connections reopen on the restored content
    _online_copy(_read_only(source), Path(live))
    return kept


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; return (before, after)."""
    try:
        before = current_revision(engine)
    except OperationalError as exc:
        raise StoreError(f"cannot open database {engine.url!r}: {exc.orig}") from None
    head = head_revision()
    if before == head:
        return before, head
    if before is None and inspect(engine).get_table_names():
        raise StoreError(f"{engine.url.database or engine.url}: not an evaltool database "
                         "(it has tables but no schema version)")
    sqlite = engine.url.get_backend_name() == "sqlite"
    if before is not None and sqlite and engine.url.database:
        backup_sqlite(engine, Path(engine.url.database + ".bak"))
    with engine.connect() as conn:
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign keys
            # on, that drop would cascade to every row that references the table (codes of a
            # codebook, turns of a document ...). So they are off while migrating (possible
            # only outside a transaction) and checked before the upgrade commits.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                command.upgrade(alembic_config(conn), "head")
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise StoreError(f"{engine.url.database}: upgrade left rows pointing at missing "
                                     "rows; nothing was changed")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
    return before, head


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One unit of work: committed at the end, rolled back on any error."""
    with engine.begin() as conn:
        yield conn
