"""Matricer: codes against codes or cases, as a heatmap and a table, with the quotes behind a cell."""

from __future__ import annotations

import altair as alt
import streamlit as st

from evaltool import analysis
from evaltool.export import neutralise_frame
from evaltool.ui import filters, state
from evaltool.ui.codes import code_labels
from evaltool.ui.text import STATUS, attribute_name, count, md
from evaltool.ui.widgets import pick_many, select

KEY = "mat_"
COLUMNS = {"code": "Koder (samforekomst)", "site": "Sted", "role": "Rolle",
           "document": "Dokument", "target_group": "Målgruppe (talerens, ellers dokumentets)"}
UNITS = {"segment": "Sætning", "turn": "Tur"}


@st.cache_data(show_spinner=False)
def _matrix(version: tuple, cols: str, unit: str, window: int, statuses: tuple[str, ...],
            chosen: tuple = ()):
    """The matrix (cached per data version and choice; ``chosen``: attribute filter)."""
    scope = filters.scope(chosen=chosen)
    return state.get_store().matrix(cols, unit=unit, window=window, statuses=statuses,
                                    documents=scope.documents or (), speakers=scope.speakers)


def _choices() -> dict:
    """The matrix's columns, unit, window, normalisation and statuses."""
    c1, c2, c3, c4 = st.columns(4)
    found = filters.choices(state.data_version())
    names = {**COLUMNS,
             **{f"attr:{k}": f"Dokumentattribut: {attribute_name(k)}"
                for level, k in found if level == "document"},
             **{f"speaker:{k}": f"Talerattribut: {attribute_name(k)}"
                for level, k in found if level == "speaker"}}
    cols = select("Kolonner", list(names), format_func=names.get, key=f"{KEY}cols", where=c1)
    unit = select("Enhed", list(UNITS), format_func=UNITS.get, key=f"{KEY}unit", where=c2)
    window = 0
    if cols == "code" and unit == "turn":
        window = int(c3.number_input("Inden for antal ture", 0, 20, 0, key=f"{KEY}window"))
    jaccard = c4.toggle("Jaccard (andel)", key=f"{KEY}jaccard")
    f1, f2, f3 = st.columns([2, 1.2, 1.2])
    statuses = pick_many("Status", list(STATUS), default=["accepted"], format_func=STATUS.get,
                         key=f"{KEY}status", where=f1) or ["accepted"]
    chosen = filters.attribute_filter(KEY, f2, f3)
    return {"cols": cols, "unit": unit, "window": window, "jaccard": jaccard,
            "statuses": tuple(statuses), "chosen": chosen}


def _shown(frame, labels: dict[str, str], codes_as_columns: bool):
    """The frame as the page shows it: codes by their name in the hierarchy, Danish heading
    (the CSV download keeps the keys, as `evaltool matrix` writes them)."""
    shown = frame.rename(index=lambda k: labels.get(k, k))
    if codes_as_columns:
        shown = shown.rename(columns=lambda k: labels.get(k, k))
    shown.index.name = "Kode"
    return shown


def _heatmap(frame) -> alt.Chart:
    """Rows × columns coloured by value (rows in the frame's order)."""
    long = frame.reset_index().melt(id_vars="Kode", var_name="kolonne", value_name="værdi")
    return (alt.Chart(long).mark_rect()
            .encode(x=alt.X("kolonne:N", title=None, sort=list(frame.columns)),
                    y=alt.Y("Kode:N", title="Kode", sort=list(frame.index)),
                    color=alt.Color("værdi:Q", title="Værdi"),
                    tooltip=["Kode", "kolonne", "værdi"]))


def page() -> None:
    """The Matricer page."""
    st.title("Matricer")
    chosen = _choices()
    scope = filters.scope(chosen=chosen["chosen"])
    if scope.documents == ():
        st.info("Ingen citater med det valgte attributfilter.")
        return
    m = _matrix(state.data_version(), chosen["cols"], chosen["unit"], chosen["window"],
                chosen["statuses"], chosen["chosen"])
    if not m.rows:
        st.info("Ingen kodninger med den valgte status endnu.")
        return
    frame = analysis.matrix_frame(m, "jaccard" if chosen["jaccard"] else None)
    labels = code_labels(state.get_store().codes())  # Forælder › Barn
    shown = _shown(frame, labels, chosen["cols"] == "code")
    st.altair_chart(_heatmap(shown), use_container_width=True)
    st.dataframe(shown, use_container_width=True)
    st.download_button("Hent matricen (CSV)", key=f"{KEY}csv", file_name="matrix.csv",
                       mime="text/csv",
                       data=neutralise_frame(frame.reset_index()).to_csv(index=False)
                       .encode("utf-8"))
    st.subheader("Citater bag en celle")
    c1, c2 = st.columns(2)
    row = select("Kode", list(m.rows), key=f"{KEY}row", where=c1,
                 format_func=lambda k: labels.get(k, k))
    col = select("Kolonne", list(m.cols), key=f"{KEY}col", where=c2)
    quotes = analysis.matrix_quotes(state.get_store(), m, row, col, chosen["statuses"],
                                    scope=scope)
    st.caption(count(len(quotes), "citat", "citater"))
    for q in quotes:
        st.markdown(f"»{md(q.text)}«")
        st.caption(f"{md(q.document)} · tur {q.turn} · {md(q.speaker)}")


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
