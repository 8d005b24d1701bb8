"""Storage: the only package that talks to the database.

:class:`Store` opens (and migrates) a database and offers the reads and writes
the rest of evaltool needs; SQL never appears outside this package.
"""

from __future__ import annotations

from evaltool.store.documents import DocumentWriter
from evaltool.store.store import Store, open_store

__all__ = ["DocumentWriter", "Store", "open_store"]
