"""DuckLake (catalog in PostgreSQL, Parquet files in a folder) against the DuckDB file, in one run:
python -m bench.ducklake [--customers N] [--out FILE]

The same demo data in both stores; then the cost of appending 100 orders (a small upload into a big
store: the file copies itself, DuckLake writes new files) and of each page's queries (recorded by
opening the page, bench.pages), as seconds and as ratios. Starts a throw-away PostgreSQL (tests/pg.py).
Keep --customers modest on shared machines (80,000 customers give about 1M orders).

Pages on DuckLake are timed twice, interleaved with the file (file, catalog, read copy; medians of --repeat):
"ducklake" is what the app reads (the server's local read copy of the latest snapshot, store.py),
"ducklake_catalog" the same queries on the catalog itself (as before the read copy, and as a link to an
older version still reads). --pages-only skips the appends.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import tempfile
import time

from bench import pages
from bench.__main__ import append_orders, timed
from crmlens import demo, ingest, period, store
from tests import pg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path, default=None, help="also write the results as JSON here")
    parser.add_argument("--pages-only", action="store_true", help="skip the appends: only the pages' queries")
    args = parser.parse_args()

    report_on_a_cluster(lambda tmp, cluster: run(tmp, cluster, args.customers, args.repeat, args.pages_only),
                        args.out)


def report_on_a_cluster(work, out: pathlib.Path | None) -> None:
    """Run work(folder, cluster) on a throw-away PostgreSQL and a temporary folder; print its results as JSON
    (and write them to `out`)."""
    cluster = pg.Cluster.new().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = work(pathlib.Path(tmp), cluster)
    finally:
        cluster.stop()
        cluster.remove()
    print(json.dumps(results, indent=2))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))


def run(tmp: pathlib.Path, cluster: pg.Cluster, n_customers: int, repeat: int, pages_only: bool = False) -> dict:
    file_db = tmp / "bench.duckdb"
    store.ask_for_read_copies()  # this process reads the pages as an app server does: from the read copy
    lake, data_path = cluster.lake(tmp / "lake-files")
    os.environ[store.DATA_PATH_ENV] = data_path
    tables = demo.generate(n_customers=n_customers)
    results: dict = {"customers": n_customers}
    for label, db in (("file", file_db), ("ducklake", lake)):
        t0 = time.perf_counter()
        ingest.load_tables(tables, db=db)
        results[f"write_all_{label}_s"] = round(time.perf_counter() - t0, 2)
    del tables
    results["orders"] = int(store.snapshot(file_db).query("select count(*) as n from orders")["n"][0])

    if not pages_only:
        for label, db in (("file", file_db), ("ducklake", lake)):
            results[f"append_100_orders_{label}_s"] = round(timed(lambda db=db: append_orders(db, str(tmp)), repeat), 3)
        results["append_100_orders_file_over_ducklake"] = round(
            results["append_100_orders_file_s"] / results["append_100_orders_ducklake_s"], 2)

    t0 = time.perf_counter()
    results["read_copy_ready"] = store.read_copy_ready(lake, timeout_s=3600)  # this server's copy of the latest
    results["read_copy_wait_s"] = round(time.perf_counter() - t0, 2)
    copied = store.read_copy_seconds(lake)
    results["read_copy_s"] = round(copied[max(copied)], 2) if copied else None
    start, end = period.default_period(store.snapshot(file_db))
    for page in pages.PAGES:
        calls = pages.recorded(page, str(file_db))
        snaps = {"file": store.snapshot(file_db), "ducklake_catalog": store.catalog_snapshot(lake),
                 "ducklake": store.snapshot(lake)}
        runs: dict[str, list[float]] = {label: [] for label in snaps}
        for label, snap in snaps.items():
            pages.timed_page(calls, "", snap)  # once to warm (Parquet footers, the buffer pool)
        for _ in range(repeat):  # interleaved, so that the machine's load falls on all three alike
            for label, snap in snaps.items():
                runs[label].append(sum(pages.timed_page(calls, "", snap).values()))
        seconds = {label: statistics.median(values) for label, values in runs.items()}
        for label in snaps:
            results[f"page_{page}_{label}_s"] = round(seconds[label], 3)
        for label in ("ducklake", "ducklake_catalog"):
            results[f"page_{page}_{label}_over_file"] = round(seconds[label] / seconds["file"], 2)
    results["period"] = [str(start), str(end)]
    files = list(pathlib.Path(data_path).rglob("*.parquet"))
    results["ducklake_parquet_files"] = len(files)
    results["ducklake_data_mb"] = round(sum(f.stat().st_size for f in files) / 1e6, 1)
    results["file_mb"] = round(file_db.stat().st_size / 1e6, 1)
    return results


if __name__ == "__main__":
    main()
