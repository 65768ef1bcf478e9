"""Issue 17's fixes to DuckLake's read copy and to how a DuckLake snapshot stays readable (store.py):

- a viewer holding an older version keeps reading that version after this server dropped its read copy and
  detached its snapshot (more versions opened than _KEEP_ATTACHED): the snapshot is attached again, never an
  error and never another version's rows;
- queries.prepared is the one choice of a query's SQL variant and parameters: queries.run runs what it says;
- short-lived command-line processes read the catalog directly: only an app server (a Streamlit runtime), or a
  process that asks (store.ask_for_read_copies), makes read copies.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pandas as pd

from crmlens import ingest, model, queries, store
from tests.test_ducklake import customers_csv

PROJECT = store.PROJECT_DIR


def n_customers(snap: store.Snapshot) -> int:
    return int(snap.query("select count(*) as n from customers")["n"][0])


def test_a_viewer_on_an_old_version_keeps_it_after_its_copy_and_its_snapshot_went(tmp_path, new_lake, monkeypatch):
    """One snapshot attached at a time (_KEEP_ATTACHED=1), two read copies kept: after two more loads the first
    version's copy is dropped and its snapshot detached; a page run still holding it reads it again, as it was."""
    lake = new_lake()
    monkeypatch.setenv(store.READ_COPY_ENV, str(tmp_path / "copies"))
    monkeypatch.setattr(store, "READ_COPIES_ASKED", True)
    monkeypatch.setattr(store, "_KEEP_ATTACHED", 1)
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    assert store.read_copy_ready(lake, timeout_s=120)
    first = store.snapshot(lake)
    assert first.catalog == f"crm_c{first.version}"
    for prefix, n in (("B", 2), ("C", 4)):
        ingest.load_files([customers_csv(tmp_path, prefix, n)], db=lake, mode="append")
        assert store.read_copy_ready(lake, timeout_s=120)
    base = store._lake_bases[store.db_path(lake)]
    assert f"crm_s{first.version}" not in base.attached  # the situation: its copy gone, its snapshot detached
    assert first.catalog == f"crm_s{first.version}"
    assert n_customers(first) == 3  # that version's rows, not the latest's (9)
    assert sorted(first.query("select customer_id from customers")["customer_id"]) == ["A0", "A1", "A2"]
    assert n_customers(store.snapshot(lake)) == 9
    assert len(base.attached) <= 2  # attached again within the limit (the latest is never detached)


def test_a_link_to_an_old_version_keeps_working_after_other_versions_pushed_it_out(tmp_path, new_lake, monkeypatch):
    """Without read copies: a held snapshot of an older version (a link) whose attachment other versions' links
    pushed out is attached again at its own snapshot id."""
    lake = new_lake()
    monkeypatch.setenv(store.READ_COPY_ENV, "off")
    monkeypatch.setattr(store, "_KEEP_ATTACHED", 1)
    versions = []
    for prefix, n in (("A", 1), ("B", 2), ("C", 3)):
        ingest.load_files([customers_csv(tmp_path, prefix, n)], db=lake, mode="append")
        versions.append(store.snapshot(lake).version)
    oldest = store.snapshot_at(versions[0], lake)
    middle = store.snapshot_at(versions[1], lake)  # detaches the oldest (one kept besides the latest)
    assert oldest.catalog not in store._lake_bases[store.db_path(lake)].attached
    assert n_customers(oldest) == 1 and n_customers(middle) == 3 and n_customers(store.snapshot(lake)) == 6
    assert n_customers(oldest) == 1


def test_queries_run_runs_what_queries_prepared_chooses(tiny_db, monkeypatch):
    """queries.prepared is the one place that picks a query's SQL variant (marts or live pieces) and the model's
    flags (use_spells_mart, use_churn_mart, use_drivers_mart); queries.run executes exactly that, at the default
    period (the marts) and a year earlier (the live pieces)."""
    from crmlens import churn, loyalty, period

    snap = store.snapshot(tiny_db)
    ran = []
    real = store.Snapshot.query

    def recording(self, sql, params=None):
        ran.append((sql, params))
        return real(self, sql, params)

    monkeypatch.setattr(store.Snapshot, "query", recording)
    start, end = period.default_period(snap)
    year = dt.timedelta(days=365)
    chosen, from_frames = {}, set()
    for label, (s, e) in (("default", (start, end)), ("a year back", (start - year, end - year))):
        for name in ("churn_summary", "churn_drivers", "loyalty_summary", "loyalty_movements"):
            params = (churn.query_params(s, e, "orders") if name.startswith("churn")
                      else {**queries.DEFAULT_PARAMS, **loyalty.params(s, e)})
            sql, bound = queries.prepared(name, params, snap)
            kept = model.kept_frame(snap, name, params)  # the kept rows: read with the others in one round trip
            ran.clear()
            got = queries.run(name, params, snap=snap)
            assert ran == ([] if kept is not None else [(sql, bound)]), (label, name)
            if kept is not None:
                pd.testing.assert_frame_equal(got, real(snap, sql, bound))
                from_frames.add((label, name))
            chosen[label, name] = (sql, bound)
    # the choice depends on the period: the marts at the default one (churn_summary and loyalty_summary: the rows kept
    # at load for the page as it opens, model.kept_view), the live pieces a year back
    assert "mart_churn_summary_kept" in chosen["default", "churn_summary"][0]
    assert chosen["default", "churn_drivers"][1]["use_churn_mart"]
    assert not chosen["a year back", "churn_summary"][1]["use_churn_mart"]
    assert "mart_loyalty_summary_kept" in chosen["default", "loyalty_summary"][0]
    assert "mart_loyalty_customers" not in chosen["a year back", "loyalty_summary"][0]
    assert from_frames == {("default", "churn_summary"), ("default", "loyalty_summary")}


CLI_STATE = """
import json, sys
from crmlens import cli, store
state = {}
for step, args in (("load", ["load", sys.argv[2], "--db", sys.argv[1], "--append"]),
                   ("metrics", ["metrics", "--json", "--db", sys.argv[1]])):
    try:
        cli.cli(args, standalone_mode=False)
    except SystemExit:
        pass
    copies = store._read_copies.get(store.db_path(sys.argv[1]))
    state[step] = {"copying": bool(copies and (copies.building is not None or copies.ready)),
                   "version": store.snapshot(sys.argv[1]).version}
print("STATE " + json.dumps(state))
"""


def test_command_line_loads_and_metrics_on_ducklake_make_no_read_copy(tmp_path, new_lake):
    """`python -m crmlens load` and `metrics` on DuckLake (CRMLENS_LAKE_READ_COPY naming a folder, as on an app
    server's machine) read the catalog: no copy is started, nothing is written to the folder."""
    lake = new_lake()
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    copies = tmp_path / "copies"
    env = {**os.environ, store.READ_COPY_ENV: str(copies), "PYTHONPATH": str(PROJECT)}
    done = subprocess.run([sys.executable, "-c", CLI_STATE, lake, str(customers_csv(tmp_path, "B", 2))],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("STATE "))
    state = json.loads(line[len("STATE "):])
    assert state["load"]["version"] > 0 and state["metrics"]["version"] == state["load"]["version"]
    assert not state["load"]["copying"] and not state["metrics"]["copying"]
    assert not copies.exists() or not any(copies.iterdir())


def test_a_process_that_asks_makes_read_copies(tmp_path, new_lake, monkeypatch):
    """The same load in a process that asks for copies (an app server does without asking: Streamlit's runtime)
    makes one: the check above can fail."""
    lake = new_lake()
    monkeypatch.setenv(store.READ_COPY_ENV, str(tmp_path / "copies"))
    monkeypatch.setattr(store, "READ_COPIES_ASKED", False)
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    assert not store.read_copy_ready(lake, timeout_s=1)
    monkeypatch.setattr(store, "READ_COPIES_ASKED", True)
    store.snapshot(lake)
    assert store.read_copy_ready(lake, timeout_s=120)
    assert store.snapshot(lake).catalog.startswith("crm_c")


def test_a_new_versions_copy_copies_only_the_tables_its_loads_changed(tmp_path, new_lake, monkeypatch):
    """After a load, the server's copy of the new version starts from its copy of the version before and copies from
    the catalog only the tables the loads since changed (DuckLake's snapshot changes): every table of the copy
    still equals the catalog's, row for row."""
    lake = new_lake()
    monkeypatch.setenv(store.READ_COPY_ENV, str(tmp_path / "copies"))
    monkeypatch.setattr(store, "READ_COPIES_ASKED", True)
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    assert store.read_copy_ready(lake, timeout_s=120)
    first = store.snapshot(lake).version
    assert store.read_copy_reused(lake)[first] == []  # the first copy: everything from the catalog
    ingest.load_files([customers_csv(tmp_path, "B", 2)], db=lake, mode="append")
    assert store.read_copy_ready(lake, timeout_s=120)
    snap = store.snapshot(lake)
    reused = set(store.read_copy_reused(lake)[snap.version])
    assert {"orders", "complaints", "opportunities", "vocabulary"} <= reused  # the customers' load left them alone
    assert not reused & {"customers", "loads", "meta", "mart_customers"}
    assert "model_info" in reused  # its row is the same: a load that changes it no more is not made again (model.build)
    # the tables the load only added rows to take just those rows (DuckLake's insertions since the earlier copy)
    assert {"customers (rows added)", "loads (rows added)"} <= reused, reused
    catalog = store.catalog_snapshot(lake)
    assert snap.catalog == f"crm_c{snap.version}" and catalog.catalog == f"crm_s{snap.version}"
    tables = sorted(catalog.tables())
    assert sorted(snap.tables()) == tables
    cur = snap.cursor()
    try:
        for table in tables:
            for a, b in ((snap.catalog, catalog.catalog), (catalog.catalog, snap.catalog)):
                extra = cur.execute(f'select count(*) from (select * from {a}.main."{table}" '
                                    f'except all select * from {b}.main."{table}")').fetchone()[0]
                assert extra == 0, (table, a, b)
        views = cur.execute("select count(*) from duckdb_views() where database_name = $c and not internal",
                            {"c": snap.catalog}).fetchone()[0]
    finally:
        cur.close()
    assert views > 0
    assert n_customers(snap) == 5


def test_an_app_server_makes_read_copies_without_asking(monkeypatch, tmp_path):
    """Inside Streamlit's runtime (a `streamlit run` server; AppTest runs a script in one too) copies are made; the
    same process outside it makes none, and CRMLENS_LAKE_READ_COPY=off turns them off everywhere."""
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st

        from crmlens import store

        st.write(f"makes read copies: {store.makes_read_copies()}")

    monkeypatch.setattr(store, "READ_COPIES_ASKED", False)
    monkeypatch.setenv(store.READ_COPY_ENV, str(tmp_path / "copies"))
    at = AppTest.from_function(script).run()
    assert [m.value for m in at.markdown] == ["makes read copies: True"]
    assert not store.makes_read_copies()
    monkeypatch.setenv(store.READ_COPY_ENV, "off")
    at = AppTest.from_function(script).run()
    assert [m.value for m in at.markdown] == ["makes read copies: False"]
