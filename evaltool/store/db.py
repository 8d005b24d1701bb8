"""Engine, migrations and transactions: the one place that opens the database.

SQLite is the embedded default (WAL journal, foreign keys on, a busy timeout so
that a second writer waits instead of failing); any SQLAlchemy URL works through
the same code, PostgreSQL included. The schema is created and upgraded by
Alembic migrations; a SQLite file is copied to ``<file>.bak`` before an upgrade.
"""

from __future__ import annotations

import functools
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from evaltool import outfile
from evaltool.errors import FaultError, StoreError, as_fault

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
        backend = parsed.get_backend_name()
    except (ArgumentError, ValueError) as exc:  # the URL itself is not echoed: it may hold a password
        raise FaultError("bad_url", type(exc).__name__) from None
    if backend == "sqlite":
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
    except (ArgumentError, ValueError, TypeError) as exc:  # unknown dialect, bad query options
        raise FaultError("bad_url", type(exc).__name__, label(url)) from None
    except ModuleNotFoundError as exc:
        raise StoreError(f"database driver missing for {parsed.drivername}: {exc.name} "
                         "(for PostgreSQL: pip install 'evaltool[postgres]')") from None


def label(url: str) -> str | None:
    """How messages name a database: the file of a SQLite URL, else the URL without its
    password (None when ``url`` cannot be parsed)."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return parsed.database or ":memory:"
        return parsed.render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return None


def known_revisions() -> set[str]:
    """Every revision id these migrations know."""
    return {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


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
    if outfile.target(target).resolve() == Path(source).resolve():
        raise StoreError(f"{target}: is the database itself; choose another file")
    with outfile.replacing(target) as tmp:
        try:
            _online_copy(sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000), tmp)
        except sqlite3.Error as exc:  # the copy's disk full or read-only: name the copy
            fault = as_fault(exc, str(target))
            if fault.kind not in ("disk_full", "io", "read_only", "permission", "cannot_open"):
                fault.where = label(engine.url.render_as_string(hide_password=False))
            raise fault from None


SQLITE_MAGIC = b"SQLite format 3\x00"


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                           timeout=BUSY_TIMEOUT_MS / 1000)


def backup_revision(path: Path) -> str:
    """The schema revision of an evaltool SQLite backup file, after checking it whole.

    :class:`StoreError` when the file is missing or not a regular file (a FIFO or a
    device would block or never end), not SQLite, damaged (``PRAGMA integrity_check``),
    not an evaltool database, made by a newer evaltool (a revision these migrations do
    not know), missing tables or columns of its revision, or holding rows that point at
    missing rows (``PRAGMA foreign_key_check``).
    """
    path = Path(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise FaultError("not_regular", None, str(path))
        with path.open("rb") as fh:
            magic = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read ({exc.strerror})") from None
    if magic != SQLITE_MAGIC:
        raise StoreError(f"{path}: not an SQLite database")
    con = _read_only(path)
    try:
        if con.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise StoreError(f"{path}: damaged database (integrity check failed)")
        try:
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None:
            raise StoreError(f"{path}: not an evaltool database (no schema version)")
        if row[0] not in known_revisions():
            raise StoreError(f"{path}: its schema is newer than this evaltool knows (newest "
                             f"{head_revision()}); upgrade evaltool to restore it")
        missing = _missing_schema(con, row[0])
        if missing:
            raise StoreError(f"{path}: not a complete evaltool database (schema {row[0]} lacks "
                             f"{', '.join(missing[:5])}{' …' if len(missing) > 5 else ''})")
        if con.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise StoreError(f"{path}: damaged database (rows point at missing rows)")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: unreadable database ({exc.__class__.__name__})") from None
    finally:
        con.close()
    return row[0]


def _columns(con: sqlite3.Connection) -> dict[str, set[str]]:
    """Tables and their columns of an SQLite database."""
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {t: {r[1] for r in con.execute("SELECT * FROM pragma_table_info(?)", (t,))}
            for t in tables}


@functools.cache
def expected_schema(revision: str) -> dict[str, frozenset[str]]:
    """Tables and columns of a database at ``revision``, made by running the migrations
    into a scratch database."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'schema.db'}")
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), revision)
            with closing(sqlite3.connect(Path(tmp) / "schema.db")) as con:
                return {t: frozenset(c) for t, c in _columns(con).items()}
        finally:
            engine.dispose()


def _missing_schema(con: sqlite3.Connection, revision: str) -> list[str]:
    """Tables (``name``) and columns (``table.column``) that ``revision`` has and ``con`` lacks."""
    have = _columns(con)
    missing = []
    for table, columns in sorted(expected_schema(revision).items()):
        if table not in have:
            missing.append(table)
        else:
            missing.extend(f"{table}.{c}" for c in sorted(columns - have[table]))
    return missing


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
    where = label(engine.url.render_as_string(hide_password=False))
    try:
        before = current_revision(engine)
    except (DBAPIError, sqlite3.Error) as exc:
        raise as_fault(exc, where) from None
    head = head_revision()
    if before == head:
        return before, head
    if before is not None and before not in known_revisions():
        raise FaultError("newer_schema", "CommandError", where)
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
