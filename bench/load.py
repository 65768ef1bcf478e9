"""Loading a big orders CSV: `python -m crmlens load`'s path against DuckDB's own read and store.

    python -m bench.load --customers 100000            # demo data, its orders exported as a CSV
    python -m bench.load --db data.duckdb --csv o.csv  # a database of your own and an orders file
    python -m bench.load ... --before /tmp/old-checkout  # also the code of another checkout, same run

Each measure runs in a fresh process (peak RSS per process, `ru_maxrss`), the measures interleaved
(DuckDB's own, this code, the other checkout, then again) so that a machine busy with other work
slows them alike; medians of `--repeat` runs. DuckDB's own: `create table orders as select * from
read_csv(...)` plus a checkpoint, into a new file. The load: `ingest.load_files([csv], table="orders")`
into a copy of the database (replace mode; the model is rebuilt, the snapshot published), which is
what `python -m crmlens load orders.csv` runs.

Per stage: the wall time of each SQL statement, charged to the CRM Lens function that ran it (its
nearest frame in crmlens/), and the Python time of the functions that read files without DuckDB.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
ORDER_COLUMNS = "order_id, customer_id, order_date, amount, cost, product, quantity, status"


def export_orders(db: pathlib.Path, csv: pathlib.Path) -> None:
    """The orders table as a CSV with the headers a user's export has."""
    from crmlens import store

    cur = store.snapshot(db).cursor()
    try:
        cur.execute(f"copy (select {ORDER_COLUMNS} from orders) to '{csv}' (header)")
    finally:
        cur.close()


# --- the measured process --------------------------------------------------------------------------

def duckdb_read_store_seconds(csv: str | pathlib.Path, target: str | pathlib.Path) -> float:
    """DuckDB's own read and store of the CSV into a new file: the yardstick of the load target."""
    from crmlens import store

    t0 = time.perf_counter()
    con = store.connect(str(target))
    con.execute(f"create table orders as select * from read_csv('{csv}')")
    con.execute("checkpoint")
    con.close()
    return time.perf_counter() - t0


def _child_duckdb(csv: str, target: str) -> dict:
    return {"seconds": duckdb_read_store_seconds(csv, target)}


# Python functions that read or copy files outside DuckDB, timed as stages of their own.
PY_STAGES = {
    "crmlens.ingest.decode": ("detect_encoding", "needs_copy", "clean_copy"),
    "crmlens.ingest.read": ("file_hash", "sniff_whitespace", "check_file", "_header_width"),
    "crmlens.ingest.truncated": ("cut_off_last_row",),
    "crmlens.versions": ("keep",),
    "crmlens.store": ("_publish",),
}


def _child_load(csv: str, db: str) -> dict:
    import importlib
    import inspect

    from crmlens import ingest, store

    sql_s: dict[str, float] = {}
    sql_cpu: dict[str, float] = {}
    statements: list[tuple[float, str, str]] = []
    py_s: dict[str, float] = {}

    def caller() -> str:
        for frame in inspect.stack()[2:]:
            path = pathlib.Path(frame.filename)
            if "crmlens" in path.parts and frame.function not in ("execute", "executemany"):
                return f"{path.stem}.{frame.function}"
        return "?"

    class Timed:
        def __init__(self, con):
            self._con = con

        def _run(self, method, sql, *a, **k):
            t0, c0 = time.perf_counter(), time.process_time()
            out = getattr(self._con, method)(sql, *a, **k)
            seconds = time.perf_counter() - t0
            where = caller()
            sql_s[where] = sql_s.get(where, 0.0) + seconds
            sql_cpu[where] = sql_cpu.get(where, 0.0) + time.process_time() - c0
            statements.append((seconds, time.process_time() - c0, where, " ".join(sql.split())[:110]))
            return out

        def execute(self, sql, *a, **k):
            return self._run("execute", sql, *a, **k)

        def executemany(self, sql, *a, **k):
            return self._run("executemany", sql, *a, **k)

        def __getattr__(self, name):
            return getattr(self._con, name)

    real_connect = store.connect
    store.connect = lambda database=":memory:": Timed(real_connect(database))

    def wrap(module, name):
        fn = getattr(module, name)

        def timed(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                key = f"py {module.__name__.rsplit('.', 1)[-1]}.{name}"
                py_s[key] = py_s.get(key, 0.0) + time.perf_counter() - t0
        return timed

    for module_name, names in PY_STAGES.items():
        module = importlib.import_module(module_name)
        for name in names:
            original = getattr(module, name, None)
            if original is None:
                continue
            wrapped = wrap(module, name)
            for other in [m for n, m in sys.modules.items() if n.startswith("crmlens")]:
                if getattr(other, name, None) is original:  # also where it was imported by name
                    setattr(other, name, wrapped)
    real_copy = shutil.copyfile

    def copyfile(*a, **k):
        t0 = time.perf_counter()
        try:
            return real_copy(*a, **k)
        finally:
            py_s["py shutil.copyfile"] = py_s.get("py shutil.copyfile", 0.0) + time.perf_counter() - t0
    shutil.copyfile = copyfile

    t0 = time.perf_counter()
    results = ingest.load_files([pathlib.Path(csv)], db=db, table="orders")
    seconds = time.perf_counter() - t0
    top = sorted(statements, key=lambda s: -s[1])[:25]  # by CPU
    return {"seconds": seconds, "n_loaded": results[0].n_loaded, "sql_s": sql_s, "sql_cpu_s": sql_cpu, "py_s": py_s,
            "top_statements": [[round(s, 3), round(c, 3), w, q] for s, c, w, q in top]}


def child(args) -> None:
    sys.path.insert(0, os.getcwd())  # the checkout measured (the parent runs us in it)
    out = _child_duckdb(args.csv, args.target) if args.duckdb else _child_load(args.csv, args.target)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = usage.ru_utime + usage.ru_stime  # all threads: the work done, less sensitive to a busy machine
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


# --- the parent: data, interleaved runs, medians -------------------------------------------------------

def _run(code: pathlib.Path, *args: str) -> dict:
    python = ROOT / ".venv" / "bin" / "python"
    done = subprocess.run([str(python if python.exists() else sys.executable), __file__, "--child", *args],
                          cwd=code, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"measure failed in {code}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median_stages(runs: list[dict], key: str) -> dict:
    names = sorted({n for r in runs for n in r[key]})
    return {n: round(statistics.median(r[key].get(n, 0.0) for r in runs), 3) for n in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--duckdb", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", type=pathlib.Path, help="load into a copy of this database (default: demo data)")
    parser.add_argument("--csv", type=pathlib.Path, help="the orders file (default: the database's orders exported)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=pathlib.Path, action="append", default=[],
                        help="another checkout of CRM Lens to measure in the same run (repeatable)")
    parser.add_argument("--out", type=pathlib.Path, help="also write the results as JSON here")
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    with tempfile.TemporaryDirectory(prefix="crmlens-bench-load-") as tmp:
        tmp = pathlib.Path(tmp)
        db = args.db
        if db is None:
            from crmlens import demo, ingest

            db = tmp / "demo.duckdb"
            ingest.load_tables(demo.generate(n_customers=args.customers), db=db)
        csv = args.csv
        if csv is None:
            csv = tmp / "orders.csv"
            export_orders(db, csv)
        codes = {"this": ROOT, **{f"before{i or ''}:{p}": p.resolve() for i, p in enumerate(args.before)}}
        runs: dict[str, list[dict]] = {"duckdb": [], **{name: [] for name in codes}}
        for _ in range(args.repeat):
            target = tmp / "plain.duckdb"
            target.unlink(missing_ok=True)
            runs["duckdb"].append(_run(ROOT, "--duckdb", "--csv", str(csv), "--target", str(target)))
            target.unlink(missing_ok=True)
            for name, code in codes.items():
                copy = tmp / "load.duckdb"
                shutil.copyfile(db, copy)
                runs[name].append(_run(code, "--csv", str(csv), "--target", str(copy)))
                for leftover in tmp.glob(".load.duckdb*"):
                    shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
                copy.unlink()
        duckdb_s = statistics.median(r["seconds"] for r in runs["duckdb"])
        results = {"csv_mb": round(csv.stat().st_size / 1e6, 1), "repeat": args.repeat,
                   "duckdb_read_store_s": round(duckdb_s, 2),
                   "duckdb_runs_s": [round(r["seconds"], 2) for r in runs["duckdb"]],
                   "duckdb_cpu_s": round(statistics.median(r["cpu_s"] for r in runs["duckdb"]), 2),
                   "duckdb_peak_rss_mb": max(r["peak_rss_mb"] for r in runs["duckdb"])}
        for name in codes:
            rs = runs[name]
            load_s = statistics.median(r["seconds"] for r in rs)
            results[name] = {
                "n_loaded": rs[0]["n_loaded"], "load_s": round(load_s, 2), "runs_s": [round(r["seconds"], 2) for r in rs],
                "ratio": round(load_s / duckdb_s, 2),
                "ratios": [round(r["seconds"] / d["seconds"], 2) for r, d in zip(rs, runs["duckdb"])],
                "cpu_s": round(statistics.median(r["cpu_s"] for r in rs), 2),
                "cpu_ratio": round(statistics.median(r["cpu_s"] for r in rs)
                                   / statistics.median(r["cpu_s"] for r in runs["duckdb"]), 2),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                "sql_s_by_function": _median_stages(rs, "sql_s"),
                "sql_cpu_s_by_function": _median_stages(rs, "sql_cpu_s"),
                "python_s": _median_stages(rs, "py_s"),
                "top_statements_last_run": rs[-1]["top_statements"],
            }
    print(json.dumps(results, indent=2, ensure_ascii=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
