"""The churn page's and the overview's queries before and after the monthly marts (issue 13), in one run.

    python -m bench.marts --db FILE [--before REV] [--repeat 3] [--builds 3] [--out results.json]

FILE is a database built by this code (`python -m crmlens demo --customers 100000 --db FILE`); a copy is
timed, with the model built if it is older. Each view is opened in AppTest (bench/pages.py) to record the
queries it runs; then every query runs again without any cache, the SQL of revision REV (default: the commit
before the marts) and this checkout's SQL one after the other, `--repeat` times; the medians are reported.
The old SQL reads model objects that are still built (the staging views, mart_customer_days, ...).
`--builds` times the model build (crmlens.model.build) of REV and of this checkout on the same data,
interleaved, in subprocesses; 0 skips it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import streamlit as st

from bench import pages
from crmlens import i18n, model, queries, store

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEFORE = "2c62b8c"  # the commit before mart_customer_months and mart_order_dates (model 14)
CHANGED = ("overview_kpis", "overview_trend", "churn_bucket", "churn_cohorts")


def views(start: dt.date, end: dt.date) -> dict[str, tuple[str, dict]]:
    """(page, address parameters) per view: the defaults, a period that cuts months, a filter and a setting."""
    cut = [str(start - dt.timedelta(days=17)), str(end - dt.timedelta(days=11))]
    tab = lambda key: {"lang": "English", "churn_tab": i18n.translate("en", f"churn.tab.{key}")}  # noqa: E731
    return {
        "overview, default": ("overview", {}),
        "overview, period cutting months": ("overview", {"period": cut}),
        "churn bucket, default": ("churn", {}),
        "churn bucket, by quarter": ("churn", {"churn_grain": "quarter"}),
        "churn bucket, segment business, 60 days": ("churn", {"segment": "business", "churn_days": "60"}),
        "churn bucket, period cutting months": ("churn", {"period": cut}),
        "churn cohorts, default": ("churn", tab("cohorts")),
        "churn cohorts, or later, period cutting months": ("churn", {**tab("cohorts"), "period": cut,
                                                                       "churn_cohort_mode": "or_later"}),
        "churn drivers, default": ("churn", tab("drivers")),
    }


def old_sql(rev: str, tmp: pathlib.Path) -> dict[str, str]:
    """Every query of revision rev, its `-- include:` lines expanded from that revision's shared pieces."""
    folder = tmp / "before"
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "queries", "crmlens", "app.py", "pages"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    saved = queries.QUERY_DIR, queries.SHARED_DIR
    queries.QUERY_DIR, queries.SHARED_DIR = folder / "queries", folder / "queries" / "shared"
    queries.sql_text.cache_clear()
    try:
        return {name: queries.sql_text(name) for name in queries.names()}
    finally:
        queries.QUERY_DIR, queries.SHARED_DIR = saved
        queries.sql_text.cache_clear()


def run_sql(snap: store.Snapshot, name: str, sql: str, params: dict) -> float:
    merged = {**queries.DEFAULT_PARAMS, **params, "use_spells_mart": False}
    bound = {p: merged[p] for p in queries.parameters(sql)}
    if "use_spells_mart" in bound:
        bound["use_spells_mart"] = model.use_spells_mart(snap, {**queries.DEFAULT_PARAMS, **params})
    t0 = time.perf_counter()
    snap.query(sql, bound)
    return time.perf_counter() - t0


BUILD = """
import sys, time
from crmlens import model, store
with store.writer(sys.argv[1], new_version=False) as con:
    t0 = time.perf_counter()
    model.build(con)
    print(time.perf_counter() - t0)
"""


def build_seconds(code_dir: pathlib.Path, db: pathlib.Path, copy: pathlib.Path) -> float:
    shutil.copyfile(db, copy)
    out = subprocess.run([sys.executable, "-c", BUILD, str(copy)], cwd=code_dir, check=True, capture_output=True,
                         text=True).stdout
    for leftover in copy.parent.glob(copy.name + "*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=pathlib.Path, required=True)
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--builds", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path, default=None)
    parser.add_argument("--skip-views", action="store_true", help="time the model builds only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = pathlib.Path(tmp_name)
        db = tmp / "bench.duckdb"
        shutil.copyfile(args.db, db)
        model.ensure(db)
        snap = store.snapshot(db)
        before = old_sql(args.before, tmp)
        from crmlens import period
        start, end = period.default_period(snap)
        results: dict = {"db": str(args.db), "before": args.before, "repeat": args.repeat, "views": {}}
        for label, (page, query) in ({} if args.skip_views else views(start, end)).items():
            st.cache_data.clear()
            calls = pages.recorded(page, str(db), **query)
            rows = []
            for name, params in calls:
                old, new = [], []
                for _ in range(args.repeat):  # interleaved: old, new, old, new, ...
                    old.append(run_sql(snap, name, before[name], params))
                    new.append(run_sql(snap, name, queries.sql_text(name), params))
                rows.append({"query": name, "before_s": statistics.median(old), "after_s": statistics.median(new)})
            total_old = sum(r["before_s"] for r in rows)
            total_new = sum(r["after_s"] for r in rows)
            results["views"][label] = {"queries": rows, "before_s": total_old, "after_s": total_new}
            print(f"{label}: {total_old:.3f} s -> {total_new:.3f} s")
            for r in rows:
                print(f"    {r['query']:<22} {r['before_s']:.3f} -> {r['after_s']:.3f}")
        if args.builds:
            code_before = tmp / "before"
            old, new = [], []
            for _ in range(args.builds):
                old.append(build_seconds(code_before, db, tmp / "build.duckdb"))
                new.append(build_seconds(ROOT, db, tmp / "build.duckdb"))
            results["model_build"] = {"before_s": old, "after_s": new}
            print(f"model build: before {statistics.median(old):.1f} s {old}, after {statistics.median(new):.1f} s {new}")
        if args.out:
            args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
