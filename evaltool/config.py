"""Settings read from the environment, in one place.

- ``EVALTOOL_DB``: a file path (SQLite) or an SQLAlchemy URL; default ``evaltool.db``.
- ``EVALTOOL_SPACY_MODEL``: spaCy pipeline name; default ``da_core_news_sm`` when
  installed, else the stand-in ``da_ddt_sm``.
- ``EVALTOOL_SESSION_IDLE_MINUTES``: minutes of inactivity after which a signed-in
  session expires (team server); default 30.
- ``EVALTOOL_WHEELHOUSE``: folder of model wheels used by ``evaltool model install``;
  default ``../shared/wheels``.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "evaltool.db"
PREFERRED_MODEL = "da_core_news_sm"
FALLBACK_MODEL = "da_ddt_sm"
DEFAULT_WHEELHOUSE = "../shared/wheels"
DEFAULT_IDLE_MINUTES = 30


def db_url(value: str | None = None) -> str:
    """Return an SQLAlchemy URL for a path or URL (or ``EVALTOOL_DB``)."""
    raw = value or os.environ.get("EVALTOOL_DB") or DEFAULT_DB
    if "://" in raw:
        return raw
    return f"sqlite:///{Path(raw).expanduser().resolve()}"


def wheelhouse() -> Path:
    """Folder that may hold a model wheel for offline installs."""
    return Path(os.environ.get("EVALTOOL_WHEELHOUSE") or DEFAULT_WHEELHOUSE).expanduser()


def model_override() -> str | None:
    """Model name forced by ``EVALTOOL_SPACY_MODEL``, if any."""
    return os.environ.get("EVALTOOL_SPACY_MODEL") or None


def session_idle_minutes() -> int:
    """Minutes of inactivity before a signed-in session expires (``EVALTOOL_SESSION_IDLE_MINUTES``)."""
    raw = os.environ.get("EVALTOOL_SESSION_IDLE_MINUTES", "").strip()
    try:
        value = int(raw) if raw else DEFAULT_IDLE_MINUTES
    except ValueError:
        value = DEFAULT_IDLE_MINUTES
    return value if value > 0 else DEFAULT_IDLE_MINUTES
