"""Eksport: the CLI's export with the same filters, a preview, and downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from evaltool import export, nlp
from evaltool.analysis import filter_options
from evaltool.errors import EvaltoolError
from evaltool.ui import state
from evaltool.ui.text import STATUS, number

KEY = "eks_"


@st.cache_data(show_spinner=False, max_entries=8)
def _frame(_version: tuple, status: str, theme: str | None, site: str | None, code: str | None,
           unit: str, pseudonymize: bool):
    """The export table (cached until the data changes)."""
    store = state.get_store()
    hook = None
    if pseudonymize:
        from evaltool.pseudonymize import export_hook

        hook = export_hook(store, lambda: nlp.load("ner"))
    return export.build_frame(store, status=status, theme=theme, site=site, code=code, unit=unit,
                              pseudonyms=hook)


def _file(frame, fmt: str, dialect: str | None):
    """The download's contents, made only when the button is clicked (an XLSX of a large
    table takes seconds; rendering the page must not pay for three files each time)."""
    return lambda: _bytes(frame, fmt, dialect)


def _bytes(frame, fmt: str, dialect: str | None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"eksport.{fmt}"
        export.write(frame, path, fmt, dialect)
        return path.read_bytes()


def page() -> None:
    """The Eksport page."""
    st.title("Eksport")
    store = state.get_store()
    try:
        codes = store.codes()
    except EvaltoolError as exc:
        st.info(str(exc))
        return
    options = filter_options(store)
    c = st.columns([1.2, 1, 1.4, 2, 1, 1.4])
    status = c[0].selectbox("Status", ["accepted", "suggested", "rejected", "all"],
                            format_func=lambda s: STATUS.get(s, "Alle"), key=f"{KEY}status")
    themes = sorted({t for code in codes for t in code.themes})
    theme = c[1].selectbox("Tema", [None, *themes], format_func=lambda t: t or "Alle",
                           key=f"{KEY}theme")
    site = c[2].selectbox("Sted", [None, *options["sites"]], format_func=lambda s: s or "Alle",
                          key=f"{KEY}site")
    labels = {code.key: code.label for code in codes}
    code = c[3].selectbox("Kode", [None, *labels], format_func=lambda k: labels.get(k, "Alle"),
                          key=f"{KEY}code")
    unit = c[4].selectbox("Enhed", ["segment", "turn"],
                          format_func={"segment": "Sætning", "turn": "Tur"}.get, key=f"{KEY}unit")
    pseudo = c[5].toggle("Pseudonymisér", key=f"{KEY}pseudo",
                         help="Erstat navne på talere og personer med pseudonymer i eksporten.")
    frame = _frame(state.data_version(), status, theme, site, code, unit, pseudo)
    st.caption(f"{number(len(frame))} rækker")
    st.dataframe(frame.head(20), hide_index=True, width="stretch")
    d = st.columns(3)
    d[0].download_button("Hent CSV (UTF-8)", _file(frame, "csv", None), "kodede_citater.csv",
                         "text/csv", key=f"{KEY}csv")
    d[1].download_button("Hent CSV til dansk Excel", _file(frame, "csv", "excel-da"),
                         "kodede_citater_excel.csv", "text/csv", key=f"{KEY}csvda")
    d[2].download_button("Hent XLSX", _file(frame, "xlsx", None), "kodede_citater.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         key=f"{KEY}xlsx")


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
