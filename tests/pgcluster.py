"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temp cluster on a
free localhost port, trust authentication, removed at the end.

Used by the ``postgres_server`` fixture in ``conftest.py``. Every failure to get a
server is a :class:`PgUnavailable` whose message says why, so the tests that need
it skip with that reason instead of failing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

SUPERUSER = "evaltool"
# Durability is pointless for a cluster that is deleted after the run; these make it fast.
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class PgUnavailable(Exception):
    """No PostgreSQL server can be had here (the message says why)."""


def find_bin() -> Path:
    """The newest Debian PostgreSQL ``bin`` folder with initdb and pg_ctl."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
             if (Path(p).parent / "pg_ctl").exists()]
    if not found:
        raise PgUnavailable("PostgreSQL binaries not found in /usr/lib/postgresql/*/bin "
                            "(apt-get install postgresql, or run `make test` as root)")

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))

    return max(found, key=version)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """initdb + pg_ctl in a temp folder; as root the server runs as the ``postgres`` user,
    because initdb and postgres refuse to run as root."""

    def __init__(self) -> None:
        self.bin = find_bin()
        self.run_as: list[str] = []
        self.owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PgUnavailable("running as root and there is no `postgres` system user "
                                    "to run the server as") from None
            runuser = shutil.which("runuser")
            self.run_as = ([runuser, "-u", "postgres", "--"] if runuser
                           else ["su", "postgres", "-s", "/bin/sh", "-c"])
        # /tmp rather than pytest's tmp dir: that one is private to root, and the
        # postgres user must be able to reach its data folder and socket.
        self.root = Path(tempfile.mkdtemp(prefix="evaltool-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self.started = False
        if self.owner is not None:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.run_as and self.run_as[0] == "su":
            cmd = [*self.run_as, " ".join(_quote(a) for a in cmd)]
        else:
            cmd = [*self.run_as, *cmd]
        return subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, timeout=timeout)

    def start(self) -> None:
        """initdb, then start on a free port listening on 127.0.0.1 and a socket in the folder."""
        done = self._run(self.bin / "initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust",
                         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        if done.returncode != 0:
            raise PgUnavailable(f"initdb failed: {_tail(done.stderr or done.stdout)}")
        last = ""
        for _ in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                       f"-c max_connections=50 {FAST}")
            done = self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w",
                             "-t", "60", "-o", options, "start")
            if done.returncode == 0:
                self.started = True
                return
            last = _tail(self.log.read_text(errors="replace") if self.log.exists() else done.stderr)
        raise PgUnavailable(f"PostgreSQL did not start: {last}")

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database`, closing its sessions."""
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server and remove the cluster."""
        if self.started:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in (text or "").strip().splitlines()[-lines:])


@contextlib.contextmanager
def cluster():
    """A started :class:`PgCluster`, stopped and removed afterwards."""
    try:
        import psycopg  # noqa: F401  (the driver the URLs name)
    except ImportError:
        raise PgUnavailable("psycopg is not installed (pip install 'evaltool[postgres]')") from None
    server = PgCluster()
    try:
        server.start()
        yield server
    finally:
        server.stop()
