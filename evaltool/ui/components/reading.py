"""The reading view's component: a transcript as continuous text that reports selections.

The frontend is ``static/reading/`` (plain HTML/JS/CSS, served by Streamlit from that
folder); its file header documents the arguments it draws and the events it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

STATIC = Path(__file__).parent / "static" / "reading"
_component = components.declare_component("evaltool_reading", path=str(STATIC))


def reading_text(view: dict[str, Any], *, key: str,
                 on_event: Callable[[], None] | None = None) -> dict[str, Any] | None:
    """Draw the transcript (``view``: turns, marks, chosen; see reader.view_args) and return
    the coder's last event (a selection, a clicked code, a key), or None before the first."""
    return _component(turns=view["turns"], marks=view["marks"], chosen=view["chosen"],
                      words=view.get("words", {}), key=key, default=None, on_change=on_event)
