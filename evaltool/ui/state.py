"""Per-process resources (the store) and per-session state (coder, mode), in one place."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import streamlit as st

from evaltool.domain import Actor, Permission, Role
from evaltool.errors import (
    AccessError,
    AttributeInputError,
    ChainsTooHeavyError,
    ConflictError,
    EvaltoolError,
    FaultError,
    NotFoundError,
)
from evaltool.store import Store, open_store
from evaltool.ui import auth
from evaltool.ui.text import ATTRIBUTE_ERRORS, chains_stopped, fault_text, md

MODE_ENV = "EVALTOOL_MODE"
BOUND = "state_bound_store"  # (actor, store bound to it) of this session
NO_CODEBOOK = ("Der er ikke indlæst nogen kodebog endnu. Indlæs en med "
               "`evaltool codebook load FIL` (eller prøv demoen med `evaltool demo`).")


@st.cache_resource(show_spinner=False)
def shared_store() -> Store:
    """The database named by EVALTOOL_DB, opened (and migrated) once per process."""
    return open_store()


def get_store() -> Store:
    """The store the pages write through: bound to the signed-in account (the store then
    checks its role and layer on every write), unbound in the single-user mode.

    A page asking for it in a run of its own (a fragment's button) counts as activity."""
    store = shared_store()
    who = auth.actor()
    if who is None:
        return store
    if _fragment_run():
        auth.touch()
    bound = st.session_state.get(BOUND)
    if bound is None or bound[0] != who:
        bound = (who, store.as_actor(who))
        st.session_state[BOUND] = bound
    return bound[1]


def _fragment_run() -> bool:
    """True in a run of fragments only (a person's click inside one; the live poll never asks
    for the store)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def data_version() -> tuple:
    """A key that changes whenever documents or codings change (for st.cache_data)."""
    return shared_store().data_version()


# What a refused write or read says (AccessError.kind); nothing was changed.
ACCESS_TEXTS = {
    "layer": "Kodningen hører til en anden koders lag; du kan ikke ændre den.",
    "role": "Din rolle giver ikke adgang til at ændre dette. Intet er ændret.",
    "impersonation": "Du kan kun handle i dit eget navn. Intet er ændret.",
    "blind": "Dokumentet er tildelt dig blindt; dine beslutninger hører til dit eget lag. "
             "Intet er ændret.",
    "unassigned": "Dokumentet er tildelt andre kodere. Intet er ændret.",
    "read": "Det er en anden koders arbejde, som du ikke kan se.",
    "unguarded": "Handlingen er ikke tilladt på teamserveren. Intet er ændret.",
    "last_admin": "Den sidste administrator kan ikke fjernes eller miste rollen; giv først "
                  "en anden konto rollen admin. Intet er ændret.",
}


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
        return ACCESS_TEXTS.get(exc.kind, ACCESS_TEXTS["layer"])
    if isinstance(exc, ChainsTooHeavyError):
        return chains_stopped(exc.seconds)
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
    """True for the read-only project-lead mode: a signed-in lead account, or (single-user
    mode) env EVALTOOL_MODE=lead or the role chosen in the sidebar."""
    who = auth.actor()
    if who is not None:
        return Role(who.role) == Role.lead
    if os.environ.get(MODE_ENV, "").lower() == "lead":
        return True
    return st.session_state.get("role") == "Projektleder"


def forced_lead() -> bool:
    """True when the mode is fixed: by the environment, or by a signed-in account."""
    return auth.actor() is not None or os.environ.get(MODE_ENV, "").lower() == "lead"


def may_manage() -> bool:
    """True when this session may change the codebook, attributes and documents: not in the
    lead's view, and on a team server only an admin account (the store checks it too)."""
    if lead_mode():
        return False
    who = auth.actor()
    return who is None or who.can(Permission.manage)


def signed_in() -> Actor | None:
    """The signed-in account (team server), None in the single-user mode."""
    return auth.actor()


def coder() -> str | None:
    """The coder: the signed-in account, else the name chosen in the sidebar (None until one
    is chosen); a lead codes nothing."""
    who = auth.actor()
    if who is not None:
        return None if Role(who.role) == Role.lead else who.name
    name = (st.session_state.get("coder") or "").strip()
    return name or None


def reporter() -> str | None:
    """Who chooses quotes for the report (pins): the signed-in account, a lead too; else the
    sidebar's coder, or in the lead view the name the lead typed there (None until given)."""
    who = auth.actor()
    if who is not None:
        return who.name
    key = "lead_name" if lead_mode() else "coder"
    name = (st.session_state.get(key) or "").strip()
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


T = TypeVar("T")
# An error class → (flash kind, its Danish text), said instead of :func:`error_text`.
Refusals = Mapping[type[EvaltoolError], tuple[str, Callable[[Any], str]]]


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """What :func:`attempt` gave: the call's value, or (false) a refusal already said."""

    ok: bool
    value: T | None = None

    def __bool__(self) -> bool:
        return self.ok


def attempt(call: Callable[[], T], refusals: Refusals | None = None) -> Attempt[T]:
    """Run a store call; an ``EvaltoolError`` becomes a Danish flash (by ``refusals``, the
    first class that matches, else :func:`error_text`) and a false :class:`Attempt`."""
    try:
        return Attempt(True, call())
    except EvaltoolError as exc:
        for cls, (kind, said) in (refusals or {}).items():
            if isinstance(exc, cls):
                flash(kind, said(exc))
                break
        else:
            flash("error", error_text(exc))
        return Attempt(False)
