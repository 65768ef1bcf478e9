"""Each page in headless Chromium, opened cold: from navigation until the last chart is drawn
(`python -m bench.browser --db FILE`), and the app server's peak memory after every page.

A fresh server per database (nothing cached), one fresh browser context per page; each page opened with
the default view and with another period in the address (the year before). Uses the browser tests' harness
(tests/browser/conftest.py: Debian's Chromium, `streamlit run` on a free port).

When is a page drawn? Its script has stopped (a page may run once more right after its first run, e.g. to
keep its settings in the address), no skeleton is left, at least one chart is on the page and every visible
Plotly chart has drawn its plot area, and all of that has held for SETTLED_S with the same charts. The time
reported is the moment that state was first seen (polled every 50 ms), so the wait to be sure is not counted.
Waiting only for the charts present at the first quiet moment would stop before a chart that a second run
draws.

`<page>_<view>_script_done_s` is when the server's last script run for the page ended; the rest, up to
`<page>_<view>_s`, is the browser receiving and drawing (Plotly) the elements.

The server's peak memory is VmHWM of the `streamlit run` process (/proc/<pid>/status), read after every page
was opened: the app's own peak, not the benchmark's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
import statistics
import tempfile
import time

from playwright.sync_api import sync_playwright

from crmlens import period, store
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer

PAGES = ("overview", "funnel", "loyalty", "churn", "complaints")
FLOOR_APP = pathlib.Path(__file__).resolve().parent / "floor_app.py"
TIMEOUT_S = 600
SETTLED_S = 1.5
POLL_S = 0.05

STATE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const visible = e => (e.checkVisibility ? e.checkVisibility() : e.offsetParent !== null);
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(visible);
  return {
    connected: !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED',
    running: !app || app.getAttribute('data-test-script-state') !== 'notRunning',
    skeletons: document.querySelectorAll('[data-testid="stSkeleton"]').length,
    charts: charts.length,
    drawn: charts.filter(c => c.querySelector('.main-svg')).length,
    errors: [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText.slice(0, 300)),
  };
}"""


def drawn_seconds(browser, url: str, min_charts: int = 1, when_drawn=None) -> dict:
    """Seconds from navigation until the page's last chart was drawn (see the module's docstring); `when_drawn()`
    is called then, while the page is still open (bench.script_runs reads its renderer's CPU time)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url)
        since, seen, stopped = None, None, None
        while True:
            s = page.evaluate(STATE)
            now = time.perf_counter()
            if s["errors"]:
                raise RuntimeError(f"{url}: {s['errors']}")
            # when the server's last script run ended: the rest of the wait is the browser drawing
            stopped = None if s["running"] or not s["connected"] else stopped or now
            done = (s["connected"] and not s["running"] and s["skeletons"] == 0 and s["charts"] >= min_charts
                    and s["drawn"] == s["charts"])
            if not done:
                since = None
            elif since is None or seen != s["charts"]:
                since, seen = now, s["charts"]
            elif now - since >= SETTLED_S:
                if when_drawn:
                    when_drawn()
                return {"seconds": since - t0, "script_done_s": (stopped or since) - t0, "charts": seen}
            if now - t0 > TIMEOUT_S:
                raise TimeoutError(f"{url}: not drawn after {TIMEOUT_S} s: {s}")
            time.sleep(POLL_S)
    finally:
        context.close()


def peak_rss_mb(pid: int) -> dict:
    """VmHWM (peak) and VmRSS (now) of a process, in MB."""
    fields = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = round(int(value.split()[0]) / 1024)
    return {"peak_rss_mb": fields.get("VmHWM"), "rss_mb": fields.get("VmRSS")}


def page_times(db: pathlib.Path, repeat: int = 1) -> dict:
    """Each page cold (a fresh server per repetition), default and with the year before in the address; medians
    of `repeat` servers; the server's peak RSS after every page (the largest over the repetitions). First, the
    floor (bench/floor_app.py: one Plotly chart, nothing else) opened the same way on a server of its own."""
    snap = store.snapshot(db)
    start, end = period.default_period(snap)
    year_before = f"period={start - dt.timedelta(days=365)}&period={end - dt.timedelta(days=365)}"
    runs: dict[str, list[float]] = {}
    charts: dict[str, int] = {}
    rss: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeat):
                with AppServer(db, pathlib.Path(tmp), script=FLOOR_APP) as floor:
                    for label in ("floor_first", "floor"):  # the server's first page, then a page of a running one
                        runs.setdefault(f"{label}_s", []).append(drawn_seconds(browser, floor.url)["seconds"])
                with AppServer(db, pathlib.Path(tmp)) as server:
                    for name in PAGES:
                        address = f"{server.url}/{'' if name == 'overview' else name}?lang=English"  # overview: home
                        for label, url in (("default", address), ("other_period", f"{address}&{year_before}")):
                            got = drawn_seconds(browser, url)
                            runs.setdefault(f"{name}_{label}_s", []).append(got["seconds"])
                            runs.setdefault(f"{name}_{label}_script_done_s", []).append(got["script_done_s"])
                            charts[f"{name}_{label}"] = got["charts"]
                    rss.append(peak_rss_mb(server.proc.pid))
        finally:
            browser.close()
    out = {key: round(statistics.median(values), 2) for key, values in runs.items()}
    out["runs_s"] = {key: [round(v, 2) for v in values] for key, values in runs.items()}
    out["charts_drawn"] = charts
    out["app_peak_rss_mb"] = max(r["peak_rss_mb"] for r in rss)
    out["app_rss_mb_at_end"] = rss[-1]["rss_mb"]
    return out


def with_ratios(results: dict) -> dict:
    """Each page's time as a multiple of the cohort query's (`cohort_raw_s`) and of the floor's: the Overview's
    default view, a server's first page, against the floor's first page (`floor_first_s`), the others `floor_s`."""
    for name in PAGES:
        for label in ("default", "other_period"):
            seconds = results[f"{name}_{label}_s"]
            floor = results["floor_first_s" if (name, label) == ("overview", "default") else "floor_s"]
            results[f"{name}_{label}_x_cohort_raw"] = round(seconds / results["cohort_raw_s"], 1)
            results[f"{name}_{label}_x_floor"] = round(seconds / floor, 1)
    return results


def main() -> None:
    from bench import raw_sql
    from bench.__main__ import timed

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=pathlib.Path, required=True)
    parser.add_argument("--repeat", type=int, default=1, help="fresh servers per page (medians)")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()
    cohort_s = timed(lambda: store.snapshot(args.db).query(raw_sql.COHORT), repeat=3)
    results = with_ratios({"cohort_raw_s": round(cohort_s, 4), **page_times(args.db, args.repeat)})
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
