"""Driving the real app in a real browser: a demo database, `streamlit run app.py` on a free
localhost port, Debian's Chromium through Playwright.

Shared by the browser journeys (``tests/journeys/``), the screenshot script
(``scripts/screenshots.py``) and the latency benchmark (``benchmarks/browser_latency.py``).
Playwright never downloads a browser here: it is always given the path of the system's
Chromium, and :class:`BrowserUnavailable` says why when there is none.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

REPO = Path(__file__).resolve().parent.parent
# Headless Chromium as root needs --no-sandbox; the rest keeps it quiet and off the network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
# The first page load imports spaCy and opens the database: allow for a slow machine.
LOAD_TIMEOUT_MS = 120_000
NEW_CODER = "Ny koder…"


class BrowserUnavailable(Exception):
    """No Chromium can be had here (the message says why)."""


def find_chromium() -> str:
    """Path of Debian's Chromium (``/usr/bin/chromium`` or ``chromium`` on PATH)."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BrowserUnavailable("no chromium executable in /usr/bin or on PATH "
                             "(apt-get install chromium, or run `make test` as root)")


def launch_chromium(p: Playwright, executable: str | None = None) -> Browser:
    """Headless system Chromium (never a browser downloaded by Playwright)."""
    return p.chromium.launch(executable_path=executable or find_chromium(), args=CHROMIUM_ARGS)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_demo_db(path: Path) -> Path:
    """Build the demo database at ``path`` with the CLI (corpus, codebook, gold, suggestions)."""
    subprocess.run([sys.executable, "-m", "evaltool.cli", "--db", str(path), "demo",
                    "--corpus", str(REPO / "corpus")],
                   cwd=REPO, check=True, capture_output=True, text=True, timeout=600)
    return path


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout:.0f} s")


def _die_with_parent() -> None:
    """In the server's process: be terminated when the process that started it dies (Linux),
    so that a killed test run leaves no server behind."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def serve_script(script: Path, log_dir: Path, env: dict[str, str] | None = None,
                 timeout: float = 60.0, *, secrets: Path | None = None,
                 host: str = "127.0.0.1") -> Iterator[str]:
    """Run ``streamlit run script`` on a free localhost port (its log in ``log_dir``);
    yields its URL. The server is always terminated on exit (killed if it does not stop).

    ``secrets`` names the server's own ``secrets.toml`` (e.g. a sign-in provider's [auth]);
    ``host`` is the name in the URL (a provider's redirect URI must match it)."""
    port = free_port()
    url = f"http://{host}:{port}"
    log = log_dir / f"streamlit-{port}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--browser.gatherUsageStats", "false",
             # no "File change. Rerun" banner when someone edits the source meanwhile
             "--server.fileWatcherType", "none",
             *(["--secrets.files", str(secrets)] if secrets else [])],
            cwd=REPO, env=env or dict(os.environ), stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        try:
            _wait_healthy(url, server, log, timeout)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@contextlib.contextmanager
def serve_app(db: Path | str, *, mode: str | None = None, timeout: float = 60.0,
              log_dir: Path | None = None, env: dict[str, str] | None = None,
              **server: object) -> Iterator[str]:
    """Run ``streamlit run app.py`` on ``db`` (a file, or a database URL with ``log_dir``;
    lead mode if ``mode='lead'``; ``env`` adds variables, ``server`` goes to
    :func:`serve_script`); yields its URL."""
    env = {**os.environ, "EVALTOOL_DB": str(db), **(env or {})}
    env.pop("EVALTOOL_MODE", None)
    if mode:
        env["EVALTOOL_MODE"] = mode
    with serve_script(REPO / "app.py", log_dir or Path(db).parent, env, timeout,
                      **server) as url:
        yield url


def wait_idle(page: Page, timeout: int = LOAD_TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished running the script and nothing is stale."""
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=stApp]');"
        " return app && app.getAttribute('data-test-script-state') !== 'running'"
        " && !document.querySelector('[data-stale=true]'); }", timeout=timeout)


# Counts the script runs a page has seen: each time Streamlit's app element leaves
# 'running' (a full rerun or a fragment's). Installed into a browser context with
# :func:`count_runs`, so that :func:`act` can wait for the run an action caused to finish
# (waiting for 'not running' alone can pass before that run has even started). Read from
# each change's old value: a short run can start and end before the observer is called,
# and the attribute's value then no longer says 'running'.
RUN_COUNTER_JS = """
window.__evaltoolRuns = 0;
new MutationObserver((changes) => {
  for (const c of changes) {
    if (c.oldValue === 'running') window.__evaltoolRuns++;
  }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""
UNSEEN_RUN_MS = 8_000  # how long act() waits to see its run before taking it as unseen
SETTLED_JS = """(since) => {
  const app = document.querySelector('[data-testid=stApp]');
  return window.__evaltoolRuns > since && app
    && app.getAttribute('data-test-script-state') !== 'running'
    && !document.querySelector('[data-stale=true]');
}"""


def count_runs(context: BrowserContext) -> None:
    """Count script runs in every page of ``context`` (needed by :func:`act`)."""
    context.add_init_script(RUN_COUNTER_JS)


def runs(page: Page) -> int:
    """How many script runs the page has seen so far."""
    return page.evaluate("window.__evaltoolRuns")


def act(page: Page, action: Callable[[], object], timeout: int = LOAD_TIMEOUT_MS) -> None:
    """Do ``action`` (a click, a key press) and wait until the script run it caused has
    finished and nothing on the page is stale."""
    since = runs(page)
    action()
    settle(page, since, timeout)


def settle(page: Page, since: int, timeout: int = LOAD_TIMEOUT_MS) -> None:
    """Wait until the script run started after ``since`` runs has finished.

    A fast run can start and end within one browser frame; React then commits both states
    at once, 'running' never reaches the DOM and the run counter stays. When no run shows
    within a few seconds the run is taken as done once the page is idle (the caller's own
    expectations check what it drew)."""
    try:
        page.wait_for_function(SETTLED_JS, arg=since, timeout=min(timeout, UNSEEN_RUN_MS))
        return
    except PlaywrightTimeoutError:
        pass
    if runs(page) > since:  # seen, and still running: give it the whole time
        page.wait_for_function(SETTLED_JS, arg=since, timeout=timeout)
    else:
        wait_idle(page, timeout)


def open_app(page: Page, url: str, heading: str) -> None:
    """Load the app and wait for the default page's heading."""
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)


def choose_coder(page: Page, name: str) -> None:
    """Pick ``name`` in the sidebar's Koder box, entering it as a new coder if needed."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("combobox", name="Koder").click()
    options = page.get_by_role("option")
    known = page.get_by_role("option", name=name, exact=True)
    options.first.wait_for()
    if known.count():
        known.click()
    else:
        page.get_by_role("option", name=NEW_CODER).click()
        box = sidebar.get_by_label("Dit navn")
        box.fill(name)
        box.press("Enter")
    sidebar.get_by_text("Du koder som").wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)


def go_to(page: Page, title: str) -> None:
    """Open a page from the sidebar navigation and wait for its heading."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_idle(page)


# --- reading and driving widgets (shared by the journeys and the latency benchmark) ---

def danish_int(text: str) -> int:
    """The first whole number in ``text``, Danish thousands dots allowed: '1.234 rækker' → 1234."""
    m = re.search(r"\d[\d.]*", text)
    if m is None:
        raise ValueError(f"no number in {text!r}")
    return int(m.group(0).rstrip(".").replace(".", ""))


def pick(page: Page, label: str, option: str, scope: Locator | None = None,
         opener: Locator | None = None) -> None:
    """Choose ``option`` in the selectbox (or add it in the multiselect) labelled ``label``.

    ``opener`` is the button of the popover the box sits in: a click that misses the list
    lands outside the popover and shuts it, so the popover is opened again and the choice
    made again until the box shows it."""
    box = (scope or page).get_by_role("combobox", name=label, exact=True)
    if opener is None:
        _choose(page, box, option)
        return
    for _ in range(3):
        if not box.is_visible():
            opener.click()
            box.wait_for(timeout=LOAD_TIMEOUT_MS)
        _choose(page, box, option)
        if box.is_visible() and box.input_value() == option:
            return
    expect(box).to_have_value(option)


def _choose(page: Page, box: Locator, option: str) -> None:
    """Open ``box``'s list, click ``option`` and wait for the script run it starts."""
    if box.input_value() == option:  # already chosen: choosing it again runs nothing
        return
    wanted = page.get_by_role("option", name=option, exact=True)
    listbox = open_list(page, box)
    scroll_to(page, listbox, wanted, 50)
    since = runs(page)
    wanted.click()
    # A click on an option while the list still moves can be lost (the list stays open with
    # the option highlighted and no script run starts): click it again. A box that is gone
    # (its popover shut, or the run redrew the page) is not waited for.
    for _ in range(3):
        try:
            page.wait_for_function(SETTLED_JS, arg=since, timeout=10_000)
            return
        except PlaywrightTimeoutError:
            if runs(page) > since or not box.is_visible():
                break
            if box.input_value(timeout=2_000) == option:
                break  # chosen; its script run is just slow (or was too fast to see)
            if wanted.count():
                wanted.click()
    settle(page, since)


def open_list(page: Page, box: Locator) -> Locator:
    """Open ``box``'s list of options and return it. A click on a box near the page's foot
    (or during a rerun) can leave the list shut: a click, then the keyboard, a few times."""
    listbox = page.get_by_role("listbox").last
    for attempt in range(4):
        if attempt % 2 == 0:
            box.click()
        else:
            box.press("ArrowDown")
        try:
            listbox.wait_for(timeout=5_000)
            return listbox
        except PlaywrightTimeoutError:
            if attempt == 3:
                raise
    return listbox


def scroll_to(page: Page, listbox: Locator, option: Locator, steps: int = 60) -> None:
    """Scroll an open list down until ``option`` is drawn (long lists draw only the options
    in view); at most ``steps`` half-pages."""
    for _ in range(steps):
        if option.count() or not listbox.count():  # drawn, or the list has shut
            break
        listbox.evaluate("el => { el.scrollTop += el.clientHeight / 2; }")
        page.wait_for_timeout(50)


def choose_in_form(page: Page, scope: Locator, label: str, option: str) -> None:
    """Choose ``option`` in a selectbox that starts no script run (inside a form or a
    dialog) and see it chosen; a click on an option while the list still moves can be lost
    (the list stays open with the option highlighted), so it is clicked again."""
    box = scope.get_by_role("combobox", name=label, exact=True)
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        if not wanted.count():
            scroll_to(page, open_list(page, box), wanted)
        if not wanted.count():
            continue  # the list shut while it scrolled: open it again
        wanted.click()
        try:
            expect(box).to_have_value(option, timeout=5_000)
            return
        except AssertionError:
            continue
    expect(box).to_have_value(option)


def alerts(page: Page) -> Locator:
    """Every message box (st.success/info/warning/error) on the page."""
    return page.get_by_test_id("stAlert")


def metric(scope: Locator, label: str) -> int:
    """The whole number shown by the ``st.metric`` labelled ``label`` inside ``scope``."""
    box = scope.get_by_test_id("stMetric").filter(
        has=scope.page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    return danish_int(box.get_by_test_id("stMetricValue").inner_text())
