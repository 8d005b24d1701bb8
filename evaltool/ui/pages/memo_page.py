"""Memoer: every memo (on codings, sentences, documents, the project) with filters and
downloads; writing document and project memos; editing and deleting one's own."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from evaltool import export, nlp
from evaltool.domain import MEMO_KINDS, MemoView
from evaltool.errors import AccessError, EvaltoolError, MemoError
from evaltool.ui import state
from evaltool.ui.codes import code_labels
from evaltool.ui.text import MEMO_KIND, MEMO_NOUN, count, md
from evaltool.ui.widgets import pick_many, select

KEY = "memo_"
ALL = "__alle__"
PAGE = 50  # memos shown at first; "Vis flere" shows the next as many
MEMO_ERRORS = {"empty": "Skriv noget i memoet først.",
               "too_long": "Et memo kan højst have {limit} tegn."}

NOT_OWN_EDIT = ("error", lambda _: "Memoet er skrevet af en anden koder; du kan kun rette dine egne.")
NOT_OWN_DELETE = ("error",
                  lambda _: "Memoet er skrevet af en anden koder; du kan kun slette dine egne.")


def memo_error(exc: MemoError) -> str:
    """The Danish message for a memo that cannot be saved."""
    return MEMO_ERRORS.get(exc.kind, "Memoet kan ikke gemmes.").format(limit=exc.limit)


@st.cache_data(show_spinner=False)
def _facets(version: tuple) -> tuple[dict[int, str], list[str], dict[str, str]]:
    """Documents, coders and codes to filter on (cached per data version)."""
    store = state.get_store()
    try:
        codes = code_labels(store.codes(include_retired=True))  # Forælder › Barn
    except EvaltoolError:
        codes = {}
    return {d.id: d.name for d in store.document_facets()}, store.coders(), codes


@st.cache_data(show_spinner=False, max_entries=16)
def _memos(version: tuple, kinds: tuple[str, ...], document_id: int | None, coder: str | None,
           code: str | None, contains: str, visible_to: str | None) -> list[MemoView]:
    """The memos for the filters (cached per data version and filters)."""
    return state.get_store().memos(kinds=kinds or None, document_id=document_id, coder=coder,
                                   code_key=code, contains=contains, visible_to=visible_to)


def _viewer() -> str | None:
    """Whose view of the memos: the coder's (no other coder's blind work); the lead sees all."""
    return None if state.lead_mode() else state.coder()


def _filters(docs: dict[int, str], coders: list[str], codes: dict[str, str]) -> dict:
    """Filter widgets; returns the chosen values (nothing chosen: no filter)."""
    kinds = pick_many("Art", list(MEMO_KINDS), format_func=MEMO_KIND.get, key=f"{KEY}kinds")
    c1, c2, c3, c4 = st.columns([2, 1.4, 2, 2])
    doc = select("Dokument", [ALL, *docs], key=f"{KEY}doc", where=c1,
                 format_func=lambda d: "Alle" if d == ALL else docs[d])
    coder = select("Koder", [ALL, *coders], key=f"{KEY}coder", where=c2,
                   format_func=lambda c: "Alle" if c == ALL else c)
    code = select("Kode (kun memoer på kodninger)", [ALL, *codes], key=f"{KEY}code", where=c3,
                  format_func=lambda k: "Alle" if k == ALL else f"{k} – {codes[k]}")
    contains = c4.text_input("Tekst indeholder", key=f"{KEY}contains", placeholder="fx kaffe")
    return {"kinds": tuple(kinds), "document_id": None if doc == ALL else doc,
            "coder": None if coder == ALL else coder, "code": None if code == ALL else code,
            "contains": contains.strip()}


def _place(m: MemoView, codes: dict[str, str]) -> str:
    """Where a memo is, in one Markdown line: kind, document, turn, code, who, when."""
    parts = [f"**{MEMO_KIND[m.kind]}**"]
    if m.document:
        parts.append(md(m.document))
    if m.turn is not None:
        parts.append(f"tur {m.turn}")
    if m.code_key:
        parts.append(md(codes.get(m.code_key) or m.code_label or m.code_key))
    if m.layer:
        parts.append(f"lag {md(m.layer)}")
    parts.append(md(m.coder or "ukendt koder"))
    if m.at is not None:
        parts.append(f"{m.at:%d.%m.%Y %H:%M}")
    return " · ".join(parts)


def _write_document_memo(docs: dict[int, str]) -> None:
    """Save the document memo as typed now (read when clicked, with or without Enter)."""
    doc = st.session_state.get(f"{KEY}new_doc")
    text = st.session_state.get(f"{KEY}new_doc_text") or ""
    if doc is None:
        state.flash("warning", "Vælg det dokument, memoet handler om.")
        return
    if not _stored(lambda: state.get_store().add_document_memo(doc, state.coder(), text)):
        return
    st.session_state[f"{KEY}new_doc_text"] = ""
    state.flash("success", f"Dokumentmemo gemt på **{md(docs.get(doc, doc))}**: »{md(text.strip())}«")


def _stored(write: Callable[[], object]) -> bool:
    """Run a memo write; a refusal becomes a Danish message (False)."""
    return bool(state.attempt(write, {MemoError: ("warning", memo_error)}))


def _write_project_memo() -> None:
    """Save the project memo as typed now (read when clicked, with or without Enter)."""
    text = st.session_state.get(f"{KEY}new_project_text") or ""
    if not _stored(lambda: state.get_store().add_project_memo(state.coder(), text)):
        return
    st.session_state[f"{KEY}new_project_text"] = ""
    state.flash("success", f"Projektmemo gemt: »{md(text.strip())}«")


def _edit(memo: MemoView, key: str) -> None:
    """Save the edited text of one of the coder's own memos."""
    text = st.session_state.get(key) or ""
    if state.attempt(lambda: state.get_store().edit_memo(memo.id, state.coder(), text),
                     {MemoError: ("warning", memo_error), AccessError: NOT_OWN_EDIT}):
        state.flash("success", f"{MEMO_NOUN[memo.kind]} rettet: »{md(text.strip())}«")


def _delete(memo: MemoView) -> None:
    """Delete one of the coder's own memos."""
    if state.attempt(lambda: state.get_store().delete_memo(memo.id, state.coder()),
                     {AccessError: NOT_OWN_DELETE}):
        state.flash("success", f"{MEMO_NOUN[memo.kind]} slettet: »{md(memo.text)}«")


def _memo(m: MemoView, codes: dict[str, str], own: bool) -> None:
    """One memo: where it is, its text, and for the coder's own memos 'Ret' and 'Slet'."""
    with st.container(border=True):
        left, right = st.columns([8, 1.6]) if own else (st.container(), None)
        left.markdown(_place(m, codes))
        if m.quote:
            left.caption(f"»{md(m.quote)}«")
        left.markdown(md(m.text))
        if right is None:
            return
        key = f"{KEY}m{m.id}_{m.at:%Y%m%d%H%M%S%f}"
        with right.popover("Ret"):
            st.text_area("Memo", value=m.text, key=f"{key}text")
            st.button("Gem ændring", key=f"{key}save", on_click=_edit, args=(m, f"{key}text"))
        with right.popover("Slet"):
            st.caption("Memoet slettes og kan ikke fortrydes.")
            st.button("Slet memoet", key=f"{key}delete", on_click=_delete, args=(m,),
                      type="primary")


def _file(filters: tuple, viewer: str | None, pseudonymize: bool, fmt: str,
          dialect: str | None):
    """The download's contents, made when the button is clicked, from the memos as they are
    then (and pseudonymised only then: it may load the name recogniser)."""
    def make() -> bytes:
        store = state.get_store()
        hook = None
        if pseudonymize:
            from evaltool.pseudonymize import export_hook

            hook = export_hook(store, lambda: nlp.load("ner"))
        frame = export.memo_frame(_memos(state.data_version(), *filters, viewer), hook)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"memoer.{fmt}"
            export.write(frame, path, fmt, dialect, sheet=export.MEMO_SHEET,
                         widths=export.MEMO_WIDTHS)
            return path.read_bytes()
    return make


def _downloads(filters: tuple, viewer: str | None) -> None:
    """Download buttons for the memos shown (all of them, not only the first page)."""
    c = st.columns([1.4, 1.4, 1.4, 1.6])
    pseudo = c[3].toggle("Pseudonymisér", key=f"{KEY}pseudo",
                         help="Erstat navne på talere og personer med pseudonymer i filen.")
    c[0].download_button("Hent CSV (UTF-8)", _file(filters, viewer, pseudo, "csv", None),
                         "memoer.csv", "text/csv", key=f"{KEY}csv")
    c[1].download_button("Hent CSV til dansk Excel",
                         _file(filters, viewer, pseudo, "csv", "excel-da"),
                         "memoer_excel.csv", "text/csv", key=f"{KEY}csvda")
    c[2].download_button("Hent XLSX", _file(filters, viewer, pseudo, "xlsx", None), "memoer.xlsx",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         key=f"{KEY}xlsx")


def _writing(docs: dict[int, str]) -> None:
    """Forms for a new document memo and a new project memo."""
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown("**Nyt dokumentmemo**")
        select("Memoets dokument", list(docs), key=f"{KEY}new_doc", index=None,
               format_func=lambda d: docs[d], placeholder="Vælg et dokument")
        st.text_area("Dokumentmemo", key=f"{KEY}new_doc_text",
                     placeholder="Hvad viser dokumentet? Fx en CMO-konfiguration …")
        st.button("Gem dokumentmemo", key=f"{KEY}save_doc", on_click=_write_document_memo,
                  args=(docs,), type="primary")
    with right.container(border=True):
        st.markdown("**Nyt projektmemo**")
        st.text_area("Projektmemo", key=f"{KEY}new_project_text",
                     placeholder="Et mønster på tværs af dokumenterne …")
        st.button("Gem projektmemo", key=f"{KEY}save_project", on_click=_write_project_memo,
                  type="primary")


def page() -> None:
    """The Memoer page."""
    st.title("Memoer")
    state.show_flash()
    docs, coders, codes = _facets(state.data_version())
    can_write = state.coder() is not None and not state.lead_mode()
    if can_write:
        _writing(docs)
    elif not state.lead_mode():
        st.info("Vælg en koder i sidepanelet for at skrive memoer.")
    chosen = _filters(docs, coders, codes)
    viewer = _viewer()
    filters = (chosen["kinds"], chosen["document_id"], chosen["coder"], chosen["code"],
               chosen["contains"])
    memos = _memos(state.data_version(), *filters, viewer)
    st.caption(count(len(memos), "memo", "memoer"))
    if not memos:
        return
    _downloads(filters, viewer)
    shown = st.session_state.get(f"{KEY}shown", PAGE)
    me = state.coder() if can_write else None
    for m in memos[:shown]:
        _memo(m, codes, own=m.editable and me is not None and m.coder == me)
    if len(memos) > shown:
        st.button(f"Vis {min(PAGE, len(memos) - shown)} flere", key=f"{KEY}more",
                  on_click=lambda: st.session_state.update({f"{KEY}shown": shown + PAGE}))


if __name__ == "__main__":  # run as a page script by st.navigation
    page()
