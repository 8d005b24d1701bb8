"""Import: upload transcripts, see a per-file result, optionally auto-code right after."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from evaltool import nlp
from evaltool.autocode import run as autocode_run
from evaltool.errors import EvaltoolError
from evaltool.importer import import_file
from evaltool.ingest import SUPPORTED, safe_upload_path
from evaltool.ui import state

KEY = "imp_"
STATUS = {"imported": "Importeret", "skipped": "Sprunget over", "failed": "Fejl"}


def _import(files: list, replace: bool, autocode: bool) -> None:
    """Save the uploads in a private folder and import them one transaction each."""
    store = state.get_store()
    bar = st.progress(0.0, text="Importerer…")
    results = []
    with tempfile.TemporaryDirectory(prefix="evaltool-upload-") as tmp:
        folder = Path(tmp)
        for i, upload in enumerate(files):
            path = safe_upload_path(folder, upload.name)
            try:
                path.write_bytes(upload.getvalue())
            except OSError as exc:  # e.g. disk full: this file fails, the others go on
                results.append({"Fil": upload.name, "Resultat": STATUS["failed"],
                                "Besked": f"{upload.name}: kunne ikke gemmes "
                                          f"({exc.__class__.__name__}); intet gemt",
                                "Ture": 0, "Sætninger": 0, "_doc": None})
                continue

            def progress(name: str, done: int, total: int, i: int = i) -> None:
                share = (i + done / max(total, 1)) / len(files)
                bar.progress(min(share, 1.0), text=f"{name}: {done} af {total} ture segmenteret")

            result = import_file(path, store, lambda: nlp.load("segment"), replace=replace,
                                 progress=progress)
            # messages name the temporary path; show the uploaded name instead
            results.append({"Fil": upload.name, "Resultat": STATUS[result.status],
                            "Besked": result.message.replace(str(path), upload.name),
                            "Ture": result.turns, "Sætninger": result.segments,
                            "_doc": result.document_id})
            bar.progress((i + 1) / len(files), text=f"{i + 1} af {len(files)} filer")
    bar.empty()
    st.session_state[f"{KEY}results"] = results
    imported = [r["_doc"] for r in results if r["Resultat"] == "Importeret"]
    if autocode and imported:
        try:
            with st.spinner("Autokoder…"):
                for doc_id in imported:
                    autocode_run.run(store, lambda: nlp.load("segment"), document_id=doc_id)
            st.session_state[f"{KEY}autocoded"] = len(imported)
        except EvaltoolError as exc:
            st.session_state[f"{KEY}autocoded"] = str(exc)


def results_panel() -> None:
    """The last import's per-file results, with the same messages as the CLI."""
    results = st.session_state.get(f"{KEY}results")
    if not results:
        return
    for r in results:
        if r["Resultat"] == "Fejl":
            st.error(r["Besked"])
    n = {k: sum(1 for r in results if r["Resultat"] == v) for k, v in STATUS.items()}
    st.success(f"{n['imported']} importeret, {n['skipped']} sprunget over, {n['failed']} fejl")
    st.dataframe(pd.DataFrame(results).drop(columns=["_doc"]), hide_index=True,
                 width="stretch")
    done = st.session_state.get(f"{KEY}autocoded")
    if isinstance(done, int):
        st.info(f"Autokodning kørt på {done} dokument(er). Se siden Kodning.")
    elif done:
        st.warning(f"Autokodning ikke kørt: {done}")


def page() -> None:
    """The Import page."""
    st.title("Import")
    st.caption("Transskriptioner som tekst (.txt, .md), Word (.docx) eller undertekster "
               "(.vtt, .srt). Hver fil importeres for sig: en fil med fejl gemmer intet, "
               "og de andre bliver importeret.")
    with st.form(f"{KEY}form", clear_on_submit=True):
        files = st.file_uploader("Vælg filer", type=[s.lstrip(".") for s in SUPPORTED],
                                 accept_multiple_files=True, key=f"{KEY}files")
        replace = st.checkbox("Importér igen, selv om indholdet allerede findes", key=f"{KEY}rep")
        autocode = st.checkbox("Kør autokodning bagefter", value=True, key=f"{KEY}auto")
        submitted = st.form_submit_button("Importér", type="primary")
    if submitted and files:
        _import(files, replace, autocode)
    elif submitted:
        st.warning("Vælg mindst én fil.")
    results_panel()


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
