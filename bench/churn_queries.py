"""The churn page's and the complaints page's churn queries before and after mart_customer_churn and
mart_customer_order_modes (issue 13, model 20), in one run, with the results compared.

    python -m bench.churn_queries --before-db OLD --db NEW [--before REV] [--repeat 3] [--out results.json]

OLD and NEW hold the same data: OLD built by the code of revision REV (model 19, e.g. a copy of a demo database
written before this change), NEW by this checkout (`model.ensure` on a copy). Each view (a tab of the churn page
with the default settings or one setting and filter changed; the complaints page) is opened in AppTest on NEW
(bench/pages.py) to record the queries it runs; every query then runs without cache, REV's SQL on OLD and this
checkout's SQL on NEW one after the other, `--repeat` times, and the medians are reported. The two results of
each query must be the same rows (numbers to 1e-9 relative); a difference is printed and counted.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import tempfile
import time

import numpy as np
import pandas as pd
import streamlit as st

from bench import marts, pages
from crmlens import i18n, model, period, queries, store

BEFORE = "5339576"  # the commit before mart_customer_churn (model 19)
FLAGS = ("use_spells_mart", "use_churn_mart", "use_drivers_mart")  # set per snapshot, as queries.run does
CHANGED = {"churn_days": "60", "segment": "business"}


def views() -> dict[str, tuple[str, dict]]:
    tab = lambda key, **more: {"lang": "English", "churn_tab": i18n.translate("en", f"churn.tab.{key}"), **more}
    out = {}
    for key in ("bucket", "cohorts", "survival", "drivers", "at_risk", "whatif"):
        out[f"churn {key}, default"] = ("churn", tab(key))
        out[f"churn {key}, 60 days, segment business"] = ("churn", tab(key, **CHANGED))
    out["churn bucket, multiplier 2"] = ("churn", tab("bucket", churn_multiplier="2"))
    out["complaints, default"] = ("complaints", {"lang": "English"})
    out["complaints, 60 days"] = ("complaints", {"lang": "English", "churn_days": "60"})
    return out


def bound(snap: store.Snapshot, sql: str, params: dict) -> dict:
    merged = {**queries.DEFAULT_PARAMS, **params}
    return {p: getattr(model, p)(snap, merged) if p in FLAGS else merged[p] for p in queries.parameters(sql)}


def timed(snap: store.Snapshot, sql: str, params: dict) -> tuple[float, pd.DataFrame]:
    values = bound(snap, sql, params)
    t0 = time.perf_counter()
    frame = snap.query(sql, values)
    return time.perf_counter() - t0, frame


def same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            xv, yv = x.astype(float).to_numpy(), y.astype(float).to_numpy()
            if not np.allclose(xv, yv, rtol=1e-9, atol=1e-9, equal_nan=True):
                return False
        elif not x.reset_index(drop=True).equals(y.reset_index(drop=True)):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before-db", type=pathlib.Path, required=True)
    parser.add_argument("--db", type=pathlib.Path, required=True)
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="views whose label contains this text")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()

    model.ensure(args.db)
    new_snap, old_snap = store.snapshot(args.db), store.snapshot(args.before_db)
    with tempfile.TemporaryDirectory() as tmp_name:
        before = marts.old_sql(args.before, pathlib.Path(tmp_name))
    results: dict = {"db": str(args.db), "before_db": str(args.before_db), "before": args.before,
                     "repeat": args.repeat, "default_period": [str(d) for d in period.default_period(new_snap)],
                     "views": {}}
    differ = 0
    for label, (page, query) in views().items():
        if args.only not in label:
            continue
        st.cache_data.clear()
        calls = pages.recorded(page, str(args.db), **query)
        rows = []
        for name, params in calls:
            old, new = [], []
            for _ in range(args.repeat):  # interleaved: old, new, old, new, ...
                t_old, f_old = timed(old_snap, before[name], params)
                t_new, f_new = timed(new_snap, queries.sql_text(name), params)
                old.append(t_old)
                new.append(t_new)
            ok = same(f_old, f_new)
            differ += not ok
            rows.append({"query": name, "before_s": statistics.median(old), "after_s": statistics.median(new),
                         "same": ok})
        total_old = sum(r["before_s"] for r in rows)
        total_new = sum(r["after_s"] for r in rows)
        results["views"][label] = {"queries": rows, "before_s": total_old, "after_s": total_new}
        print(f"{label}: {total_old:.3f} s -> {total_new:.3f} s", flush=True)
        for r in rows:
            print(f"    {r['query']:<26} {r['before_s']:.3f} -> {r['after_s']:.3f}{'' if r['same'] else '  DIFFERENT'}",
                  flush=True)
    results["n_different"] = differ
    print(f"results that differ: {differ}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
