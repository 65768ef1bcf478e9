"""Benchmarks: python -m bench [--customers N] (800,000 customers give about 10M orders).

Times are noisy on shared 2-core machines, so each measure is also reported as a
ratio to a baseline measured in the same run: one full scan of the orders table
(`select sum(amount) from orders`). A query at 3x the baseline stays at about 3x
on a faster or busier machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
import statistics
import tempfile
import time

import resource
import shutil

from bench import pages
from crmlens import churn, demo, i18n, ingest, loyalty, period, queries, store

FAST = ("open_snapshot", "overview_kpis", "overview_trend", "data_span")
# the heaviest queries of the views: each follows every customer through time
VIEW_QUERIES = ("churn_summary", "churn_bucket", "churn_survival", "churn_drivers", "loyalty_summary", "loyalty_movements")


def timed(fn, repeat: int = 5) -> float:
    """Median seconds of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=80_000)
    parser.add_argument("--out", type=pathlib.Path, default=None, help="also write the results as JSON here")
    parser.add_argument("--pages", action="store_true", help="also time each page's queries (recorded in AppTest)")
    parser.add_argument("--load", action="store_true", help="also time loading the orders as a CSV file")
    parser.add_argument("--db", type=pathlib.Path, default=None,
                        help="time a copy of this database instead of generating demo data")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        if args.db:
            shutil.copyfile(args.db, db)
            ingest.ensure_derived(db)
            generate_s = 0.0
        else:
            tables = demo.generate(n_customers=args.customers)
            generate_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            ingest.load_tables(tables, db=db)
            del tables
        write_s = time.perf_counter() - t0
        n_orders = int(store.snapshot(db).query("select count(*) as n from orders")["n"][0])

        snap = store.snapshot(db)
        start, end = period.default_period(snap)
        params = {"start": start, "end": end}
        view_params = {**churn.query_params(start, end, "orders", grain="month", group="none"),
                       **loyalty.params(start, end), "grain": "month"}
        baseline = timed(lambda: snap.query("select sum(amount) from orders"))
        results = {
            "customers": int(store.snapshot(db).query("select count(*) as n from customers")["n"][0]),
            "orders": n_orders,
            "generate_s": round(generate_s, 2),
            "write_snapshot_s": round(write_s, 2),
            "baseline_scan_s": round(baseline, 4),
        }
        measures = {
            "open_snapshot": lambda: store._open_snapshot(db),
            "overview_kpis": lambda: queries.run("overview_kpis", params, snap=snap),
            "overview_trend": lambda: queries.run("overview_trend", {**params, "grain": period.trend_grain(start, end)}, snap=snap),
            "data_span": lambda: queries.run("data_span", snap=snap),
            **{name: (lambda name=name: queries.run(name, view_params, snap=snap)) for name in VIEW_QUERIES},
            "append_100_orders": lambda: append_orders(db, tmp),
        }
        results["cohort_raw_s"] = round(timed(lambda: snap.query(COHORT_RAW), repeat=3), 4)
        for name, fn in measures.items():
            seconds = timed(fn, repeat=5 if name in FAST else 3)
            results[f"{name}_s"] = round(seconds, 4)
            results[f"{name}_x_baseline"] = round(seconds / baseline, 1)
        if args.pages:
            results["pages"] = page_times(str(db), start, end, results["cohort_raw_s"])
            results["peak_rss_mb_after_pages"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if args.load:
            results["load"] = load_times(db, pathlib.Path(tmp))
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))


# A plain monthly cohort-retention table straight from the raw orders: what one hand-written query costs.
COHORT_RAW = """
select date_trunc('month', first_on) as cohort, date_diff('month', first_on, order_date) as k,
       count(distinct customer_id) as n_customers
from (select customer_id, order_date, min(order_date) over (partition by customer_id) as first_on
      from orders where coalesce(status, '') not in ('cancelled', 'canceled', 'returned', 'refunded'))
group by all
"""

# The tabs of each page (the first opens with the page; each other one runs its queries when opened).
TABS = {"funnel": ("funnel", "speed", "trend", "breakdown", "owners"),
        "loyalty": ("moves", "abc", "rfm", "clv", "quad", "customers"),
        "churn": ("bucket", "cohorts", "survival", "drivers", "at_risk", "whatif")}
# One filter or setting changed per page (as address parameters); the overview gets the year before instead.
CHANGED = {"funnel": {"segment": "business"}, "loyalty": {"segment": "business"},
           "churn": {"segment": "business", "churn_days": "60"}, "complaints": {"segment": "business"}}


def page_times(db: str, start: dt.date, end: dt.date, cohort_raw_s: float) -> dict:
    """Each page's queries together (recorded by opening the page), default and with a filter changed;
    seconds and the ratio to one plain cohort-retention query on the raw orders."""
    out = {}
    for page in pages.PAGES:
        changed = CHANGED.get(page) or {"period": [str(start - dt.timedelta(days=365)), str(end - dt.timedelta(days=365))]}
        for label, query in (("default", {}), ("changed", changed)):
            seconds = sum(pages.timed_page(pages.recorded(page, db, **query), db).values())
            out[f"{page}_{label}_s"] = round(seconds, 2)
            out[f"{page}_{label}_x_cohort_raw"] = round(seconds / cohort_raw_s, 1)
        for tab in TABS.get(page, ())[1:]:
            query = {f"{page}_tab": i18n.translate("en", f"{page}.tab.{tab}")}
            seconds = sum(pages.timed_page(pages.recorded(page, db, lang="English", **query), db).values())
            out[f"{page}_tab_{tab}_s"] = round(seconds, 2)
            out[f"{page}_tab_{tab}_x_cohort_raw"] = round(seconds / cohort_raw_s, 1)
    return out


def load_times(db: pathlib.Path, tmp: pathlib.Path) -> dict:
    """The project's load of the orders as a CSV file (model included) against DuckDB's own read and store."""
    csv = tmp / "orders.csv"
    snap = store.snapshot(db)
    cur = snap.cursor()
    cur.execute(f"copy (select order_id, customer_id, order_date, amount, cost, product, quantity, status from orders) "
                f"to '{csv}' (header)")
    cur.close()
    plain = tmp / "plain.duckdb"
    t0 = time.perf_counter()
    con = store.connect(str(plain))
    con.execute(f"create table orders as select * from read_csv('{csv}')")
    con.execute("checkpoint")
    con.close()
    duckdb_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ingest.load_files([csv], db=db, table="orders")
    ours_s = time.perf_counter() - t0
    return {"csv_mb": round(csv.stat().st_size / 1e6), "duckdb_read_store_s": round(duckdb_s, 2),
            "crmlens_load_s": round(ours_s, 2), "ratio": round(ours_s / duckdb_s, 2)}


def append_orders(db: pathlib.Path, tmp: str) -> None:
    """A small upload into a big database: the cost of copy-on-write snapshots."""
    path = pathlib.Path(tmp) / "new_orders.csv"
    stamp = time.time_ns()
    rows = [f"N{stamp}-{i},C000001,{dt.date(2026, 10, 31)},{i}.5" for i in range(100)]
    path.write_text("order_id,customer_id,order_date,amount\n" + "\n".join(rows) + "\n")
    ingest.load_files([path], db=db, mode="append")


if __name__ == "__main__":
    main()
