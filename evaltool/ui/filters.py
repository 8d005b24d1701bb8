"""The attribute filter every page shares: a document or speaker attribute and one value."""

from __future__ import annotations

from typing import Any

import streamlit as st

from evaltool import attributes
from evaltool.attributes import AttributeFilter, Scope
from evaltool.ui import state
from evaltool.ui.text import LEVEL, attribute_name
from evaltool.ui.widgets import select

Choice = tuple[str, str, str]  # (level, key, value): plain values, hashable for st.cache_data


@st.cache_data(show_spinner=False, max_entries=4)
def choices(version: tuple) -> dict[tuple[str, str], list[str]]:
    """(level, key) → values present, per data version (a change shows at the next render)."""
    store = state.get_store()
    return attributes.filter_choices(store.document_facets(), store.speaker_facets())


@st.cache_data(show_spinner=False, max_entries=16)
def _scope(version: tuple, site: str | None, target_group: str | None,
           chosen: tuple[Choice, ...]) -> Scope:
    return attributes.scope(state.get_store(), site=site, target_group=target_group,
                            filters=as_filters(chosen))


def scope(site: str | None = None, target_group: str | None = None,
          chosen: tuple[Choice, ...] = ()) -> Scope:
    """The quotes left by the filters, cached per data version."""
    return _scope(state.data_version(), site, target_group, chosen)


def as_filters(chosen: tuple[Choice, ...]) -> list[AttributeFilter]:
    """The chosen (level, key, value) triples as filters."""
    return [AttributeFilter(*c) for c in chosen]


def _label(item: Any) -> str:
    if item is None:
        return "Ingen"
    level, key = item
    return f"{LEVEL.get(level, level)} · {attribute_name(key)}"


def attribute_filter(prefix: str, key_where: Any = st, value_where: Any = st
                     ) -> tuple[Choice, ...]:
    """An 'Attribut' box (document or speaker attribute) and a 'Værdi' box; () if none."""
    found = choices(state.data_version())
    chosen = select("Attribut", [None, *found], format_func=_label, key=f"{prefix}attr",
                    where=key_where)
    if chosen is None or chosen not in found:
        return ()
    level, key = chosen
    value = select("Værdi", found[chosen], key=f"{prefix}attrval_{level}_{key}",
                   where=value_where)
    return ((level, key, value),) if value else ()
