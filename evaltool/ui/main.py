"""App shell: page config, coder identity and role, navigation."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from evaltool.domain import Role
from evaltool.errors import EvaltoolError
from evaltool.ui import auth, live, state
from evaltool.ui.text import fault_text, md
from evaltool.ui.widgets import select

# Pages are files (each runs its page() when executed as a page script), so that
# AppTest.switch_page can open them by path in tests.
PAGES = Path(__file__).parent / "pages"

NEW_CODER = "Ny koder…"


def sidebar() -> None:
    """Role and coder identity; every decision is stored with the coder's name (the
    signed-in account's on a team server)."""
    with st.sidebar:
        st.markdown("### evaltool")
        auth.sidebar_status()
        if state.signed_in() is not None:
            live.watch()
            return
        if state.forced_lead():
            st.caption("Projektleder-visning (kun læsning)")
        else:
            st.radio("Rolle", ["Evaluator", "Projektleder"], key="role", horizontal=True)
        if state.lead_mode():
            st.text_input("Dit navn", key="lead_name", placeholder="Til valg af rapportcitater",
                          help="Projektlederen ændrer ingen kodninger, men kan vælge citater "
                               "til rapporten på Temakapitel; valget gemmes i dit navn.")
            return
        known = state.get_store().coders()
        options = [*known, NEW_CODER]
        current = st.session_state.get("coder")
        index = options.index(current) if current in known else None
        choice = select("Koder", options, index=index, key="coder_choice",
                        placeholder="Vælg dit navn")
        if choice == NEW_CODER:
            name = st.text_input("Dit navn", key="coder_new").strip()
            if name:
                st.session_state["coder"] = name
        elif choice:
            st.session_state["coder"] = choice
        who = state.coder()
        st.caption(f"Du koder som **{md(who)}**" if who else "Vælg en koder for at kode.")


def run() -> None:
    """Build the app: navigation over the pages the current role may use.

    The app's one error boundary: a database, OS, migration or overflow error in the
    shell or on any page becomes one Danish line with the exception's class, never its
    text (SQL parameters carry whole turns); a bug keeps its traceback.
    """
    st.set_page_config(page_title="evaltool", page_icon=":material/fact_check:", layout="wide")
    try:
        store = state.shared_store()
    except Exception as exc:
        text = _boundary_text(exc)
        if text is None:
            raise
        st.error(f"Databasen kan ikke åbnes: {text}")
        st.stop()
    try:
        auth.gate(store, active=live.active_run())
        _navigate()
    except Exception as exc:
        text = _boundary_text(exc)
        if text is None:
            raise
        st.error(text)


def _boundary_text(exc: Exception) -> str | None:
    """The app's one line (Markdown-escaped) for an error that reached the boundary (None
    for a bug)."""
    if isinstance(exc, EvaltoolError):
        return state.error_text(exc)
    text = fault_text(exc)
    return None if text is None else md(text)


def _navigate() -> None:
    """The sidebar and the page chosen in the navigation."""
    sidebar()
    lead = state.lead_mode()
    who = state.signed_in()
    # a signed-in evaluator neither imports (an administrator's task) nor reads the other
    # coders' blind layers (Enighed compares them); the store refuses both anyway
    evaluator = who is not None and Role(who.role) == Role.evaluator
    pages = [st.Page(PAGES / "dashboard.py", title="Dashboard", url_path="dashboard",
                     default=lead),
             st.Page(PAGES / "chapter_page.py", title="Temakapitel", url_path="temakapitel")]
    if not lead:
        pages = [
            st.Page(PAGES / "coding.py", title="Kodning", url_path="kodning", default=True),
            *([] if evaluator else
              [st.Page(PAGES / "import_page.py", title="Import", url_path="import")]),
            st.Page(PAGES / "attributes_page.py", title="Attributter", url_path="attributter"),
            st.Page(PAGES / "search_page.py", title="Søg", url_path="soeg"),
            st.Page(PAGES / "matrix_page.py", title="Matricer", url_path="matricer"),
            *pages,
            *([] if evaluator else
              [st.Page(PAGES / "agreement.py", title="Enighed", url_path="enighed")]),
        ]
    pages += [st.Page(PAGES / "codebook_page.py", title="Kodebog", url_path="kodebog"),
              st.Page(PAGES / "memo_page.py", title="Memoer", url_path="memoer"),
              st.Page(PAGES / "export_page.py", title="Eksport", url_path="eksport")]
    st.navigation(pages).run()
