"""Two DuckDB versions on the same workload, one run, interleaved: python -m bench.engine --python A --python B ...

Each interpreter (a venv with one DuckDB version, running this checkout's code) makes its own demo database
(`python -m crmlens demo`; a file written by a newer DuckDB cannot be opened by an older one), then, in turns
(A, B, A, B, ...) so that a busy machine weighs on both alike:
- pages: every page's queries with default filters (recorded by opening each page in AppTest, as bench/pages.py),
  timed again without any cache, in a fresh process;
- load: the project's load (`ingest.load_files`, model included) of the same orders CSV into a copy of that
  version's database, and DuckDB's own `create table as select * from read_csv(...)` plus checkpoint on it.
Medians of `--repeat` turns; JSON on stdout (and in --out).

    python -m bench.engine --python /work/main/.venv/bin/python --python .venv/bin/python --customers 100000
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _worker(python: str, *args: str) -> dict:
    out = subprocess.run([python, "-m", "bench.engine", "--worker", *args], cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def work(args: list[str]) -> dict:
    """One measurement in this interpreter (its DuckDB): `version`, `demo N DB`, `pages DB`, `load DB CSV TMP`."""
    import duckdb

    what, rest = args[0], args[1:]
    if what == "version":
        return {"duckdb": duckdb.__version__}
    if what == "demo":
        n, db = rest
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "crmlens", "demo", "--customers", n, "--db", db], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        return {"demo_s": time.perf_counter() - t0}
    if what == "pages":
        from bench import pages

        (db,) = rest
        out = {}
        for page in pages.PAGES:
            calls = pages.recorded(page, db)
            out[page] = sum(pages.timed_page(calls, db).values())
        return out
    if what == "load":
        from bench.load import duckdb_read_store_seconds
        from crmlens import ingest

        db, csv, tmp = rest
        copy = pathlib.Path(tmp) / f"load-{os.getpid()}.duckdb"
        plain = pathlib.Path(tmp) / f"plain-{os.getpid()}.duckdb"
        shutil.copyfile(db, copy)
        try:
            duckdb_s = duckdb_read_store_seconds(csv, plain)
            t0 = time.perf_counter()
            ingest.load_files([pathlib.Path(csv)], db=copy, table="orders")
            return {"crmlens_load_s": time.perf_counter() - t0, "duckdb_read_store_s": duckdb_s}
        finally:
            for path in (copy, plain):
                path.unlink(missing_ok=True)
    raise SystemExit(f"unknown measurement {what}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(work(sys.argv[2:])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", action="append", required=True, help="an interpreter (give two or more)")
    parser.add_argument("--customers", default="100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tmp", type=pathlib.Path, default=None, help="folder for the databases (kept)")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()

    tmp = args.tmp or pathlib.Path(tempfile.mkdtemp(prefix="bench-engine-"))
    tmp.mkdir(parents=True, exist_ok=True)
    versions = [_worker(py, "version")["duckdb"] for py in args.python]
    dbs = {v: str(tmp / f"demo-{v}.duckdb") for v in versions}
    results: dict = {"customers": int(args.customers), "repeat": args.repeat, "runs": {v: [] for v in versions}}
    for py, v in zip(args.python, versions):
        if not pathlib.Path(dbs[v]).exists():
            results.setdefault("demo_s", {})[v] = round(_worker(py, "demo", args.customers, dbs[v])["demo_s"], 1)
    csv = tmp / "orders.csv"
    if not csv.exists():  # one file for every version (written by the first)
        subprocess.run([args.python[0], "-c", (
            "import sys; from crmlens import store; c = store.connect(sys.argv[1]); "
            "c.execute(\"copy (select order_id, customer_id, order_date, amount, cost, product, quantity, status "
            "from orders) to '\" + sys.argv[2] + \"' (header)\")"), dbs[versions[0]], str(csv)],
            cwd=ROOT, check=True)
    results["csv_mb"] = round(csv.stat().st_size / 1e6)
    for turn in range(args.repeat):
        order = list(zip(args.python, versions))
        if turn % 2:
            order.reverse()  # A B, B A, A B: neither always goes first
        for py, v in order:
            run = {**_worker(py, "pages", dbs[v]), **_worker(py, "load", dbs[v], str(csv), str(tmp))}
            results["runs"][v].append(run)
            print(f"turn {turn + 1} duckdb {v}: " + ", ".join(f"{k} {x:.2f}" for k, x in run.items()), file=sys.stderr)
    medians = {}
    for v, runs in results["runs"].items():
        keys = runs[0].keys()
        medians[v] = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}
        medians[v]["pages_total_s"] = round(statistics.median(sum(r[p] for p in _pages()) for r in runs), 2)
    results["median"] = medians
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


def _pages() -> tuple[str, ...]:
    return ("overview", "funnel", "loyalty", "churn", "complaints")


if __name__ == "__main__":
    main()
