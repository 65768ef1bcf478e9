"""Each page in headless Chromium, opened cold: from navigation until the script has stopped running and
every chart is drawn (`python -m bench.browser --db FILE`).

A fresh server per database (nothing cached), one fresh browser context per page; each page opened with
the default view and with another period in the address. Uses the browser tests' harness
(tests/browser/conftest.py: Debian's Chromium, `streamlit run` on a free port).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
import tempfile
import time

from playwright.sync_api import sync_playwright

from crmlens import period, store
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer, wait_for_app

PAGES = ("overview", "funnel", "loyalty", "churn", "complaints")
TIMEOUT_MS = 600_000


def drawn_seconds(browser, url: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url)
        wait_for_app(page, timeout_ms=TIMEOUT_MS)
        # every Plotly chart the page sent has drawn its plot area
        page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                                   .every(c => c.querySelector('.main-svg'))""", timeout=TIMEOUT_MS)
        return time.perf_counter() - t0
    finally:
        context.close()


def page_times(db: pathlib.Path) -> dict:
    snap = store.snapshot(db)
    start, end = period.default_period(snap)
    year_before = f"period={start - dt.timedelta(days=365)}&period={end - dt.timedelta(days=365)}"
    out = {}
    with tempfile.TemporaryDirectory() as tmp, AppServer(db, pathlib.Path(tmp)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in PAGES:
            address = f"{server.url}/{'' if name == 'overview' else name}?lang=English"  # the overview is the home page
            out[f"{name}_default_s"] = round(drawn_seconds(browser, address), 2)
            out[f"{name}_other_period_s"] = round(drawn_seconds(browser, f"{address}&{year_before}"), 2)
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()
    results = page_times(args.db)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
