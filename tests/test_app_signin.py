"""Signing in to a team server (local accounts) in the app: the form, a wrong password, the
account as the coder, a lead's read-only app, signing out, an idle session expiring; and the
single-user default without sign-in. (The browser journeys: tests/journeys/test_signin.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaltool import accounts
from evaltool.codebook import load_codebook_file
from evaltool.store import Store, open_store
from evaltool.ui import auth
from evaltool.ui.pages import codebook_page
from tests.app_util import ROOT

PASSWORD = "kaffe-og-kage-42"


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch) -> Iterator[Store]:
    """An empty database named by EVALTOOL_DB for the app (signing in needs no documents)."""
    store = open_store(str(tmp_path / "signin.db"))
    monkeypatch.setenv("EVALTOOL_DB", str(tmp_path / "signin.db"))
    monkeypatch.delenv("EVALTOOL_MODE", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield store
    store.close()
    st.cache_resource.clear()
    st.cache_data.clear()


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="auth_name").input(name)
    at.text_input(key="auth_password").input(password)
    at.button[0].click()  # the form's 'Log ind'
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    return "\n".join(e.value for e in [*at.error, *at.warning, *at.caption, *at.markdown])


def test_single_user_mode_has_no_sign_in_and_says_so(app_db) -> None:
    at = _app()
    assert not [t for t in at.text_input if t.key == "auth_password"]
    assert any(c.value == auth.SINGLE_USER for c in at.sidebar.caption)
    assert at.sidebar.selectbox(key="coder_choice")  # the typed coder name is still there


def test_evaluator_signs_in_codes_as_the_account_and_signs_out(app_db) -> None:
    load_codebook_file(app_db, ROOT / "codebooks" / "smaat_braendbart.yaml", seed=False)
    accounts.add_user(app_db, "Ida Holm", "evaluator", PASSWORD)
    at = _app()
    assert [h.value for h in at.header] == ["Log ind"]
    assert not at.sidebar.selectbox  # nothing to choose before signing in
    _sign_in(at, "Ida Holm", PASSWORD)
    assert "Logget ind som **Ida Holm** · evaluator" in [c.value for c in at.sidebar.caption]
    assert not [s for s in at.sidebar.selectbox if s.key == "coder_choice"]  # no typed name
    assert not at.sidebar.radio  # no role to choose either: the account's role holds
    assert at.session_state[auth.ACTOR].name == "Ida Holm"
    # the password typed is not kept in the session
    assert "auth_password" not in at.session_state or at.session_state["auth_password"] == ""

    at.switch_page("evaltool/ui/pages/codebook_page.py").run()  # an admin's to change
    assert not at.exception, [e.value for e in at.exception]
    assert codebook_page.MANAGED in [c.value for c in at.caption]
    assert not at.text_input and not at.tabs  # no editing forms
    at.switch_page("evaltool/ui/pages/coding.py").run()

    next(b for b in at.sidebar.button if b.label == "Log ud").click().run()
    assert [h.value for h in at.header] == ["Log ind"]
    assert auth.ACTOR not in at.session_state


def test_wrong_password_and_unknown_name_get_one_danish_message(app_db) -> None:
    accounts.add_user(app_db, "Ida Holm", "evaluator", PASSWORD)
    at = _sign_in(_app(), "Ida Holm", "forkert-kode-99")
    assert [e.value for e in at.error] == [auth.WRONG]
    at = _sign_in(at, "Ingen Sådan", PASSWORD)
    assert [e.value for e in at.error] == [auth.WRONG]  # no hint which of the two was wrong
    assert auth.ACTOR not in at.session_state


def test_repeated_failures_lock_the_account_even_with_the_right_password(app_db) -> None:
    accounts.add_user(app_db, "Ida Holm", "evaluator", PASSWORD)
    at = _app()
    for _ in range(accounts.MAX_FAILURES):
        _sign_in(at, "Ida Holm", "forkert-kode-99")
    _sign_in(at, "Ida Holm", PASSWORD)
    assert [e.value for e in at.error] == [auth.LOCKED]
    assert auth.ACTOR not in at.session_state


def test_lead_account_gets_the_read_only_app(app_db) -> None:
    accounts.add_user(app_db, "Lone Leder", "lead", PASSWORD)
    at = _sign_in(_app(), "Lone Leder", PASSWORD)
    assert "Logget ind som **Lone Leder** · projektleder (kun læsning)" in [
        c.value for c in at.sidebar.caption]
    assert "Dashboard" in [h.value for h in at.title]  # the lead's default page
    assert not at.sidebar.radio  # no switching to the evaluator's role


def test_idle_session_expires_to_the_sign_in_form(app_db, monkeypatch) -> None:
    monkeypatch.setenv("EVALTOOL_SESSION_IDLE_MINUTES", "30")
    accounts.add_user(app_db, "Ida Holm", "evaluator", PASSWORD)
    at = _sign_in(_app(), "Ida Holm", PASSWORD)
    at.session_state[auth.LAST_SEEN] = datetime.now(UTC) - timedelta(minutes=31)
    at.run()
    assert [h.value for h in at.header] == ["Log ind"]
    assert [w.value for w in at.warning] == [auth.EXPIRED]
    assert auth.ACTOR not in at.session_state
