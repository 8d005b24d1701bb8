"""Attributter: edit a document's attributes and its speakers' (cases for filters and matrices)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd
import streamlit as st

from evaltool.attributes import display
from evaltool.ui import state
from evaltool.ui.text import attribute_name, count, md
from evaltool.ui.widgets import select

KEY = "attr_"
# always offered, even when empty: the keys filters and the target-group rule use most
DOCUMENT_KEYS = ("site", "date", "target_groups")
SPEAKER_KEYS = ("role", "target_group")
READ_ONLY = "Projektleder-visningen er kun til læsning; attributter kan ikke ændres her."
MANAGED = "Attributter ændres af en administrator; din konto kan læse dem."


def _save(document_id: int, speaker: str | None, before: dict[str, Any], prefix: str) -> None:
    """Save what is typed in the form now (with or without Enter): a changed value is set,
    an emptied one removed, a new key added; all in one transaction."""
    if state.lead_mode():
        state.flash("error", READ_ONLY)
        return
    typed = {k: (st.session_state.get(f"{prefix}v_{k}") or "").strip() for k in before}
    values = {k: v for k, v in typed.items() if v and v != display(before[k])}
    unset = [k for k, v in typed.items() if not v and before[k] not in (None, "", [])]
    new_key = (st.session_state.get(f"{prefix}newkey") or "").strip()
    new_value = (st.session_state.get(f"{prefix}newvalue") or "").strip()
    if new_key or new_value:
        if not new_key or not new_value:
            state.flash("warning", "Skriv både en nøgle og en værdi for den nye attribut.")
            return
        values[new_key] = new_value
    if not values and not unset:
        state.flash("info", "Ingen ændringer at gemme.")
        return
    if not state.attempt(lambda: state.get_store().set_attributes(
            document_id, values, unset=unset, speaker=speaker, actor=state.coder())):
        return
    who = f"taleren {md(speaker)}" if speaker else "dokumentet"
    state.flash("success", f"Gemt for {who}: {count(len(values), 'attribut sat', 'attributter sat')}"
                           f", {count(len(unset), 'fjernet', 'fjernet')}.")


def _form(document_id: int, speaker: str | None, current: dict[str, Any], always: tuple[str, ...],
          read_only: bool) -> None:
    """One form: a box per attribute (empty = remove it) and a new key with its value."""
    shown = {**dict.fromkeys(always), **current}
    # the values in the keys: after a save the boxes show what is stored now
    digest = hashlib.sha1(json.dumps([speaker, current], sort_keys=True, default=str)
                          .encode()).hexdigest()[:10]
    prefix = f"{KEY}{document_id}_{digest}_"
    with st.form(f"{prefix}form", border=True):
        cols = st.columns(2)
        for i, (key, value) in enumerate(shown.items()):
            cols[i % 2].text_input(attribute_name(key), value=display(value),
                                   key=f"{prefix}v_{key}", disabled=read_only,
                                   help="Tom værdi fjerner attributten. Målgrupper adskilles "
                                        "med komma." if key.startswith("target_group") else
                                   "Tom værdi fjerner attributten.")
        new = st.columns(2)
        new[0].text_input("Ny nøgle", key=f"{prefix}newkey", disabled=read_only,
                          placeholder="fx gender eller age_band")
        new[1].text_input("Værdi", key=f"{prefix}newvalue", disabled=read_only)
        st.form_submit_button("Gem", on_click=_save, disabled=read_only,
                              args=(document_id, speaker, shown, prefix))


def page() -> None:
    """The Attributter page."""
    st.title("Attributter")
    state.show_flash()
    store = state.get_store()
    docs = store.document_facets()
    if not docs:
        st.info("Ingen dokumenter endnu. Importér transskriptioner på siden Import.")
        return
    read_only = not state.may_manage()
    if read_only:
        st.info(READ_ONLY if state.lead_mode() else MANAGED)
    st.caption("Et citats målgruppe er talerens, når taleren har en; ellers dokumentets. "
               "Alle filtre (Kodning, Dashboard, Eksport, Matricer) kan bruge attributterne.")
    doc = select("Dokument", docs, format_func=lambda d: f"{d.site or '?'} – {d.name}",
                 key=f"{KEY}doc")
    st.subheader("Dokumentets attributter")
    _form(doc.id, None, store.attributes(doc.id), DOCUMENT_KEYS, read_only)
    st.subheader("Talernes attributter")
    speakers = store.speaker_facets(doc.id)
    if not speakers:
        st.caption("Dokumentet har ingen talere.")
        return
    keys = sorted({k for s in speakers for k in s.attributes} | set(SPEAKER_KEYS))
    overview = pd.DataFrame([{"Taler": s.name, **{attribute_name(k): display(s.attributes.get(k))
                                                   for k in keys}} for s in speakers])
    st.dataframe(overview, hide_index=True, width="stretch")
    names = [s.name for s in speakers]
    name = select("Taler", names, key=f"{KEY}speaker{doc.id}")
    chosen = next(s for s in speakers if s.name == name)
    _form(doc.id, name, chosen.attributes, SPEAKER_KEYS, read_only)
    _history(doc.id)


def _history(document_id: int) -> None:
    """Who changed which attribute of the document and its speakers, newest first."""
    changes = state.get_store().attribute_history(document_id, limit=30)
    with st.expander(f"Ændringer ({count(len(changes), 'seneste', 'seneste')})"):
        if not changes:
            st.caption("Ingen ændringer endnu.")
        for c in changes:
            who = md(c.speaker) if c.speaker else "dokumentet"
            st.caption(f"{c.at:%d.%m.%Y %H:%M} · {md(c.coder or 'ukendt')} · {who} · "
                       f"{md(attribute_name(c.key))}: {md(display(c.before) or '—')} → "
                       f"{md(display(c.after) or '—')}")


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
