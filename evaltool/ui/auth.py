"""Who is signed in: OpenID Connect (``st.login``) when a provider is configured in
``.streamlit/secrets.toml``, local accounts (a name and password form) when the database has
accounts, and nobody in the embedded single-user mode (whoever opens the database owns it).

The signed-in account is the coder: its name goes into every decision, and its role
decides what the app offers (the store enforces it again, see ``evaltool.accounts``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import streamlit as st

from evaltool import accounts
from evaltool.domain import Actor, Role
from evaltool.errors import SignInError
from evaltool.store import Store
from evaltool.ui.text import md

ACTOR = "auth_actor"  # the signed-in Actor of this browser session
LAST_SEEN = "auth_last_seen"  # when this session last did something (UTC)
NOTICE = "auth_notice"  # a message for the sign-in page (e.g. the session expired)

ROLE_NAMES = {Role.evaluator: "evaluator", Role.lead: "projektleder (kun læsning)",
              Role.admin: "administrator"}
WRONG = "Forkert navn eller adgangskode."
LOCKED = "For mange mislykkede forsøg. Vent et kvarter, og prøv igen."
EXPIRED = "Du er logget ud, fordi du ikke har brugt evaltool i et stykke tid. Log ind igen."
UNKNOWN_OIDC = ("Du er logget ind hos din organisation, men der er ingen konto i evaltool til "
                "dig{who}. Bed en administrator oprette dig med `evaltool user add`.")
SINGLE_USER = "Enkeltbrugertilstand: ingen login, databasen ligger på denne maskine."

log = logging.getLogger(__name__)


def provider_configured() -> bool:
    """True when ``secrets.toml`` has an ``[auth]`` section with a provider (st.login)."""
    try:
        section = st.secrets.get("auth")
    except (FileNotFoundError, KeyError):  # no secrets file at all
        return False
    return bool(section) and "client_id" in section


def mode(store: Store) -> str | None:
    """'oidc', 'local' or None (the embedded single-user mode: no sign-in)."""
    if provider_configured():
        return "oidc"
    return "local" if accounts.team_mode(store) else None


def actor() -> Actor | None:
    """The signed-in account of this session (None when nobody is, or in single-user mode)."""
    return st.session_state.get(ACTOR)


def touch() -> None:
    """Note that the person did something now (sessions expire after inactivity)."""
    if actor() is not None:
        st.session_state[LAST_SEEN] = datetime.now(UTC)


def expired() -> bool:
    """True when the signed-in session has been idle for longer than allowed."""
    seen = st.session_state.get(LAST_SEEN)
    return seen is not None and accounts.session_expired(seen, datetime.now(UTC))


def gate(store: Store, *, active: bool = True) -> Actor | None:
    """The signed-in account, or None in single-user mode; otherwise draws the sign-in
    page and stops the script. ``active`` is False for a rerun nobody asked for (a live
    update), which does not count as activity."""
    how = mode(store)
    if how is None:
        return None
    if actor() is not None and expired():
        _forget()
        st.session_state[NOTICE] = EXPIRED
        if how == "oidc":
            st.logout()  # clears the identity cookie too; the provider's page follows
            st.stop()
    if actor() is None:
        if how == "oidc":
            _oidc_sign_in(store)
        else:
            _local_sign_in(store)
        st.stop()
    if active:
        touch()
    return actor()


def sign_out() -> None:
    """Forget the signed-in account (and the provider's identity cookie)."""
    who = actor()
    _forget()
    if who is not None and who.source == "oidc":
        st.logout()
    else:
        st.rerun()


def sidebar_status() -> None:
    """Who is signed in and the sign-out button (in the sidebar), or the single-user note."""
    who = actor()
    if who is None:
        st.caption(SINGLE_USER)
        return
    st.caption(f"Logget ind som **{md(who.name)}** · {ROLE_NAMES.get(Role(who.role), who.role)}")
    if st.button("Log ud", key="auth_sign_out", icon=":material/logout:"):
        sign_out()


def _forget() -> None:
    for key in (ACTOR, LAST_SEEN):
        st.session_state.pop(key, None)


def _notice() -> None:
    text = st.session_state.pop(NOTICE, None)
    if text:
        st.warning(text)


def _signed_in(who: Actor) -> None:
    st.session_state[ACTOR] = who
    st.session_state[LAST_SEEN] = datetime.now(UTC)


def _oidc_sign_in(store: Store) -> None:
    """The provider's sign-in: a button to st.login, or map the identity to an account."""
    st.header("Log ind")
    if st.user.is_logged_in:
        email = st.user.get("email")
        try:
            who = accounts.oidc_actor(store, email=email, name=st.user.get("name"))
        except SignInError:
            st.error(UNKNOWN_OIDC.format(who=f" ({md(email)})" if email else ""))
            if st.button("Log ud", key="auth_oidc_unknown_out"):
                st.logout()
            return
        _signed_in(who)
        st.rerun()
    _notice()
    st.write("evaltool kører som teamserver. Log ind med din organisations konto.")
    if st.button("Log ind", type="primary", key="auth_oidc_login", icon=":material/login:"):
        st.login()


def _local_sign_in(store: Store) -> None:
    """The name and password form of local accounts."""
    st.header("Log ind")
    _notice()
    with st.form("auth_sign_in", clear_on_submit=True):
        name = st.text_input("Navn", key="auth_name")
        password = st.text_input("Adgangskode", type="password", key="auth_password")
        submitted = st.form_submit_button("Log ind", type="primary")
    if not submitted:
        return
    try:
        who = accounts.authenticate(store, name.strip(), password, client=_client())
    except SignInError as exc:
        st.error(LOCKED if exc.kind == "locked" else WRONG)
        return
    _signed_in(who)
    st.rerun()


def _client() -> str:
    """What identifies the browser's machine for the rate limit (its IP address, if known)."""
    try:
        address = st.context.ip_address
    except AttributeError:
        return ""
    return address if isinstance(address, str) else ""  # (not a string in AppTest)
