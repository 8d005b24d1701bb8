"""Live updates on a team server: every few seconds a fragment asks the store for its data
version and reruns the app when someone changed something, so a decision by one coder
appears in the other signed-in sessions without a reload.

The poll is one cheap query (``Store.data_version``) and draws nothing; when nothing changed
it reruns nothing. A rerun it causes is not the person's activity (sessions still expire).
It also notices an expired session and reruns, so the sign-in page replaces the page.
"""

from __future__ import annotations

import os
from datetime import timedelta

import streamlit as st

from evaltool.ui import auth, state

SEEN = "live_version"  # the data version the page on screen was drawn from
CAUSED = "live_caused"  # set when the poll asked for the rerun now running
INTERVAL_ENV = "EVALTOOL_LIVE_SECONDS"
DEFAULT_SECONDS = 3.0


def interval() -> float | None:
    """Seconds between polls (``EVALTOOL_LIVE_SECONDS``; 0 switches live updates off)."""
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    try:
        seconds = float(raw) if raw else DEFAULT_SECONDS
    except ValueError:
        seconds = DEFAULT_SECONDS
    return seconds if seconds > 0 else None


def active_run() -> bool:
    """False for a rerun the poll caused (not the person's doing); call once per run."""
    return not st.session_state.pop(CAUSED, False)


EVERY = interval()


def watch() -> None:
    """Start (or keep) this session's poll; call on every full run of a signed-in session."""
    if EVERY is None:
        return
    st.session_state[SEEN] = None  # the full run now drawing the page sets the version
    _poll()


@st.fragment(run_every=timedelta(seconds=EVERY or DEFAULT_SECONDS))
def _poll() -> None:
    """Rerun the app when the data changed since the page was drawn (or the session expired)."""
    version = state.data_version()
    seen = st.session_state.get(SEEN)
    if seen is None:  # drawn in this full run: the page shows this version
        st.session_state[SEEN] = version
        return
    if version != seen or auth.expired():
        st.session_state[CAUSED] = True
        st.rerun()
