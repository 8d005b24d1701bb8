"""Resources shared by all sessions, created once per process and cached."""

from __future__ import annotations

import streamlit as st

from evaltool.store import Store, open_store


@st.cache_resource(show_spinner=False)
def get_store() -> Store:
    """The database named by EVALTOOL_DB (migrated on first use)."""
    return open_store()
