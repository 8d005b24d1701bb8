"""Per-process resources (the store) and per-session state (coder, mode), in one place."""

from __future__ import annotations

import os

import streamlit as st

from evaltool.errors import (
    AccessError,
    AttributeInputError,
    ConflictError,
    EvaltoolError,
    FaultError,
    NotFoundError,
)
from evaltool.store import Store, open_store
from evaltool.ui.text import ATTRIBUTE_ERRORS, fault_text, md

MODE_ENV = "EVALTOOL_MODE"
NO_CODEBOOK = ("Der er ikke indlæst nogen kodebog endnu. Indlæs en med "
               "`evaltool codebook load FIL` (eller prøv demoen med `evaltool demo`).")


@st.cache_resource(show_spinner=False)
def get_store() -> Store:
    """The database named by EVALTOOL_DB, opened (and migrated) once per process."""
    return open_store()


def data_version() -> tuple:
    """A key that changes whenever documents or codings change (for st.cache_data)."""
    return get_store().data_version()


def error_text(exc: EvaltoolError) -> str:
    """A core error as the app says it: conflicts come in Danish from the store; others
    (English, for the CLI) get a Danish sentence, with the technical detail quoted."""
    if isinstance(exc, ConflictError):
        return str(exc)
    if isinstance(exc, AttributeInputError):
        return (f"Attributten »{md(exc.key[:40])}« kan ikke gemmes: "
                f"{ATTRIBUTE_ERRORS.get(exc.kind, md(exc))}. Intet er ændret.")
    if isinstance(exc, FaultError):  # database, disk, file system: one line with the class
        return md(fault_text(exc) or str(exc))
    if isinstance(exc, AccessError):
        return "Kodningen hører til en anden koders lag; du kan ikke ændre den."
    if isinstance(exc, NotFoundError):
        return f"Det findes ikke (længere); genindlæs siden. Teknisk besked: {md(exc)}"
    return f"Handlingen kunne ikke gennemføres. Teknisk besked: {md(exc)}"


def has_codebook() -> bool:
    """True when a codebook is loaded; otherwise says (in Danish) how to load one."""
    try:
        get_store().active_codebook()
    except NotFoundError:
        st.info(NO_CODEBOOK)
        return False
    return True


def lead_mode() -> bool:
    """True for the read-only project-lead mode (env EVALTOOL_MODE=lead or chosen role)."""
    if os.environ.get(MODE_ENV, "").lower() == "lead":
        return True
    return st.session_state.get("role") == "Projektleder"


def forced_lead() -> bool:
    """True when the mode is fixed by the environment."""
    return os.environ.get(MODE_ENV, "").lower() == "lead"


def coder() -> str | None:
    """The coder chosen in the sidebar (None until one is chosen)."""
    name = (st.session_state.get("coder") or "").strip()
    return name or None


def flash(kind: str, message: str) -> None:
    """Remember a message to show after the next rerun."""
    st.session_state["flash"] = (kind, message)


def show_flash() -> None:
    """Show (once) a message remembered by :func:`flash`."""
    item = st.session_state.pop("flash", None)
    if item:
        kind, message = item
        {"error": st.error, "success": st.success, "warning": st.warning}.get(kind, st.info)(message)
