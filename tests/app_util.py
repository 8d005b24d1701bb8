"""Driving the Streamlit app in tests (streamlit.testing's AppTest); the database is the
``app_db`` fixture in conftest.py."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).parent.parent
PAGES = "evaltool/ui/pages/"


def start(coder: str | None = "Åse") -> AppTest:
    """Run the app and choose a coder in the sidebar."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if coder:
        at.sidebar.selectbox(key="coder_choice").select("Ny koder…").run()
        at.sidebar.text_input(key="coder_new").input(coder).run()
    return at


def open_page(at: AppTest, name: str) -> AppTest:
    """Switch to a page (a file in evaltool/ui/pages) and check that it ran cleanly."""
    at.switch_page(PAGES + name).run()
    assert not at.exception, [e.value for e in at.exception]
    return at
