"""Appending 100 orders to a big store, with two versions of the code, on the DuckDB file and on DuckLake:
python -m bench.append --db FILE --before DIR [--repeat 3] [--out FILE]

FILE: a store made with `python -m crmlens demo --customers 100000 --db FILE` (1.16M orders); it is copied into a
DuckLake catalog on a throw-away PostgreSQL (tests/pg.py) first. DIR: a checkout of the code to compare with (e.g.
`git archive <rev> | tar -x -C DIR`, with its .venv). Each append is 100 orders of 100 different customers on the
newest order day (the day's orders: no global input of the marts moves), loaded by `ingest.load_files(mode="append")`
in a process of its own, timed inside it; the runs are interleaved (before/after x file/DuckLake, `--repeat` rounds)
and the medians reported. Then, with this checkout, one more append per store is taken apart (where the time goes:
the copy of the file, staging and the insert, each mart, commit, checkpoint, publish), and one whose orders are
dated a day after the newest (the data end moves: the marts reading it are rebuilt whole).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

PROJECT = pathlib.Path(__file__).resolve().parent.parent
TIMED = """
import json, sys, time
from crmlens import ingest
t0 = time.perf_counter()
ingest.load_files([sys.argv[2]], db=sys.argv[1], mode="append", table="orders")
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


def orders_csv(folder: pathlib.Path, db: str, n: int, days_after: int = 0) -> pathlib.Path:
    """n orders of n different customers (the first n who ever ordered) on the newest order day (+ days_after)."""
    sys.path.insert(0, str(PROJECT))
    from crmlens import store

    snap = store.snapshot(db)
    newest = snap.query("select max(order_date) as d from mart_customer_days").iloc[0]["d"]
    customers = snap.query(f"select customer_id from mart_customers where n_orders > 0 order by customer_id "
                           f"limit {int(n)}")["customer_id"]
    day = (newest + __import__("datetime").timedelta(days=days_after)).strftime("%Y-%m-%d")
    stamp = time.time_ns()
    path = folder / f"orders-{stamp}.csv"
    path.write_text("order_id,customer_id,order_date,amount\n"
                    + "".join(f"N{stamp}-{i},{c},{day},{i + 10}.5\n" for i, c in enumerate(customers)))
    return path


def run_in(code: pathlib.Path, db: str, csv: pathlib.Path, script: str = TIMED) -> dict:
    out = subprocess.run([str(code / ".venv" / "bin" / "python"), "-c", script, db, str(csv)], cwd=code,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(code)})
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


# Taken apart: the writer's steps timed by wrapping the file copy, the publish and each statement the load runs.
PROFILED = """
import json, shutil, sys, time
from crmlens import ingest, model, store
spent = {}
def timed(key, fn):
    def run(*a, **k):
        t0 = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - t0
    return run
store.shutil.copyfile = timed("copy_file", shutil.copyfile)
store._publish = timed("publish_fsync_rename", store._publish)
store.remove_orphans = timed("remove_orphans", store.remove_orphans)
build = model.build
model.build = timed("model_build", build)

class Timed:
    def __init__(self, con):
        self._con = con
    def __getattr__(self, name):
        return getattr(self._con, name)
    def cursor(self):
        return Timed(self._con.cursor())
    def execute(self, sql, *a, **k):
        word = sql.strip().split()[0].lower() if sql.strip() else ""
        key = {"commit": "commit", "checkpoint": "checkpoint"}.get(word)
        if key is None:
            return self._con.execute(sql, *a, **k)
        return timed(key, self._con.execute)(sql, *a, **k)

connect = store.connect
store.connect = lambda *a, **k: Timed(connect(*a, **k))
t0 = time.perf_counter()
ingest.load_files([sys.argv[2]], db=sys.argv[1], mode="append", table="orders")
total = time.perf_counter() - t0
marts = {k: round(v, 3) for k, v in model.BUILD_SECONDS.items() if v >= 0.005}
print(json.dumps({"seconds": total, "steps": {k: round(v, 3) for k, v in spent.items()}, "model": marts}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a DuckDB file made by `python -m crmlens demo` (written to)")
    parser.add_argument("--before", type=pathlib.Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT))
    from bench.ducklake import report_on_a_cluster

    def work(tmp: pathlib.Path, cluster) -> dict:
        from crmlens import store

        lake, data_path = cluster.lake(tmp / "lake-files")
        os.environ[store.DATA_PATH_ENV] = data_path
        t0 = time.perf_counter()
        store.copy_store(args.db, lake)
        results: dict = {"copy_into_ducklake_s": round(time.perf_counter() - t0, 1),
                         "orders": int(store.snapshot(args.db).query("select count(*) as n from orders")["n"][0]),
                         "file_mb": round(pathlib.Path(args.db).stat().st_size / 1e6, 1)}
        stores = {"file": args.db, "ducklake": lake}
        codes = {"before": args.before.resolve(), "after": PROJECT}
        runs: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for version, code in codes.items():
                for label, db in stores.items():
                    seconds = run_in(code, db, orders_csv(tmp, args.db if label == "file" else db, args.orders))["seconds"]
                    runs.setdefault(f"append_{args.orders}_orders_{label}_{version}_s", []).append(round(seconds, 3))
        for key, values in runs.items():
            results[key] = statistics.median(values)
            results[key[:-2] + "_runs_s"] = values
        for version in codes:
            results[f"ducklake_over_file_{version}"] = round(
                results[f"append_{args.orders}_orders_ducklake_{version}_s"]
                / results[f"append_{args.orders}_orders_file_{version}_s"], 2)
            results[f"file_over_ducklake_{version}"] = round(1 / results[f"ducklake_over_file_{version}"], 2)
        for label, db in stores.items():
            results[f"taken_apart_{label}"] = run_in(PROJECT, db, orders_csv(tmp, db, args.orders), PROFILED)
            results[f"data_end_moves_{label}"] = run_in(PROJECT, db, orders_csv(tmp, db, args.orders, days_after=1),
                                                        PROFILED)
        return results

    report_on_a_cluster(work, args.out)


if __name__ == "__main__":
    main()
