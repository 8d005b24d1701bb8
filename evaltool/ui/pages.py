"""Pages of the app. Transcript text is always shown as plain text (never HTML/Markdown)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from evaltool.ui.state import get_store


def _time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def documents_page() -> None:
    """List documents and show a chosen document's turns."""
    store = get_store()
    st.title("Dokumenter")
    docs = store.list_documents()
    if not docs:
        st.info("Ingen dokumenter endnu. Importér med `evaltool ingest STI`.")
        return
    st.dataframe(
        pd.DataFrame([{"Id": d.id, "Dokument": d.name, "Sted": d.site, "Dato": d.date,
                       "Talere": d.speakers, "Ture": d.turns, "Sætninger": d.segments}
                      for d in docs]),
        hide_index=True, use_container_width=True,
    )
    choice = st.selectbox("Vis dokument", docs, format_func=lambda d: f"{d.site} – {d.name}",
                          key="docs_choice")
    turns = store.turns(choice.id)
    st.dataframe(
        pd.DataFrame([{"Tur": t.number, "Tid": _time(t.start_time), "Taler": t.speaker,
                       "Rolle": t.role or "", "Tekst": t.text} for t in turns]),
        hide_index=True, use_container_width=True,
    )
