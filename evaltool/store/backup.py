"""Restoring a SQLite database from a file made by ``evaltool backup``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaltool.domain import Permission
from evaltool.errors import StoreError
from evaltool.store import db
from evaltool.store.access import guarded


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did."""

    source: Path
    kept: Path  # the database as it was before, <db>.before-restore
    revision: str  # schema revision of the backup
    upgraded_to: str | None  # newest revision, when the backup's schema was upgraded


class BackupOps:
    """Restore of :class:`~evaltool.store.Store` (mixed in; backup is on the Store)."""

    engine: Any

    @guarded(Permission.manage)
    def restore(self, source: str | Path) -> RestoreReport:
        """Replace this SQLite database with the backup ``source``.

        Refused (nothing changed) when ``source`` is not an evaltool database or has a
        newer schema than this code; an older schema is upgraded after the copy.
        """
        if self.engine.url.get_backend_name() != "sqlite":
            raise StoreError("restore works on SQLite databases; use pg_restore for PostgreSQL")
        source = Path(source)
        revision = db.backup_revision(source)
        (seen,) = self.data_version()
        kept = db.restore_sqlite(self.engine, source)
        before, after = db.migrate(self.engine)
        with self.write() as conn:  # the backup's older count must not repeat a cached one
            self._move_version_past(conn, seen)
        return RestoreReport(source, kept, revision, after if before != after else None)
