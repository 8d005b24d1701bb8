"""Browser journeys: what a person does across the app's pages, and what they see afterwards.

One demo database (built once into a temp folder), one app server on a free port (and a
second, read-only one with ``EVALTOOL_MODE=lead`` on the same database, started when a lead
journey first needs it) and one headless Debian Chromium serve the whole session. Each
journey gets fresh browser contexts (its own Streamlit sessions), works on its own
documents or coders, and asserts on changes relative to what it saw before, so journeys do
not depend on each other's order.

When a journey fails, a screenshot and the text of every page it opened are saved in a
folder whose path is printed with the failure ("journey evidence").
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import Browser, BrowserContext, Error, Page, expect, sync_playwright

from tests.browser_util import (
    VIEWPORT,
    BrowserUnavailable,
    build_demo_db,
    count_runs,
    find_chromium,
    launch_chromium,
    serve_app,
)

# Playwright's default wait for one element: generous, because the first render after a
# server start imports spaCy, and this machine is shared.
ACTION_TIMEOUT_MS = 60_000
expect.set_options(timeout=ACTION_TIMEOUT_MS)  # expect() waits 5 s by default


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of the system Chromium, or skip with the reason."""
    try:
        return find_chromium()
    except BrowserUnavailable as exc:
        pytest.skip(f"Chromium not available: {exc}")


@pytest.fixture(scope="session")
def journey_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's folder: database, server logs, uploads."""
    return tmp_path_factory.mktemp("journeys")


@pytest.fixture(scope="session")
def evidence_dir() -> Path:
    """Where failed journeys leave screenshots and page text: outside pytest's numbered temp
    folders, which other pytest runs clean up (``EVALTOOL_JOURNEY_EVIDENCE`` overrides)."""
    root = Path(os.environ.get("EVALTOOL_JOURNEY_EVIDENCE")
                or Path(tempfile.gettempdir()) / "evaltool-journeys")
    return root / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"


@pytest.fixture(scope="session")
def demo_db(chromium: str, journey_dir: Path) -> Path:
    """The demo database (five transcripts, codebook, gold codings, suggestions), built once.

    ``EVALTOOL_JOURNEY_DEMO=path`` copies a demo database built earlier instead (for working
    on the journeys themselves; never set by `make test`).
    """
    prebuilt = os.environ.get("EVALTOOL_JOURNEY_DEMO")
    if prebuilt:
        return Path(shutil.copy(prebuilt, journey_dir / "demo.db"))
    return build_demo_db(journey_dir / "demo.db")


@pytest.fixture(scope="session")
def app_url(demo_db: Path) -> Iterator[str]:
    """URL of the evaluator's app server (one per session)."""
    with serve_app(demo_db) as url:
        yield url


@pytest.fixture(scope="session")
def lead_url(demo_db: Path) -> Iterator[str]:
    """URL of a second server on the same database in read-only lead mode."""
    with serve_app(demo_db, mode="lead") as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    """One headless Chromium for the session."""
    manager = sync_playwright().start()
    try:
        try:
            browser = launch_chromium(manager, chromium)
        except Error as exc:
            pytest.skip(f"Chromium does not start: {exc.message.splitlines()[0]}")
        yield browser
        browser.close()
    finally:
        manager.stop()


class Pages:
    """The browser contexts a journey opened: one per person, closed after the journey."""

    def __init__(self, browser: Browser, evidence: Path) -> None:
        self.browser = browser
        self.evidence = evidence
        self.contexts: list[BrowserContext] = []

    def new(self, **options) -> Page:
        """A page in a fresh context (its own Streamlit session, no shared cookies)."""
        context = self.browser.new_context(viewport=VIEWPORT, accept_downloads=True, **options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        count_runs(context)
        self.contexts.append(context)
        return context.new_page()

    def save_evidence(self) -> Path:
        """A screenshot and the visible text of every open page, in ``evidence``."""
        self.evidence.mkdir(parents=True, exist_ok=True)
        n = 0
        for context in self.contexts:
            for page in context.pages:
                n += 1
                try:
                    page.screenshot(path=self.evidence / f"page{n}.png", full_page=True,
                                    timeout=15_000)
                    (self.evidence / f"page{n}.txt").write_text(
                        f"{page.url}\n\n{page.inner_text('body', timeout=5_000)}", encoding="utf-8")
                except Error as exc:  # a crashed page still leaves the others' evidence
                    (self.evidence / f"page{n}.error.txt").write_text(str(exc), encoding="utf-8")
        return self.evidence

    def close(self) -> None:
        """Close every context the journey opened."""
        for context in self.contexts:
            with contextlib.suppress(Error):  # already gone with a crashed browser
                context.close()


@pytest.fixture
def pages(browser: Browser, evidence_dir: Path, request: pytest.FixtureRequest
          ) -> Iterator[Pages]:
    """Fresh browser contexts for one journey (each ``pages.new()`` is another person)."""
    tracker = Pages(browser, evidence_dir / re.sub(r"[^\w.-]+", "_", request.node.name))
    yield tracker
    tracker.close()


@pytest.fixture
def page(pages: Pages) -> Page:
    """One fresh page (one person) for a journey."""
    return pages.new()


@pytest.fixture
def new_page(pages: Pages) -> Callable[[], Page]:
    """Open another person's page (a new browser context)."""
    return pages.new


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """On a failed journey, save screenshots and page text and print where they are."""
    outcome = yield
    report = outcome.get_result()
    tracker = getattr(item, "funcargs", {}).get("pages")
    if report.when == "call" and report.failed and isinstance(tracker, Pages):
        folder = tracker.save_evidence()
        report.sections.append(("journey evidence",
                                f"screenshots and page text of the failed journey: {folder}"))

