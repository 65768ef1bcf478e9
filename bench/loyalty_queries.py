"""The loyalty page's queries, before and after a change, interleaved: medians of several runs.

    python bench/loyalty_queries.py record --db FILE --out CALLS.pickle
        opens the loyalty page in AppTest (bench.pages.recorded) for each scenario below and keeps the queries it ran
    python bench/loyalty_queries.py time --db FILE --calls CALLS.pickle
        (run from a checkout: its crmlens) times each recorded query once, no cache; prints JSON
    python bench/loyalty_queries.py compare --calls CALLS.pickle --before DIR=FILE --after DIR=FILE [--reps 3]
        runs `time` in each checkout DIR on its database FILE, before and after in turn, and prints medians (the
        record, time and compare steps are bench/funloy_views.py's)
    python bench/loyalty_queries.py builds --before DIR=FILE --after DIR=FILE [--reps 3]
        builds the whole model (crmlens.model.build's statements, in one transaction) of each checkout on a copy of its
        FILE, before and after in turn, each object timed (wall and the process's CPU seconds: on a busy machine the
        CPU seconds say more); prints the medians of the total and of the loyalty objects

Only the scenario's loyalty_* queries are timed (the period and filter look-ups are the same on both sides).
"""

from __future__ import annotations

import json
import pathlib
import statistics
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run as a script: the checkout's bench package
from bench import funloy_views  # noqa: E402

SCENARIOS = {  # name -> the page address (query parameters)
    "default view (movements tab)": {},
    "customers tab": {"loyalty_tab": "Customers"},
    "climb tab (climbs, triage)": {"loyalty_tab": "Climbing: worth it?"},
    "segment business": {"segment": "business"},
    "customers tab, margin 35%": {"loyalty_tab": "Customers", "churn_margin_pct": "35"},
    "surveys 90 days": {"loyalty_survey_days": "90"},
    "another period (to a month end)": {"period": ["2025-07-01", "2026-06-30"]},
    "another period, customers tab": {"period": ["2025-07-01", "2026-06-30"], "loyalty_tab": "Customers"},
}


def record(db: str, out: str) -> None:
    funloy_views.record(db, out, {name: ("loyalty", address) for name, address in SCENARIOS.items()},
                        keep=lambda query: query.startswith("loyalty_") and query != "loyalty_coverage")


BUILD = """
import json, shutil, sys, time
sys.path.insert(0, ".")
import duckdb
from crmlens import model, store, vocab
shutil.copyfile(sys.argv[1], sys.argv[2])
con = duckdb.connect(sys.argv[2])
times, t_all, cpu_all = {}, time.perf_counter(), time.process_time()
con.execute("begin")
model._drop_views_now_tables(con)
con.execute("create or replace table vocabulary (kind varchar, word varchar)")
con.executemany("insert into vocabulary values (?, ?)", vocab.rows())
if hasattr(model, "WHOLE_SCOPE"):  # the by-key macros, `true` in a full build
    con.execute(model.WHOLE_SCOPE)
for name in model.OBJECTS:
    t0, c0 = time.perf_counter(), time.process_time()
    if name in model.MACROS:
        store.create_macro(con, model.sql(name))
    else:
        params = model._build_params(con, name) if hasattr(model, "_build_params") else model.BUILD_PARAMS.get(name, {})
        source = (model._source(name) if hasattr(model, "_source")  # (the kept views: a template and a page query)
                  else model._with_pieces(name) if name in model.WITH_PIECES else model.sql(name))
        con.execute(source, params)
    times[name] = time.perf_counter() - t0
    times[name + " (cpu)"] = time.process_time() - c0
con.execute("commit")
times["total"] = time.perf_counter() - t_all
times["total (cpu)"] = time.process_time() - cpu_all
con.close()
print(json.dumps(times))
"""
LOYALTY_OBJECTS = ("mart_order_days", "mart_customer_period", "mart_loyalty_months", "mart_loyalty_customers",
                   "mart_loyalty_customer_moves", "mart_loyalty_moves")


def builds(before: str, after: str, reps: int) -> None:
    import os
    import tempfile
    sides = {"before": before.split("=", 1), "after": after.split("=", 1)}
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(reps):
            for side, (folder, db) in sides.items():
                copy = os.path.join(tmp, f"{side}.duckdb")
                done = subprocess.run([sys.executable, "-c", BUILD, db, copy], cwd=folder, capture_output=True, text=True,
                                      check=True)
                os.remove(copy)
                runs[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(rep, side, json.dumps({k: round(v, 2) for k, v in runs[side][-1].items() if v > 0.5}), flush=True)
    print("| model build | before | after |\n| --- | ---: | ---: |")
    for key in ("total", *LOYALTY_OBJECTS, "total (cpu)", *(f"{o} (cpu)" for o in LOYALTY_OBJECTS)):
        values = {side: [r[key] for r in runs[side] if key in r] for side in runs}
        shown = {side: f"{statistics.median(v):.2f} s" if v else "-" for side, v in values.items()}
        print(f"| {key} | {shown['before']} | {shown['after']} |")
    sums = {side: statistics.median(sum(r.get(k, 0) for k in LOYALTY_OBJECTS) for r in runs[side]) for side in runs}
    print(f"| the loyalty objects together | {sums['before']:.2f} s | {sums['after']:.2f} s |")


if __name__ == "__main__":
    args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
    if sys.argv[1] == "record":
        record(args["--db"], args["--out"])
    elif sys.argv[1] == "time":
        funloy_views.time_calls(args["--db"], args["--calls"])
    elif sys.argv[1] == "builds":
        builds(args["--before"], args["--after"], int(args.get("--reps", 3)))
    else:
        funloy_views.compare(args["--calls"], args["--before"], args["--after"], int(args.get("--reps", 3)), True)
