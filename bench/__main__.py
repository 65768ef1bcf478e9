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

from crmlens import churn, demo, ingest, loyalty, period, queries, store

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
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = pathlib.Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        tables = demo.generate(n_customers=args.customers)
        generate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ingest.load_tables(tables, db=db)
        write_s = time.perf_counter() - t0
        n_orders = tables["orders"].num_rows
        del tables

        snap = store.snapshot(db)
        start, end = period.default_period(snap)
        params = {"start": start, "end": end}
        view_params = {**churn.query_params(start, end, "orders", grain="month", group="none"),
                       **loyalty.params(start, end), "grain": "month"}
        baseline = timed(lambda: snap.query("select sum(amount) from orders"))
        results = {
            "customers": args.customers,
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
        for name, fn in measures.items():
            seconds = timed(fn, repeat=5 if name in FAST else 3)
            results[f"{name}_s"] = round(seconds, 4)
            results[f"{name}_x_baseline"] = round(seconds / baseline, 1)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))


def append_orders(db: pathlib.Path, tmp: str) -> None:
    """A small upload into a big database: the cost of copy-on-write snapshots."""
    path = pathlib.Path(tmp) / "new_orders.csv"
    stamp = time.time_ns()
    rows = [f"N{stamp}-{i},C000001,{dt.date(2026, 10, 31)},{i}.5" for i in range(100)]
    path.write_text("order_id,customer_id,order_date,amount\n" + "\n".join(rows) + "\n")
    ingest.load_files([path], db=db, mode="append")


if __name__ == "__main__":
    main()
