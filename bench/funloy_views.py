"""The funnel and loyalty pages' views, every query each runs, before and after a change, interleaved.

    python bench/funloy_views.py record --db FILE --out CALLS.pickle
        opens each view below in AppTest (bench.pages.recorded) and keeps every query it ran
    python bench/funloy_views.py time --db FILE --calls CALLS.pickle
        (run from a checkout: its crmlens and SQL) times each recorded query once, no cache; prints JSON
        (wall seconds, and the process's CPU seconds under "cpu | ...")
    python bench/funloy_views.py compare --calls CALLS.pickle --before DIR=FILE --after DIR=FILE [--reps 3]
        runs `time` in each checkout DIR on its database FILE, before and after in turn, and prints medians per view
        (and per query with --queries)
"""

from __future__ import annotations

import json
import pickle
import statistics
import subprocess
import sys
import time

VIEWS = {  # name -> (page, the page address)
    "funnel, default": ("funnel", {}),
    "funnel, segment business": ("funnel", {"segment": "business"}),
    "loyalty, default": ("loyalty", {}),
    "loyalty, segment business": ("loyalty", {"segment": "business"}),
    "loyalty, region": ("loyalty", {"region": "East"}),
    "loyalty, ABC A 70%": ("loyalty", {"loyalty_abc_a": "70"}),
    "loyalty, customers tab": ("loyalty", {"loyalty_tab": "Customers"}),
    "loyalty, customers tab, segment business": ("loyalty", {"loyalty_tab": "Customers", "segment": "business"}),
    "loyalty, climb tab, segment business": ("loyalty", {"loyalty_tab": "Climbing: worth it?", "segment": "business"}),
}


def record(db: str, out: str, views: dict = VIEWS, keep=lambda query: True) -> None:
    """Each view's queries (those `keep` accepts) as the page runs them, into the pickle file `out`."""
    sys.path.insert(0, ".")
    from bench import pages

    calls = {}
    for name, (page, address) in views.items():
        calls[name] = [(q, p) for q, p in pages.recorded(page, db, lang="English", **address) if keep(q)]
        print(name, [q for q, _ in calls[name]], flush=True)
    with open(out, "wb") as fh:
        pickle.dump(calls, fh)


def time_calls(db: str, calls_file: str) -> None:
    sys.path.insert(0, ".")
    from crmlens import queries, store

    with open(calls_file, "rb") as fh:
        calls = pickle.load(fh)
    snap = store.snapshot(db)
    queries.run("data_span", snap=snap)  # open the file once before timing
    out = {}
    for view, ran in calls.items():
        for i, (name, params) in enumerate(ran):
            t0, c0 = time.perf_counter(), time.process_time()
            queries.run(name, params, snap=snap)
            out[f"{view} | {i} {name}"] = time.perf_counter() - t0
            out[f"cpu | {view} | {i} {name}"] = time.process_time() - c0
    print(json.dumps(out))


def compare(calls_file: str, before: str, after: str, reps: int, per_query: bool) -> None:
    sides = {"before": before.split("=", 1), "after": after.split("=", 1)}
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for rep in range(reps):
        for side, (folder, db) in sides.items():
            done = subprocess.run([sys.executable, __file__, "time", "--db", db, "--calls", calls_file], cwd=folder,
                                  capture_output=True, text=True, check=True)
            runs[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(rep, side, round(sum(v for k, v in runs[side][-1].items() if not k.startswith("cpu")), 2), flush=True)

    def med(side, pick):
        return statistics.median(sum(v for k, v in r.items() if pick(k)) for r in runs[side])

    keys = [k for k in runs["after"][0] if not k.startswith("cpu")]
    if per_query:
        print("| query | before | after | before, CPU | after, CPU |\n| --- | ---: | ---: | ---: | ---: |")
        for key in keys:
            b, a = med("before", lambda k: k == key), med("after", lambda k: k == key)
            bc, ac = med("before", lambda k: k == "cpu | " + key), med("after", lambda k: k == "cpu | " + key)
            print(f"| {key} | {b * 1000:.0f} ms | {a * 1000:.0f} ms | {bc * 1000:.0f} ms | {ac * 1000:.0f} ms |")
    print("| view, its queries together | before | after | before, CPU | after, CPU |\n| --- | ---: | ---: | ---: | ---: |")
    for view in dict.fromkeys(k.split(" | ")[0] for k in keys):
        b, a = med("before", lambda k: k.startswith(view + " |")), med("after", lambda k: k.startswith(view + " |"))
        bc = med("before", lambda k: k.startswith(f"cpu | {view} |"))
        ac = med("after", lambda k: k.startswith(f"cpu | {view} |"))
        print(f"| {view} | {b * 1000:.0f} ms | {a * 1000:.0f} ms | {bc * 1000:.0f} ms | {ac * 1000:.0f} ms |")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("record", "time", "compare"))
    parser.add_argument("--db")
    parser.add_argument("--out")
    parser.add_argument("--calls")
    parser.add_argument("--before")
    parser.add_argument("--after")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--queries", action="store_true")
    args = parser.parse_args()
    if args.what == "record":
        record(args.db, args.out)
    elif args.what == "time":
        time_calls(args.db, args.calls)
    else:
        compare(args.calls, args.before, args.after, args.reps, args.queries)
