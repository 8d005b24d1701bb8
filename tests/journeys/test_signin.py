"""Journeys on a team server: signing in through an OpenID Connect provider (a real one,
``oidc-provider-mock``, run here) and with local accounts; two evaluators coding blind and a
lead reading the dashboard, in three browser contexts against one PostgreSQL database, with
live updates between them.

These servers are the journeys' own (a sign-in server needs its own database and secrets):
one on a copy of the demo database with a provider in its ``secrets.toml``, one on a small
PostgreSQL database with local accounts.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from evaltool import accounts
from evaltool.autocode import run as autocode_run
from evaltool.codebook import load_codebook_file
from evaltool.importer import import_paths
from evaltool.store import open_store
from tests.browser_util import LOAD_TIMEOUT_MS, REPO, act, serve_app, wait_idle
from tests.journeys.journey import (
    NEW_USERS,
    NEW_USERS_LABEL,
    STATUS,
    VILLAGE,
    VILLAGE_LABEL,
    accept,
    flash,
    open_document,
    theme_quotes,
    transcript,
)

pytestmark = pytest.mark.browser

PASSWORD = "kaffe-og-kage-42"
EVA, ERIK, LONE = "Eva Ebbesen", "Erik Ørum", "Lone Leder"
IDA_EMAIL = "ida@example.org"
LIVE_SECONDS = 5  # the servers' poll (slow on a loaded machine); a change must show within a few
LIVE_WAIT_S = 30


# --- servers ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A real OpenID Connect provider on localhost that signs in the user 'ida' with one click."""
    mock = pytest.importorskip("oidc_provider_mock")
    with mock.run_server_in_thread(user_claims=[mock.User(
            sub="ida", claims={"email": IDA_EMAIL, "name": "Ida Holm"})]) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def oidc_url(provider: str, demo_db: Path, journey_dir: Path) -> Iterator[str]:
    """An app server whose secrets.toml names the provider, on a copy of the demo database
    with Ida's account (matched by her e-mail address, no password)."""
    folder = journey_dir / "oidc"
    folder.mkdir(exist_ok=True)
    db = folder / "oidc.db"
    with sqlite3.connect(demo_db) as source, sqlite3.connect(db) as copy:
        source.backup(copy)  # consistent while the shared server writes
    store = open_store(str(db))
    try:
        accounts.add_user(store, "Ida Holm", "evaluator", None, email=IDA_EMAIL)
    finally:
        store.close()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        'cookie_secret = "evaltool-journey-cookie-secret-0123456789"\n'
        'client_id = "evaltool"\n'
        'client_secret = "evaltool-journey-client-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8")
    with serve_app(db, secrets=secrets, host="localhost") as url:
        yield url


@pytest.fixture(scope="module")
def team_db(postgres_server, journey_dir: Path, model_nlp) -> Iterator[str]:
    """A PostgreSQL database: the codebook, two small transcripts with suggestions (Blindby
    assigned blind to Eva and Erik, Fællesby shared), and the team's local accounts."""
    url = postgres_server.create_database()
    store = open_store(url)
    try:
        load_codebook_file(store, REPO / "codebooks" / "smaat_braendbart.yaml", seed=False)
        folder = journey_dir / "team"
        files = [transcript(folder, "Blindby", "blindby.txt"),
                 transcript(folder, "Fællesby", "faellesby.txt")]
        import_paths(files, store, lambda: model_nlp)
        autocode_run.run(store, lambda: model_nlp)
        store.assign(store.get_document("blindby.txt").id, [EVA, ERIK], blind=True)
        for name, role in ((EVA, "evaluator"), (ERIK, "evaluator"), (LONE, "lead"),
                           ("Låst Konto", "evaluator")):
            accounts.add_user(store, name, role, PASSWORD)
    finally:
        store.close()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="module")
def team_url(team_db: str, journey_dir: Path) -> Iterator[str]:
    """An app server on the team's PostgreSQL database (local accounts, live updates)."""
    with serve_app(team_db, log_dir=journey_dir,
                   env={"EVALTOOL_LIVE_SECONDS": str(LIVE_SECONDS)}) as url:
        yield url


# --- steps -----------------------------------------------------------------------------

def sidebar(page: Page):
    """The app's sidebar."""
    return page.get_by_test_id("stSidebar")


def signed_in_as(page: Page, name: str) -> None:
    """See the sidebar say who is signed in."""
    expect(sidebar(page).get_by_text(re.compile(rf"^Logget ind som {re.escape(name)} ·"))
           ).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)


def sign_in_form(page: Page, url: str, name: str, password: str) -> None:
    """Open the app, fill in the sign-in form and submit it."""
    if not page.url.startswith(url):
        page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name="Log ind").wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)
    page.get_by_label("Navn").fill(name)
    page.get_by_label("Adgangskode").fill(password)
    act(page, page.get_by_role("button", name="Log ind").click)


def sign_in(page: Page, url: str, name: str, heading: str = "Kodning") -> None:
    """Sign in with a local account and land on ``heading``."""
    sign_in_form(page, url, name, PASSWORD)
    signed_in_as(page, name)
    page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=LOAD_TIMEOUT_MS)


def nav_titles(page: Page) -> set[str]:
    """The titles of the pages the sidebar offers."""
    return {t.strip() for t in page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()}


def eventually(read: Callable[[], object], wanted: object, seconds: float = LIVE_WAIT_S) -> float:
    """Wait (no reload) until ``read()`` gives ``wanted``; returns the seconds it took."""
    began = time.monotonic()
    while True:
        got = read()
        if got == wanted:
            return time.monotonic() - began
        if time.monotonic() - began > seconds:
            raise AssertionError(f"after {seconds} s still {got!r}, wanted {wanted!r}")
        time.sleep(0.3)


def box_of(page: Page, sentence: str):
    """The box of one sentence on the Dokument view: its text, Historik and codings."""
    return page.get_by_test_id("stVerticalBlock").filter(
        has=page.get_by_text(sentence, exact=True)).filter(
        has=page.get_by_role("button", name="Historik")).last


def row_of(page: Page, sentence: str, label: str):
    """The row of the coding ``label`` under ``sentence`` (Dokument view), with its buttons."""
    return box_of(page, sentence).get_by_test_id("stHorizontalBlock").filter(has_text=label).filter(
        has=page.get_by_role("button", name="Memo", exact=True))


def status_of(page: Page, sentence: str, label: str) -> str:
    """The status (Forslag, Accepteret, Afvist) the coding row shows ('' when not shown)."""
    row = row_of(page, sentence, label)
    if not row.count():
        return ""
    text = row.first.inner_text()
    return next((s for s in STATUS.values() if s in text), "")


# --- journeys --------------------------------------------------------------------------

def test_sign_in_through_the_organisations_provider(page: Page, oidc_url: str) -> None:
    """Ida signs in at the provider (OpenID Connect) and codes as her account; signs out."""
    page.goto(oidc_url, wait_until="domcontentloaded")
    page.get_by_role("heading", name="Log ind").wait_for(timeout=LOAD_TIMEOUT_MS)
    expect(sidebar(page).get_by_role("combobox", name="Koder")).to_have_count(0)
    page.get_by_role("button", name="Log ind").click()
    page.get_by_role("button", name="ida").click()  # the provider's page: sign in as ida
    signed_in_as(page, "Ida Holm")
    page.get_by_role("heading", name="Kodning", exact=True).wait_for()
    expect(sidebar(page).get_by_role("combobox", name="Koder")).to_have_count(0)
    expect(page.get_by_text("Vælg en koder")).to_have_count(0)

    sidebar(page).get_by_role("button", name="Log ud").click()
    page.get_by_role("button", name="End session").click()  # the provider's page
    page.get_by_role("heading", name="Log ind").wait_for(timeout=LOAD_TIMEOUT_MS)
    page.goto(oidc_url, wait_until="domcontentloaded")  # the identity cookie is gone too
    page.get_by_role("heading", name="Log ind").wait_for(timeout=LOAD_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Log ind")).to_be_visible()


def test_failed_sign_ins_are_rate_limited(page: Page, team_url: str) -> None:
    """A wrong password or an unknown name gets one Danish sentence (no hint which part was
    wrong); after five wrong passwords even the right one is refused for a while."""
    sign_in_form(page, team_url, "Ingen Sådan", PASSWORD)
    expect(page.get_by_text("Forkert navn eller adgangskode.")).to_be_visible()
    for _ in range(accounts.MAX_FAILURES):
        sign_in_form(page, team_url, "Låst Konto", "forkert-kode-99")
        expect(page.get_by_text("Forkert navn eller adgangskode.")).to_be_visible()
    sign_in_form(page, team_url, "Låst Konto", PASSWORD)
    expect(page.get_by_text(re.compile("For mange mislykkede forsøg"))).to_be_visible()
    expect(sidebar(page).get_by_text("Logget ind som")).to_have_count(0)


def test_two_evaluators_code_blind_and_the_lead_reads(new_page: Callable[[], Page], team_url: str,
                                                      team_db: str) -> None:
    """Done when of #17: two evaluators and a lead in three browsers on one PostgreSQL
    database. The evaluators code blind, the lead sees the dashboard and can change
    nothing, the history names the accounts, and a decision in the shared layer appears in
    the other sessions without a reload; then one signs out."""
    eva, erik, lone = new_page(), new_page(), new_page()
    sign_in(eva, team_url, EVA)
    sign_in(erik, team_url, ERIK)
    sign_in(lone, team_url, LONE, heading="Dashboard")

    # blind: Eva accepts in her layer; Erik still sees the open suggestion, and rejects it
    open_document(eva, "blindby.txt", "Blindby")
    accept(eva, VILLAGE, VILLAGE_LABEL)
    open_document(erik, "blindby.txt", "Blindby")
    time.sleep(LIVE_SECONDS * 2)  # a poll or two: Eva's decision must not show up for Erik
    assert status_of(erik, VILLAGE, VILLAGE_LABEL) == STATUS["suggested"]
    act(erik, row_of(erik, VILLAGE, VILLAGE_LABEL).get_by_role("button", name="Afvis").click)
    expect(flash(erik, rf"^Afvist: {VILLAGE_LABEL}")).to_be_visible()
    assert status_of(eva, VILLAGE, VILLAGE_LABEL) == STATUS["accepted"]

    # the history names the signed-in accounts, each coder only their own decisions
    box_of(eva, VILLAGE).get_by_role("button", name="Historik").click()
    history = eva.get_by_test_id("stPopoverBody")
    expect(history).to_contain_text(EVA)
    expect(history).not_to_contain_text(ERIK)
    eva.keyboard.press("Escape")
    store = open_store(team_db)
    try:
        doc = store.get_document("blindby.txt")
        village = next(s for s in store.segments(doc.id) if s.text == VILLAGE)
        assert {e.coder for e in store.history(village.id) if e.coder} == {EVA, ERIK}
        theme = next(c for c in store.codes() if c.label == NEW_USERS_LABEL).themes[0]
    finally:
        store.close()

    # the lead: the dashboard, read only (no coding pages, no coder or role to choose)
    offered = nav_titles(lone)
    assert "Dashboard" in offered
    assert not offered & {"Kodning", "Import", "Attributter", "Søg", "Matricer", "Enighed"}
    expect(sidebar(lone).get_by_role("combobox", name="Koder")).to_have_count(0)
    expect(sidebar(lone).get_by_role("radiogroup", name="Rolle")).to_have_count(0)
    expect(lone.get_by_role("button", name="Accepter")).to_have_count(0)
    before = theme_quotes(lone, theme)

    # live: Eva accepts in the shared layer; Erik's document and Lone's dashboard follow
    open_document(erik, "faellesby.txt", "Fællesby")
    assert status_of(erik, NEW_USERS, NEW_USERS_LABEL) == STATUS["suggested"]
    open_document(eva, "faellesby.txt", "Fællesby")
    accept(eva, NEW_USERS, NEW_USERS_LABEL)
    took = eventually(lambda: status_of(erik, NEW_USERS, NEW_USERS_LABEL), STATUS["accepted"])
    eventually(lambda: theme_quotes(lone, theme), before + 1)
    assert took < LIVE_WAIT_S

    # signing out returns to the form; the next person must sign in again
    act(eva, sidebar(eva).get_by_role("button", name="Log ud").click)
    eva.get_by_role("heading", name="Log ind").wait_for(timeout=LOAD_TIMEOUT_MS)
    expect(sidebar(eva).get_by_text("Logget ind som")).to_have_count(0)
    expect(eva.get_by_role("heading", name="Kodning", exact=True)).to_have_count(0)
