"""Eksport: the CLI's export with the same filters, a preview, and downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from evaltool import export, nlp
from evaltool.analysis import filter_options
from evaltool.ui import filters, state
from evaltool.ui.codes import code_labels
from evaltool.ui.text import EXCHANGE, STATUS, count
from evaltool.ui.widgets import select

KEY = "eks_"
# Danish headings for the preview; the files keep the export's column names (a contract)
HEADINGS = {"document": "Dokument", "site": "Sted", "speaker": "Taler", "role": "Rolle",
            "turn": "Tur", "segment_id": "Sætnings-id", "start_char": "Start (tegn)",
            "end_char": "Slut (tegn)", "text": "Tekst", "code_id": "Kode-id",
            "code_label": "Kode", "cmo": "CMO", "theme": "Tema", "goal": "Mål",
            "source": "Kilde", "confidence": "Sikkerhed", "status": "Status", "coder": "Koder",
            "memo": "Memo", "target_group": "Citatets målgruppe", "unit": "Enhed"}


@st.cache_data(show_spinner=False, max_entries=8)
def _frame(version: tuple, status: str, theme: str | None, site: str | None, code: str | None,
           unit: str, pseudonymize: bool, chosen: tuple = ()):
    """The export table, cached per data version and filters (``chosen``: attribute filter)."""
    store = state.get_store()
    hook = None
    if pseudonymize:
        from evaltool.pseudonymize import export_hook

        hook = export_hook(store, lambda: nlp.load("ner"))
    scope = filters.scope(chosen=chosen) if chosen else None
    return export.build_frame(store, status=status, theme=theme, site=site, code=code, unit=unit,
                              scope=scope, pseudonyms=hook)


def _file(options: tuple, fmt: str, dialect: str | None):
    """The download's contents, made when the button is clicked, from the data as it is
    then (decisions made since the page was drawn are in the file; an XLSX of a large
    table takes seconds, and rendering the page must not pay for three files each time)."""
    return lambda: _bytes(_frame(state.data_version(), *options), fmt, dialect)


def _bytes(frame, fmt: str, dialect: str | None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"eksport.{fmt}"
        export.write(frame, path, fmt, dialect)
        return path.read_bytes()


def _exchange_bytes(kind: str, status: str, pseudonymize: bool) -> bytes:
    """A REFI-QDA project or codebook, or the coded documents, as bytes (made on click)."""
    from evaltool.pseudonymize import PseudonymizedView

    store = state.get_store()
    views = ((lambda doc_id: PseudonymizedView(store, doc_id, lambda: nlp.load("ner")))
             if pseudonymize else None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / next(name for k, name, _ in EXCHANGE_FILES if k == kind)
        if kind == "qdpx":
            from evaltool.refi.write import write_project

            write_project(store, path, status=status, pseudonymizer=views)
        elif kind == "qdc":
            from evaltool.refi.write import write_codebook

            write_codebook(store, path)
        else:
            from evaltool.coded_documents import write_coded_documents

            write_coded_documents(store, path, kind, status=status, pseudonymizer=views)
        return path.read_bytes()


EXCHANGE_FILES = (  # kind, file name, MIME type
    ("qdpx", "projekt.qdpx", "application/zip"),
    ("qdc", "kodebog.qdc", "application/xml"),
    ("docx", "kodede_dokumenter.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("html", "kodede_dokumenter.html", "text/html"),
)


def _exchange(status: str, pseudonymize: bool) -> None:
    """Downloads for other tools: REFI-QDA project and codebook, coded documents."""
    st.subheader(EXCHANGE["heading"])
    st.caption(EXCHANGE["caption"])
    cols = st.columns(len(EXCHANGE_FILES))
    for col, (kind, name, mime) in zip(cols, EXCHANGE_FILES, strict=True):
        col.download_button(EXCHANGE[kind], lambda k=kind: _exchange_bytes(k, status, pseudonymize),
                            name, mime, key=f"{KEY}{kind}", help=EXCHANGE.get(f"{kind}_help"))


def page() -> None:
    """The Eksport page."""
    st.title("Eksport")
    store = state.get_store()
    if not state.has_codebook():
        return
    codes = store.codes()
    options = filter_options(store)
    c = st.columns([1.2, 1, 1.4, 2, 1, 1.4])
    status = select("Status", ["accepted", "suggested", "rejected", "all"], where=c[0],
                    format_func=lambda s: STATUS.get(s, "Alle"), key=f"{KEY}status")
    themes = sorted({t for code in codes for t in code.themes})
    theme = select("Tema", [None, *themes], format_func=lambda t: t or "Alle", where=c[1],
                   key=f"{KEY}theme")
    site = select("Sted", [None, *options["sites"]], format_func=lambda s: s or "Alle",
                  where=c[2], key=f"{KEY}site")
    labels = code_labels(codes)
    code = select("Kode", [None, *labels], format_func=lambda k: labels.get(k, "Alle"),
                  where=c[3], key=f"{KEY}code")
    unit = select("Enhed", ["segment", "turn"], where=c[4],
                  format_func={"segment": "Sætning", "turn": "Tur"}.get, key=f"{KEY}unit")
    pseudo = c[5].toggle("Pseudonymisér", key=f"{KEY}pseudo",
                         help="Erstat navne på talere og personer med pseudonymer i eksporten.")
    a = st.columns([1.4, 1.4, 3.4])
    chosen = filters.attribute_filter(KEY, a[0], a[1])
    chosen_filters = (status, theme, site, code, unit, pseudo, chosen)
    frame = _frame(state.data_version(), *chosen_filters)
    st.caption(count(len(frame), "række", "rækker"))
    st.caption("Forhåndsvisning af de første 20 rækker; filerne har eksportens kolonnenavne.")
    st.dataframe(frame.head(20), hide_index=True, width="stretch",
                 column_config={k: st.column_config.Column(v) for k, v in HEADINGS.items()
                                if k in frame.columns})
    d = st.columns(3)
    d[0].download_button("Hent CSV (UTF-8)", _file(chosen_filters, "csv", None), "kodede_citater.csv",
                         "text/csv", key=f"{KEY}csv")
    d[1].download_button("Hent CSV til dansk Excel", _file(chosen_filters, "csv", "excel-da"),
                         "kodede_citater_excel.csv", "text/csv", key=f"{KEY}csvda")
    d[2].download_button("Hent XLSX", _file(chosen_filters, "xlsx", None), "kodede_citater.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         key=f"{KEY}xlsx")
    _exchange(status, pseudo)


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
