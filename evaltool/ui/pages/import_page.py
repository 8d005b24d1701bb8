"""Import: upload transcripts, see a per-file result, optionally auto-code right after."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from evaltool import nlp
from evaltool.autocode import run as autocode_run
from evaltool.domain import CarryOver, DocumentDeletion, ImportResult
from evaltool.errors import EvaltoolError
from evaltool.importer import import_file
from evaltool.ingest import SUPPORTED, safe_upload_path
from evaltool.ui import state
from evaltool.ui.codes import code_labels
from evaltool.ui.text import count, md, number
from evaltool.ui.widgets import select

KEY = "imp_"
STATUS = {"imported": "Importeret", "skipped": "Sprunget over", "failed": "Fejl"}
REPLACE = "Importér igen, selv om indholdet allerede findes"
DISCARD = "Kassér menneskelige beslutninger, der ikke kan overføres"
SHOWN = 3  # places named in a message about codings that could not be carried over


def _decisions(n: int) -> str:
    """'1 menneskelig beslutning', '2 menneskelige beslutninger'."""
    return count(n, "menneskelig beslutning", "menneskelige beslutninger")


def _places(uncarried: tuple, labels: dict[str, str]) -> str:
    """A few uncarried codings by place and code: 'tur 3, sætning 2: »Kaffe«'."""
    named = [f"tur {c.turn}, sætning {c.sent_index + 1}: »{md(labels.get(c.code_key, c.code_key))}«"
             for c in uncarried[:SHOWN]]
    more = f" og {number(len(uncarried) - SHOWN)} flere" if len(uncarried) > SHOWN else ""
    return "; ".join(named) + more


def _carried(carry: CarryOver, labels: dict[str, str]) -> str:
    """What re-importing did with the replaced document's codings, in Danish."""
    ids = ", ".join(map(str, carry.replaced))
    text = (f"erstatter dokument {ids}; {count(carry.carried, 'kodning', 'kodninger')} overført"
            f" (heraf {_decisions(carry.carried_human)})")
    if carry.not_carried:
        text += (f"; {count(len(carry.not_carried), 'kodning', 'kodninger')} kunne ikke overføres, "
                 f"fordi sætningen ikke findes i den nye fil ({_places(carry.not_carried, labels)})")
    return text


def message(result: ImportResult, name: str, labels: dict[str, str]) -> str:
    """One file's import result in Danish, from the result's fields (the core's message is
    the CLI's English; only a failure's technical cause is quoted from it)."""
    if result.status == "imported":
        text = (f"{count(result.turns, 'tur', 'ture')}, "
                f"{count(result.segments, 'sætning', 'sætninger')}")
        text += f"; {_carried(result.carry, labels)}" if result.carry else ""
        # text the reader skipped (e.g. lines before the first speaker): the core says it
        # only in its English message, so it is quoted as a technical note
        notes = result.message.split("; warning: ")[1:]
        return text + "".join(f"; advarsel (teknisk besked): {md(n)}" for n in notes)
    if result.status == "skipped":
        return (f"Samme indhold er allerede importeret som dokument {result.document_id}. "
                f"Sæt hak ved »{REPLACE}« for at importere filen igen.")
    carry = result.carry
    if carry is not None and carry.human_lost:
        lost = [c for c in carry.not_carried if c.human]
        return (f"Ikke importeret: {_decisions(carry.human_lost)}"
                f" ville gå tabt, fordi sætningerne ikke findes i den nye fil "
                f"({_places(tuple(lost), labels)}). Intet er ændret. Sæt hak ved »{DISCARD}« "
                "for at importere alligevel.")
    detail = result.message.replace(result.path, name)
    detail = detail[len(name) + 2:] if detail.startswith(f"{name}: ") else detail
    return f"Ikke importeret; intet er gemt. Årsag (teknisk besked): {md(detail)}"


def _import(files: list, replace: bool, autocode: bool, discard: bool) -> None:
    """Save the uploads in a private folder and import them one transaction each."""
    store = state.get_store()
    try:
        labels = code_labels(store.codes(include_retired=True))
    except EvaltoolError:  # no codebook yet: codes are named by id
        labels = {}
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
                                "Besked": f"Filen kunne ikke gemmes ({exc.__class__.__name__}); "
                                          "intet er importeret.",
                                "Ture": 0, "Sætninger": 0, "_doc": None})
                continue

            def progress(name: str, done: int, total: int, i: int = i) -> None:
                share = (i + done / max(total, 1)) / len(files)
                bar.progress(min(share, 1.0), text=f"{name}: {done} af {total} ture segmenteret")

            result = import_file(path, store, lambda: nlp.load("segment"), replace=replace,
                                 progress=progress, discard_decisions=discard)
            results.append({"Fil": upload.name, "Resultat": STATUS[result.status],
                            "Besked": message(result, upload.name, labels),
                            "Ture": result.turns, "Sætninger": result.segments,
                            "_doc": result.document_id})
            bar.progress((i + 1) / len(files), text=f"{i + 1} af {len(files)} filer")
    bar.empty()
    st.session_state[f"{KEY}results"] = results
    imported = [r["_doc"] for r in results if r["Resultat"] == STATUS["imported"]]
    if autocode and imported:
        try:
            with st.spinner("Autokoder…"):
                for doc_id in imported:
                    autocode_run.run(store, lambda: nlp.load("segment"), document_id=doc_id)
            st.session_state[f"{KEY}autocoded"] = len(imported)
        except EvaltoolError as exc:
            st.session_state[f"{KEY}autocoded"] = state.error_text(exc)


def results_panel() -> None:
    """The last import's per-file results, in Danish."""
    results = st.session_state.get(f"{KEY}results")
    if not results:
        return
    for r in results:
        if r["Resultat"] == STATUS["failed"]:
            st.error(f"{md(r['Fil'])}: {r['Besked']}")
    n = {k: sum(1 for r in results if r["Resultat"] == v) for k, v in STATUS.items()}
    st.success(f"{count(n['imported'], 'fil', 'filer')} importeret, "
               f"{number(n['skipped'])} sprunget over, {number(n['failed'])} med fejl")
    st.dataframe(pd.DataFrame(results).drop(columns=["_doc"]), hide_index=True,
                 width="stretch")
    done = st.session_state.get(f"{KEY}autocoded")
    if isinstance(done, int):
        st.info(f"Autokodning kørt på {count(done, 'dokument', 'dokumenter')}. Se siden Kodning.")
    elif done:
        st.warning(f"Autokodning ikke kørt: {done}")


def _delete(document_id: int) -> None:
    """Delete the chosen document (confirmed) and say what went with it."""
    st.session_state.pop(f"{KEY}delok", None)
    st.session_state.pop(f"{KEY}deldoc", None)
    try:
        d = state.get_store().delete_document(document_id, actor=state.coder())
    except EvaltoolError as exc:
        state.flash("error", state.error_text(exc))
        return
    state.flash("success", f"Slettet: »{md(d.document)}« med {_removed(d)}.")


def _removed(d: DocumentDeletion) -> str:
    """What a deletion removes, in Danish."""
    text = (f"{count(d.turns, 'tur', 'ture')}, {count(d.segments, 'sætning', 'sætninger')} og "
            f"{count(d.codings, 'kodning', 'kodninger')} (heraf "
            f"{_decisions(d.human_decisions)})")
    more = [count(n, one, many) for n, one, many in
            ((d.assignments, "tildeling", "tildelinger"), (d.memos, "memo", "memoer")) if n]
    if more:
        text += " samt " + " og ".join(more)
    return text


def delete_panel() -> None:
    """'Slet dokument': choose a document, see what goes with it, confirm, delete."""
    st.subheader("Slet dokument")
    store = state.get_store()
    docs = store.list_documents()
    if not docs:
        st.caption("Ingen dokumenter at slette.")
        return
    if state.coder() is None:
        st.caption("Vælg dig selv som koder i sidepanelet for at slette et dokument "
                   "(sletningen gemmes i historikken med dit navn).")
        return
    by_id = {d.id: d for d in docs}
    chosen = select("Dokument der skal slettes", list(by_id), key=f"{KEY}deldoc", index=None,
                    format_func=lambda i: f"{by_id[i].site or '?'} – {by_id[i].name}",
                    placeholder="Vælg et dokument")
    if chosen is None:
        return
    try:
        preview = store.deletion_preview(chosen)
    except EvaltoolError as exc:
        st.warning(state.error_text(exc))
        return
    st.warning(f"»{md(preview.document)}« slettes med {_removed(preview)}. "
               "Det kan ikke fortrydes; sletningen noteres i historikken.")
    sure = st.checkbox(f"Ja, slet »{preview.document}«", key=f"{KEY}delok")
    st.button("Slet dokument", key=f"{KEY}delete", type="primary", disabled=not sure,
              on_click=_delete, args=(chosen,))


def _import_project(upload) -> None:
    """Import an uploaded REFI-QDA project into the (empty) database; keep the outcome."""
    from evaltool.refi.load import import_qdpx

    store = state.get_store()
    present = len(store.list_documents())
    if present:  # checked again in the import's transaction
        st.session_state[f"{KEY}refi"] = (
            "error", f"{md(upload.name)}: Ikke importeret; intet er gemt. Projektet har allerede "
                     f"{count(present, 'dokument', 'dokumenter')}; et REFI-QDA-projekt kan kun "
                     "importeres i en ny, tom database.")
        return
    with tempfile.TemporaryDirectory(prefix="evaltool-upload-") as tmp:
        path = safe_upload_path(Path(tmp), upload.name)
        try:
            path.write_bytes(upload.getvalue())
            with st.spinner("Importerer projektet…"):
                result = import_qdpx(store, path, nlp.load("segment"))
        except EvaltoolError as exc:
            detail = str(exc).replace(str(path), upload.name)
            st.session_state[f"{KEY}refi"] = ("error", f"{md(upload.name)}: Ikke importeret; "
                                              f"intet er gemt. Årsag (teknisk besked): {md(detail)}")
            return
        except OSError as exc:
            st.session_state[f"{KEY}refi"] = ("error", f"{md(upload.name)}: Filen kunne ikke "
                                              f"gemmes ({exc.__class__.__name__}); intet er "
                                              "importeret.")
            return
    st.session_state[f"{KEY}refi"] = ("done", upload.name, result)


def refi_panel() -> None:
    """'REFI-QDA-projekt': a project from NVivo, ATLAS.ti, MAXQDA, QualCoder or Taguette
    becomes a new evaltool project (only in a database without documents)."""
    st.subheader("REFI-QDA-projekt")
    st.caption("Et projekt fra NVivo, ATLAS.ti, MAXQDA, QualCoder eller Taguette (.qdpx) "
               "bliver til et nyt projekt: kilderne bliver dokumenter, koderne en kodebog "
               "(koder uden CMO-type får »Ikke tildelt«, som du vælger på siden Kodebog), "
               "markeringerne accepterede kodninger og noterne memoer. Det kan kun importeres "
               "i en database uden dokumenter; alt gemmes samlet eller intet.")
    with st.form(f"{KEY}refiform", clear_on_submit=True):
        upload = st.file_uploader("Vælg projektfil (.qdpx)", type=["qdpx"], key=f"{KEY}qdpx")
        submitted = st.form_submit_button("Importér projekt")
    if submitted and upload is not None:
        _import_project(upload)
    elif submitted:
        st.warning("Vælg en projektfil.")
    outcome = st.session_state.get(f"{KEY}refi")
    if not outcome:
        return
    if outcome[0] == "error":
        st.error(outcome[1])
        return
    _, name, r = outcome
    st.success(f"{md(name)} importeret: {count(r.documents, 'dokument', 'dokumenter')}, "
               f"{count(r.codes, 'kode', 'koder')}, {count(r.codings, 'kodning', 'kodninger')} "
               f"fra {count(r.selections, 'markering', 'markeringer')}, "
               f"{count(r.coders, 'koder', 'kodere')} og {count(r.memos, 'memo', 'memoer')}.")
    if r.not_placed:
        st.warning(f"{count(len(r.not_placed), 'markering', 'markeringer')} kunne ikke "
                   "placeres i teksten og er ikke importeret (teknisk besked):  \n"
                   + "  \n".join(md(n) for n in r.not_placed))
    if r.notes:
        with st.expander(f"Bemærkninger ({number(len(r.notes))}, teknisk besked)"):
            st.markdown("  \n".join(md(n) for n in r.notes))


def page() -> None:
    """The Import page."""
    st.title("Import")
    state.show_flash()
    st.caption("Transskriptioner som tekst (.txt, .md), Word (.docx) eller undertekster "
               "(.vtt, .srt). Hver fil importeres for sig: en fil med fejl gemmer intet, "
               "og de andre bliver importeret.")
    with st.form(f"{KEY}form", clear_on_submit=True):
        files = st.file_uploader("Vælg filer", type=[s.lstrip(".") for s in SUPPORTED],
                                 accept_multiple_files=True, key=f"{KEY}files")
        replace = st.checkbox(REPLACE, key=f"{KEY}rep",
                              help="Kodninger flyttes med til de sætninger, der er uændrede.")
        discard = st.checkbox(DISCARD, key=f"{KEY}discard")
        autocode = st.checkbox("Kør autokodning bagefter", value=True, key=f"{KEY}auto")
        submitted = st.form_submit_button("Importér", type="primary")
    if submitted and files:
        _import(files, replace, autocode, discard)
    elif submitted:
        st.warning("Vælg mindst én fil.")
    results_panel()
    refi_panel()
    delete_panel()


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
