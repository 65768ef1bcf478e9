"""Two app servers on one DuckLake catalog, simulated viewers on both, one load through each:
python -m bench.two_servers [--customers N] [--viewers N] [--out FILE]

Issue 17's measure: two `streamlit run` processes on one catalog (a throw-away PostgreSQL, tests/pg.py; the
data folder in a temporary folder), `--viewers` browser sessions (headless Chromium through the browser tests'
harness) spread over both, opened at once. Then a load of 100 new orders through the first server's Data page,
every viewer reruns once; the same through the second server. Reported: errors (exceptions on a page, error
alerts, JavaScript errors, tracebacks in the servers' logs), how many viewers showed the new data version on
their first run after each load, and how long the viewers took. A few viewers hold a link made on the first
version (`v=`): they must keep that version's numbers through both loads (time travel), with its notice.
Last, what opening an older version costs (bench process: attach, the overview's headline query).

Keep --customers modest on shared machines (20,000 customers give about 230,000 orders).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import re
import subprocess
import sys
import time

from playwright.sync_api import sync_playwright

from bench import ducklake
from crmlens import demo, ingest, period, queries, store
from tests import pg
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer, metric_values, upload_and_load, wait_for_app

TIMEOUT_MS = 900_000
VERSION = re.compile(r"Data version (\d+),")


class Viewer:
    def __init__(self, browser, url: str, link_version: int | None):
        """A browser session on the overview of server `url`; link_version: it opened a link made on that version."""
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        self.page = self.context.new_page()
        self.address = f"{url}/overview?lang=English" + (f"&v={link_version}" if link_version else "")
        self.pinned, self.js_errors = link_version is not None, []
        self.page.on("pageerror", lambda e: self.js_errors.append(str(e)))

    def start(self) -> None:
        self.page.goto(self.address, wait_until="commit")

    def rerun(self) -> None:
        """One rerun of this viewer's page, with the address it has (a reload: the page runs once more)."""
        self.page.reload(wait_until="commit")

    def seen(self) -> dict:
        """Once its run has ended: the data version and the figures it shows, and any error on it."""
        wait_for_app(self.page, timeout_ms=TIMEOUT_MS)
        self.page.wait_for_selector('[data-testid="stMetricValue"]', timeout=TIMEOUT_MS)
        sidebar = self.page.get_by_test_id("stSidebar").inner_text()
        found = VERSION.search(sidebar)
        main = self.page.get_by_test_id("stMain")
        return {
            "version": int(found.group(1)) if found else None,
            "orders": metric_values(self.page).get("Orders"),
            "as_of_notice": main.get_by_text("You are seeing the data as of").count() > 0,
            "errors": (self.page.locator('[data-testid="stException"]').all_inner_texts()
                       + self.page.get_by_test_id("stAlertContentError").all_inner_texts()),
        }


def new_orders(path: pathlib.Path, day: dt.date, tag: str) -> pathlib.Path:
    rows = [f"N{tag}-{i},C000001,{day},{i}.5" for i in range(100)]
    path.write_text("order_id,customer_id,order_date,amount\n" + "\n".join(rows) + "\n")
    return path


def everyone_once(viewers: list[Viewer], first: bool = False) -> tuple[list[dict], float]:
    """All viewers start a run at once (each opens its address, or reruns), then wait for all: what each saw."""
    t0 = time.perf_counter()
    for v in viewers:
        v.start() if first else v.rerun()
    seen = [v.seen() for v in viewers]
    return seen, time.perf_counter() - t0


def as_of_cost(lake: str, version: int) -> dict:
    """What opening an older version costs a server: attaching its snapshot (once per process), and the
    overview's headline query on it, cold and cached by DuckDB, against the same on the latest."""
    out = {}
    t0 = time.perf_counter()
    then = store.snapshot_at(version, lake)
    out["as_of_attach_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    store.snapshot_at(version, lake)
    out["as_of_again_s"] = round(time.perf_counter() - t0, 4)
    start, end = period.default_period(then)
    for label, snap in (("as_of", then), ("latest", store.snapshot(lake))):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            queries.run("overview_kpis", {"start": start, "end": end}, snap=snap)
            runs.append(time.perf_counter() - t0)
        out[f"overview_kpis_{label}_s"] = round(min(runs), 3)
    return out


def run(tmp: pathlib.Path, cluster: pg.Cluster, n_customers: int, n_viewers: int) -> dict:
    lake, data_path = cluster.lake(tmp / "lake-files")
    os.environ[store.DATA_PATH_ENV] = data_path  # the servers inherit it
    t0 = time.perf_counter()
    ingest.load_tables(demo.generate(n_customers=n_customers), db=lake)
    results: dict = {"customers": n_customers, "viewers": n_viewers, "write_all_s": round(time.perf_counter() - t0, 1)}
    snap = store.snapshot(lake)
    first_version = snap.version
    day = period.default_period(snap)[1]  # new orders on the data's last day: in every viewer's default period
    results["orders"] = int(snap.query("select count(*) as n from orders")["n"][0])

    with AppServer(lake, tmp) as one, AppServer(lake, tmp) as other, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        servers = (one, other)
        # viewers alternate between the servers; every fifth holds a link made on the first version
        viewers = [Viewer(browser, servers[i % 2].url, first_version if i % 5 == 4 else None) for i in range(n_viewers)]
        before, seconds = everyone_once(viewers, first=True)
        results["open_all_s"] = round(seconds, 1)
        results["page_errors_at_open"] = sum(len(s["errors"]) for s in before)
        loads = []
        for n, server in enumerate(servers, start=1):
            loader = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
            t0 = time.perf_counter()
            message = upload_and_load(loader, server.url, new_orders(tmp / f"orders_{n}.csv", day, str(n)),
                                      mode_label="Append to the table's data")
            load_s = time.perf_counter() - t0
            loader.context.close()
            latest = store.snapshot(lake).version
            seen, seconds = everyone_once(viewers)
            follow = [s for v, s in zip(viewers, seen) if not v.pinned]
            pinned = [(s, b) for v, s, b in zip(viewers, seen, before) if v.pinned]
            loads.append({
                "through": f"server {n}", "loaded": "100 rows loaded into Orders" in message, "load_s": round(load_s, 1),
                "new_version": latest,
                "viewers_on_new_version_after_one_rerun": sum(s["version"] == latest for s in follow),
                "viewers_following_latest": len(follow),
                "rerun_all_s": round(seconds, 1),
                # the first version's figures, with the notice saying so
                "pinned_viewers_still_on_first_version": sum(
                    s["version"] == first_version and s["as_of_notice"] and s["orders"] == b["orders"] for s, b in pinned),
                "pinned_viewers": len(pinned),
                "page_errors": sum(len(s["errors"]) for s in seen),
            })
        results["loads"] = loads
        results["orders_shown"] = {"before": sorted({s["orders"] for s in before}),
                                   "after": sorted({s["orders"] for s in seen})}
        results["js_errors"] = sum(len(v.js_errors) for v in viewers)
        browser.close()
    # in a fresh process, as a server that has not opened that version yet
    done = subprocess.run([sys.executable, "-m", "bench.two_servers", "--as-of-cost", lake, str(first_version)],
                          cwd=store.PROJECT_DIR, capture_output=True, text=True, check=True)
    results.update(json.loads(done.stdout.strip().splitlines()[-1]))
    logs = [s.log.read_text(errors="replace") for s in (one, other)]
    results["server_tracebacks"] = sum(log.count("Traceback") for log in logs)
    results["errors_total"] = (results["js_errors"] + results["server_tracebacks"] + results["page_errors_at_open"]
                               + sum(load["page_errors"] for load in loads) + sum(not load["loaded"] for load in loads))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--out", type=pathlib.Path, default=None, help="also write the results as JSON here")
    parser.add_argument("--as-of-cost", nargs=2, metavar=("CATALOG", "VERSION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_of_cost:  # the child process of run()
        print(json.dumps(as_of_cost(args.as_of_cost[0], int(args.as_of_cost[1]))))
        return
    ducklake.report_on_a_cluster(lambda tmp, cluster: run(tmp, cluster, args.customers, args.viewers), args.out)


if __name__ == "__main__":
    main()
