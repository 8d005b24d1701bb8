"""Review latency in the browser: click-to-settled in Debian's Chromium.

    python -m benchmarks.browser_latency [--quick] [--repeats 15] [--json out.json]

For each action the time runs from the click (a capture-phase listener in the page notes
``performance.now()``) to *settled*: Streamlit has run the script the click caused (the
app's ``data-test-script-state`` went to 'running' and back), nothing on the page is stale,
and the element the action changes shows its new state (the queue's next suggestion, the
memo's message, the Dashboard's caption). Both ends are read from the page's clock, so
Playwright's own overhead is not counted. The actions, each repeated (median and p90):

- accept / reject: the 'Næste usikre' view's Accepter / Afvis (the next suggestion shown);
- next in queue: 'Spring over' (the next suggestion shown);
- memo save: 'Gem memo' in a coding's Memo popover on the Dokument view (its message shown);
- dashboard filter: choosing another Sted on the Dashboard (the caption and cards redrawn;
  each site first time after a decision, so not from the cache).

On the demo database and on a generated one of 100 k segments (built as the dashboard
benchmark builds it: suggestions on every segment). Baseline, same run and browser: a
one-line Streamlit page with one button, click-to-settled. ``--quick`` uses a 300-segment
database and 2 repeats (the smoke test).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import ROOT, Config, Row, load_average

NAME = "browser_latency"
TARGET_MS = 250.0
TARGETED = ("accept", "next in queue")
ACTIONS = ("accept", "reject", "next in queue", "memo save", "dashboard filter")
CODER = "Måler Mads"

# Notes the time of every click, in the page's clock, before Streamlit sees it.
CLICK_CLOCK_JS = """
window.__evaltoolClicks = [];
document.addEventListener('pointerdown', () => window.__evaltoolClicks.push(performance.now()),
                          true);
"""
# Settled: a run started after the click has finished, nothing is stale, and ``done`` (a
# JavaScript condition on the page) holds; returns the time it first held.
SETTLED_JS = """([since, done]) => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!((since < 0 || window.__evaltoolRuns > since) && app
        && app.getAttribute('data-test-script-state') !== 'running'
        && !document.querySelector('[data-stale=true]') && eval(done))) return false;
  return performance.now();
}"""
# The baseline: one button and the count of its clicks (the element that changes).
BASELINE_APP = """import streamlit as st

st.button("Klik", on_click=lambda: st.session_state.update(n=st.session_state.get("n", 0) + 1))
st.write(f"Klik: {st.session_state.get('n', 0)}")
"""


def _percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class Timer:
    """Click-to-settled times of one page."""

    def __init__(self, page) -> None:
        self.page = page

    def click(self, target, done: str, timeout: int = 120_000, *, seen_run: bool = True
              ) -> float:
        """Click ``target`` (a Locator), wait until settled and ``done`` holds; milliseconds.

        ``seen_run=False`` does not wait to see the script state switch to 'running' (a
        run as short as the baseline's can start and end within one drawn frame); ``done``
        must then name what only the run changes.
        """
        from tests.browser_util import runs

        since = runs(self.page) if seen_run else -1
        clicks = self.page.evaluate("window.__evaltoolClicks.length")
        target.click()
        handle = self.page.wait_for_function(SETTLED_JS, arg=[since, done], timeout=timeout,
                                             polling="raf")
        settled = handle.json_value()
        clicked = self.page.evaluate(f"window.__evaltoolClicks[{clicks}]")
        return settled - clicked


def _text_changed_js(selector_js: str, before: str) -> str:
    """A JavaScript condition: the text of the element ``selector_js`` finds is not ``before``."""
    return (f"(() => {{ const el = {selector_js}; return el && el.innerText.trim() !== "
            f"{json.dumps(before)}; }})()")


QUEUE_CAPTION_JS = ("[...document.querySelectorAll('[data-testid=stMain] "
                    "[data-testid=stCaptionContainer]')].find(e => /tilbage/.test(e.innerText))")
ALERT_JS = "[...document.querySelectorAll('[data-testid=stAlert]')].map(e => e.innerText).join('|')"


def _queue_state(page) -> str:
    """The queue's caption and the suggestion below it (what changes with the next item)."""
    return page.evaluate(f"(() => {{ const c = {QUEUE_CAPTION_JS}; return c ? "
                         "c.parentElement.closest('[data-testid=stVerticalBlock]').innerText : ''"
                         "; })()")


def _queue_actions(page, timer: Timer, repeats: int) -> dict[str, list[float]]:
    """Accept, reject and skip in the 'Næste usikre' view, ``repeats`` times each."""
    from tests.journeys.journey import main, show_view

    show_view(page, "Næste usikre")
    out: dict[str, list[float]] = {"accept": [], "reject": [], "next in queue": []}
    buttons = {"accept": "Accepter", "reject": "Afvis", "next in queue": "Spring over"}
    state_js = (f"(() => {{ const c = {QUEUE_CAPTION_JS}; return c && "
                "c.parentElement.closest('[data-testid=stVerticalBlock]').innerText; })()")
    for _ in range(repeats):
        for action, label in buttons.items():
            before = _queue_state(page)
            done = f"(() => {{ const s = {state_js}; return s && s !== {json.dumps(before)}; }})()"
            # not exact: the button's name ends with its shortcut key; the fragment's run
            # can start and end within one frame: the next item is what only the run draws
            out[action].append(timer.click(main(page).get_by_role("button", name=label), done,
                                           seen_run=False))
    return out


def _memo_saves(page, timer: Timer, repeats: int, db: Path, document: str) -> list[float]:
    """Save a memo on one suggestion of ``document``'s first page, ``repeats`` times."""
    from tests.journeys.journey import coding_row, find_suggestion, open_document

    target = find_suggestion(db, document, lonely=False)
    open_document(page, target.document, target.site)
    out = []
    memo_box = page.locator("textarea[aria-label='Memo']:visible")
    for i in range(repeats):
        # saving reruns only the memo box: its popover stays open (a whole-page run, as
        # before, draws it closed again)
        if not memo_box.count():
            coding_row(page, target).get_by_role("button", name="Memo").click()
        text = f"Måling {i + 1}: memo gemt fra browseren"
        memo_box.last.fill(text)
        done = f"({ALERT_JS}).includes({json.dumps(f'Måling {i + 1}:')})"
        # the box's run can start and end within one frame (as the baseline's): the
        # message naming this save is what only the run draws
        out.append(timer.click(page.get_by_role("button", name="Gem memo"), done,
                               seen_run=False))
    return out


def _dashboard_filters(page, timer: Timer, repeats: int) -> list[float]:
    """Choose another Sted on the Dashboard, ``repeats`` times (cycling through the sites)."""
    from tests.browser_util import go_to

    go_to(page, "Dashboard")
    box = page.get_by_role("combobox", name="Sted", exact=True)
    box.click()
    sites = [s for s in page.get_by_role("option").all_inner_texts() if s != "Alle"]
    page.keyboard.press("Escape")
    out = []
    caption_js = ("[...document.querySelectorAll('[data-testid=stMain] "
                  "[data-testid=stCaptionContainer]')].find(e => /i materialet/.test(e.innerText))")
    for i in range(repeats):
        site = sites[i % len(sites)] if sites else "Alle"
        if box.input_value() == site:
            site = "Alle"
        cards_js = ("[...document.querySelectorAll('[data-testid=stMetricValue]')]"
                    ".map(e => e.innerText).join(',')")
        box.click()
        option = page.get_by_role("option", name=site, exact=True)
        listbox = page.get_by_role("listbox").last
        listbox.wait_for()
        for _ in range(50):
            if option.count():
                break
            listbox.evaluate("el => { el.scrollTop += el.clientHeight / 2; }")
        done = (f"(() => {{ const c = {caption_js}; const box = document.querySelector("
                f"'input[aria-label=Sted]'); return c && box && box.value === {json.dumps(site)}"
                f" && ({cards_js}).length > 0; }})()")
        out.append(timer.click(option, done))
    return out


def _baseline(browser, repeats: int, workdir: Path) -> list[float]:
    """Click-to-settled of a one-line Streamlit page with one button."""
    from tests.browser_util import VIEWPORT, count_runs, serve_script, wait_idle

    script = workdir / "one_button.py"
    script.write_text(BASELINE_APP, encoding="utf-8")
    with serve_script(script, workdir) as url:
        context = browser.new_context(viewport=VIEWPORT)
        count_runs(context)
        context.add_init_script(CLICK_CLOCK_JS)
        page = context.new_page()
        page.goto(url)
        button = page.get_by_role("button", name="Klik")
        button.wait_for(timeout=120_000)
        wait_idle(page)
        timer = Timer(page)
        out = []
        for i in range(repeats + 1):  # the first click warms up
            done = (f"[...document.querySelectorAll('[data-testid=stMarkdownContainer]')]"
                    f".some(e => e.innerText.trim() === 'Klik: {i + 1}')")
            out.append(timer.click(button, done, seen_run=False))
        out = out[1:]
        context.close()
    return out


def measure(browser, db: Path, repeats: int, document: str) -> dict[str, list[float]]:
    """Every action's click-to-settled milliseconds on one database."""
    from playwright.sync_api import Error as PlaywrightError

    from tests.browser_util import VIEWPORT, choose_coder, count_runs, open_app, serve_app

    with serve_app(db) as url:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(120_000)
        count_runs(context)
        context.add_init_script(CLICK_CLOCK_JS)
        page = context.new_page()
        open_app(page, url, "Kodning")
        choose_coder(page, CODER)
        timer = Timer(page)
        out: dict[str, list[float]] = {}
        # memo first: the page opens on the Dokument view, as the memo journey does
        for name, step in (("memo save", lambda: _memo_saves(page, timer, repeats, db, document)),
                           ("queue", lambda: _queue_actions(page, timer, 1)),  # warm-up
                           ("queue", lambda: _queue_actions(page, timer, repeats)),
                           ("dashboard filter", lambda: _dashboard_filters(page, timer, repeats))):
            try:
                result = step()
            except PlaywrightError as exc:  # one broken step must not hide the others
                print(f"  {name} on {db.name} failed: {exc.message.splitlines()[0]}", flush=True)
                continue
            if isinstance(result, dict):
                out.update(result)
            else:
                out[name] = result
            # each step's samples as they come (a long run interrupted still has them)
            print(f"  samples {db.name}: {json.dumps(result)}", flush=True)
        context.close()
    return out


@contextlib.contextmanager
def _browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    from tests.browser_util import launch_chromium

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            yield browser
        finally:
            browser.close()


def _databases(cfg: Config) -> list[tuple[str, Path, str]]:
    """(label, database, a document to write memos in) for this run's sizes."""
    from benchmarks.dashboard import build_db
    from evaltool.store import open_store
    from tests.browser_util import build_demo_db

    out = []
    if not cfg.quick:
        demo = cfg.workdir / "demo.db"
        if not demo.exists():  # a --workdir of an earlier run keeps its databases
            build_demo_db(demo)
        out.append(("demo (1,357 segments)", demo))
    size = cfg.size(300, 100_000)
    built = cfg.workdir / f"dash-{size}.db"
    db = built if built.exists() and not cfg.quick else build_db(cfg, size)
    out.append((f"{size // 1000} k segments" if size >= 1000 else f"{size} segments", db))
    result = []
    for label, db in out:
        store = open_store(str(db))
        try:
            doc = store.list_documents()[0]
        finally:
            store.close()
        result.append((label, db, doc.name))
    return result


def run(cfg: Config, repeats: int | None = None) -> list[Row]:
    """The benchmark's rows (skipped rows with the reason when no browser can be had)."""
    from tests.browser_util import BrowserUnavailable, find_chromium

    n = repeats or (2 if cfg.quick else 12)
    try:
        find_chromium()
        import playwright.sync_api  # noqa: F401
    except (BrowserUnavailable, ImportError) as exc:
        return [Row(NAME, "click-to-settled", None, "ms", note=f"skipped: {exc}",
                    higher_is_better=False)]
    rows: list[Row] = []
    raw: dict[str, dict[str, list[float]]] = {}
    with _browser() as browser:
        base = _baseline(browser, n, cfg.workdir)
        raw["baseline"] = {"one-button page": base}
        base_ms = statistics.median(base)
        for label, db, document in _databases(cfg):
            times = measure(browser, db, n, document)
            raw[label] = times
            for action in ACTIONS:
                values = times.get(action)
                if not values:
                    rows.append(Row(NAME, f"{action}, {label}", None, "ms",
                                    note="skipped: the step failed (see the log)",
                                    higher_is_better=False))
                    continue
                med = statistics.median(values)
                targeted = action in TARGETED
                rows.append(Row(
                    NAME, f"{action}, {label}", med, "ms", "one-button Streamlit page", base_ms,
                    f"≤ {TARGET_MS:.0f} ms median" if targeted else "",
                    med <= TARGET_MS if targeted else None,
                    note=(f"n={len(values)}, p90 {_percentile(values, 0.9):.0f} ms, "
                          f"min {min(values):.0f} ms; baseline p90 {_percentile(base, 0.9):.0f} ms"),
                    higher_is_better=False))
    cfg.memo("browser-latency-raw", lambda: raw)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run only this benchmark; print the table, optionally write JSON (with every sample)."""
    from benchmarks.run import machine, table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 segments, 2 repeats")
    parser.add_argument("--repeats", type=int, help="clicks per action (default 12)")
    parser.add_argument("--json", type=Path, help="write the figures and samples here")
    parser.add_argument("--workdir", type=Path, help="keep the databases here (default: temp)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="evaltool-latency-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = Config(workdir, quick=args.quick)
    start = time.perf_counter()
    load_before = load_average()
    rows = run(cfg, args.repeats)
    print(table(rows))
    print("\n".join(f"- {r.metric}: {r.note}" for r in rows if r.note))
    print(f"\n{time.perf_counter() - start:.0f} s; load average {load_before} → {load_average()}")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": machine(), "load_average": [load_before, load_average()],
            "rows": [r.as_dict() for r in rows],
            "samples_ms": cfg._memo.get("browser-latency-raw", {}),
        }, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
