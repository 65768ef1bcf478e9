"""Where an append's time goes, statement by statement, on the DuckDB file and on DuckLake:
python -m bench.append_steps --db FILE [--lake ADDRESS --data-path DIR] [--repeat 3] [--orders 100] [--out FILE]

FILE: a store made with `python -m crmlens demo --customers 100000 --db FILE` (1.16M orders). Without --lake it is
copied into a new DuckLake catalog on a throw-away PostgreSQL (tests/pg.py) first. Each append is --orders orders of
as many customers on the newest order day (bench.append.orders_csv: no global input of the marts moves), loaded by
`ingest.load_files(mode="append")` in a process of its own as an app server has it: the store opened first (the
extensions loaded, the catalog attached), then the load timed, then the new version opened and read. The writer's
connection is wrapped so that every statement the load runs is timed, grouped by what it does:

- open: before the load's statements (file: the lock, the copy of the file; DuckLake: the schema check, begin);
- stage: reading the CSV into temp tables, the rejects, the insert into orders, the load history, mappings;
- model:<object>: the statements of model.build for each object (by-key delete and insert, or the whole table);
- model:setup: model.build's checks before the objects (is the model current, the scope, the global inputs);
- close: after the load's statements (the version bump, commit; file: checkpoint, fsync and rename);
- new version: opening the new version and reading one figure (DuckLake: attaching the new snapshot).

Runs alternate file / DuckLake (--repeat rounds); the medians of each part are reported with every run's figures.
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

STEPS = r"""
import contextlib, json, pathlib, re, sys, time
from crmlens import ingest, model, store

spent = {}        # part -> seconds
statements = []   # (part, statement head, seconds)
phase = ["stage"]


def add(part, seconds):
    spent[part] = spent.get(part, 0.0) + seconds


class Timed:
    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def cursor(self):
        return Timed(self._con.cursor())

    def execute(self, sql, *a, **k):
        t0 = time.perf_counter()
        text = str(sql)
        if phase[0] == "model:setup" and text == model.WHOLE_SCOPE:
            phase[0] = "model:objects"
        elif phase[0].startswith("model:") and text.startswith("create or replace table model_info"):
            phase[0] = "model:model_info"
        try:
            return self._con.execute(sql, *a, **k)
        finally:
            seconds = time.perf_counter() - t0
            add(phase[0], seconds)
            statements.append((phase[0], " ".join(str(sql).split())[:110], seconds))


real_build = model.build
real_sql = model.sql
real_macro = store.create_macro


def build(con, changed=None, appended=frozenset()):
    phase[0] = "model:setup"
    try:
        return real_build(con, changed, appended)
    finally:
        phase[0] = "stage"


def sql(name):  # build reads each object's SQL just before running it (after the setup: WHOLE_SCOPE)
    if phase[0].startswith("model:") and phase[0] != "model:setup":
        phase[0] = "model:" + name
    return real_sql(name)


def macro(con, text):
    return real_macro(con, text)


model.build = build
model.sql = sql
real_writer = store.writer


@contextlib.contextmanager
def writer(*a, **k):
    t0 = time.perf_counter()
    manager = real_writer(*a, **k)
    con = manager.__enter__()
    add("open", time.perf_counter() - t0)
    body_ok = False
    try:
        yield Timed(con)
        body_ok = True
    finally:
        t1 = time.perf_counter()
        if body_ok:
            manager.__exit__(None, None, None)
        else:
            manager.__exit__(*sys.exc_info())
        add("close", time.perf_counter() - t1)


store.writer = writer
db = sys.argv[1]
t0 = time.perf_counter()
before = store.snapshot(db)
before.query("select count(*) from mart_data_span")
opened_s = time.perf_counter() - t0
t0 = time.perf_counter()
ingest.load_files([sys.argv[2]], db=db, mode="append", table="orders")
total = time.perf_counter() - t0
t0 = time.perf_counter()
after = store.snapshot(db)
n = after.query("select n_rows from mart_data_span where table_name = 'orders'").iloc[0, 0]
new_version_s = time.perf_counter() - t0
assert after.version != before.version
outside = total - sum(spent.values())
parts = {k: round(v, 3) for k, v in spent.items()}
parts["python outside statements"] = round(outside, 3)
slowest = sorted(statements, key=lambda s: -s[2])[:25]
if len(sys.argv) > 3:
    pathlib.Path(sys.argv[3]).write_text(json.dumps(statements, indent=1))
print(json.dumps({"seconds": round(total, 3), "store_opened_s": round(opened_s, 3),
                  "new_version_s": round(new_version_s, 3), "orders": int(n), "parts": parts,
                  "n_statements": len(statements),
                  "slowest": [[p, s, round(x, 3)] for p, s, x in slowest]}))
"""


def run_steps(db: str, csv: pathlib.Path, env: dict | None = None) -> dict:
    out = subprocess.run([str(PROJECT / ".venv" / "bin" / "python"), "-c", STEPS, db, str(csv)], cwd=PROJECT,
                         check=False, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})})
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict]) -> dict:
    parts = sorted({p for r in runs for p in r["parts"]})
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "runs_s": [r["seconds"] for r in runs],
            "new_version_s": statistics.median(r["new_version_s"] for r in runs),
            "store_opened_s": statistics.median(r["store_opened_s"] for r in runs),
            "parts": dict(sorted(((p, round(statistics.median(r["parts"].get(p, 0.0) for r in runs), 3))
                                  for p in parts), key=lambda kv: -kv[1])),
            "slowest_last_run": runs[-1]["slowest"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a DuckDB file made by `python -m crmlens demo` (written to)")
    parser.add_argument("--lake", default=None, help="a DuckLake address holding the same data (else one is made)")
    parser.add_argument("--data-path", default=None, help="its data folder (with --lake)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--stores", default="file,ducklake")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT))
    from bench.append import orders_csv
    from bench.ducklake import report_on_a_cluster

    def rounds(tmp: pathlib.Path, lake: str, data_path: str) -> dict:
        from crmlens import store

        os.environ[store.DATA_PATH_ENV] = data_path
        stores = {"file": args.db, "ducklake": lake}
        stores = {k: v for k, v in stores.items() if k in args.stores.split(",")}
        runs: dict[str, list[dict]] = {label: [] for label in stores}
        for _ in range(args.repeat):
            for label, db in stores.items():
                runs[label].append(run_steps(db, orders_csv(tmp, db, args.orders)))
                print(label, json.dumps({k: runs[label][-1][k] for k in ("seconds", "parts")}), file=sys.stderr)
        results: dict = {label: summarise(r) for label, r in runs.items()}
        if len(stores) == 2:
            results["ducklake_over_file"] = round(results["ducklake"]["seconds"] / results["file"]["seconds"], 3)
        return results

    if args.lake:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            results = rounds(pathlib.Path(tmp), args.lake, args.data_path)
        print(json.dumps(results, indent=2))
        if args.out:
            args.out.write_text(json.dumps(results, indent=2))
        return

    def work(tmp: pathlib.Path, cluster) -> dict:
        from crmlens import store

        lake, data_path = cluster.lake(tmp / "lake-files")
        os.environ[store.DATA_PATH_ENV] = data_path
        t0 = time.perf_counter()
        store.copy_store(args.db, lake)
        copied = round(time.perf_counter() - t0, 1)
        return {"copy_into_ducklake_s": copied, **rounds(tmp, lake, data_path)}

    report_on_a_cluster(work, args.out)


if __name__ == "__main__":
    main()
