"""Choice widgets with Danish texts only.

Streamlit's own texts are English: a searchable selectbox shows "No results" for
a search without matches, and a multiselect offers "Select all" and shows "No
results" once everything is chosen. Selectboxes here are not searchable and
carry a Danish placeholder; choices of several are pills, which have no text of
their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st


def select(label: str, options: Sequence[Any], *, key: str, where: Any = st,
           format_func: Callable[[Any], str] = str, index: int | None = 0,
           placeholder: str = "Vælg …", **kwargs: Any) -> Any:
    """A selectbox without English texts (no search box, Danish placeholder)."""
    return where.selectbox(label, options, index=index, format_func=format_func, key=key,
                           placeholder=placeholder, filter_mode=None, **kwargs)


def pick_many(label: str, options: Sequence[Any], *, key: str, where: Any = st,
              format_func: Callable[[Any], str] = str, default: Sequence[Any] | None = None,
              **kwargs: Any) -> list[Any]:
    """Several choices as pills (nothing chosen = no filter, as the caller decides)."""
    return list(where.pills(label, options, selection_mode="multi", format_func=format_func,
                            key=key, default=default, **kwargs) or [])
