"""App shell: page config, database connection and navigation."""

from __future__ import annotations

import streamlit as st

from evaltool.ui import pages


def run() -> None:
    """Build the app: one navigation entry per page."""
    st.set_page_config(page_title="evaltool", page_icon="🔎", layout="wide")
    nav = st.navigation([
        st.Page(pages.documents_page, title="Dokumenter", url_path="dokumenter", default=True),
    ])
    nav.run()
