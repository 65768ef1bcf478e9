"""The DuckLake store (a catalog in a throw-away PostgreSQL, tests/pg.py): loads are commits, versions are
snapshot ids, readers keep whole snapshots, concurrent loads from two processes, moving a file over.

A load here writes customers whose ids tell which load they came from, so counts tell what a reader saw.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from crmlens import cli, ingest, store
from tests.conftest import FIXTURES, app_test, fetch


def customers_csv(folder: pathlib.Path, prefix: str, n: int) -> pathlib.Path:
    path = folder / f"customers_{prefix}.csv"
    path.write_text("customer_id,name\n" + "".join(f"{prefix}{i},name {i}\n" for i in range(n)))
    return path


def n_customers(db) -> int:
    return fetch(db, "select count(*) from customers")[0][0]


def snapshot_ids(db) -> list[int]:
    """DuckLake's own list of committed snapshots (the catalog's history), read from the latest one."""
    snap = store.snapshot(db)
    cur = snap.con.cursor()
    try:
        return [r[0] for r in cur.execute("select snapshot_id from crm_w.snapshots() order by 1").fetchall()]
    finally:
        cur.close()


# --- both kinds of store -------------------------------------------------------------------------

def test_a_failed_load_changes_nothing(tmp_path, empty_store):
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=empty_store)
    before = store.snapshot(empty_store)
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,customer_id,order_date\nO1,A1,2024-01-03\n")  # no amount
    with pytest.raises(ingest.IngestError, match="amount"):
        ingest.load_files([customers_csv(tmp_path, "B", 5), bad], db=empty_store)
    after = store.snapshot(empty_store)
    assert (after.version, after.identity) == (before.version, before.identity)  # no new snapshot either
    assert n_customers(empty_store) == 3


def test_a_reader_keeps_its_snapshot_while_a_load_replaces_the_data(tmp_path, empty_store):
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=empty_store)
    old = store.snapshot(empty_store)
    ingest.load_files([customers_csv(tmp_path, "B", 5)], db=empty_store)
    assert old.query("select count(*) as n from customers")["n"][0] == 3
    new = store.snapshot(empty_store)
    assert new.query("select count(*) as n from customers")["n"][0] == 5
    assert new.version > old.version


# --- DuckLake ------------------------------------------------------------------------------------

def test_every_load_is_one_snapshot_and_its_version(tmp_path, new_lake):
    lake = new_lake()
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    first = store.snapshot(lake).version
    ids_before = snapshot_ids(lake)
    assert first == ids_before[-1]  # the data version is the snapshot id of the load's commit
    ingest.load_files([customers_csv(tmp_path, "B", 2)], db=lake, mode="append")
    second = store.snapshot(lake).version
    assert snapshot_ids(lake) == [*ids_before, second]  # one commit for the whole load, model included
    assert fetch(lake, "select version, file_name, mode, n_rows from loads order by load_id") == [
        (first, "customers_A.csv", "replace", 3), (second, "customers_B.csv", "append", 2)]
    assert n_customers(lake) == 5
    # The files are Parquet files in the data folder; nothing is copied into a database file.
    data_path = pathlib.Path(os.environ[store.DATA_PATH_ENV])
    assert list(data_path.rglob("*.parquet"))


def test_a_load_that_another_one_overtook_is_refused_and_writes_nothing(tmp_path, new_lake):
    lake = new_lake()
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    with pytest.raises(store.WriteConflict, match="committed while this one ran; nothing of this one was written"):
        with store.writer(lake) as con:
            con.execute("insert into customers (customer_id) values ('X1')")
            ingest.load_files([customers_csv(tmp_path, "B", 2)], db=lake, mode="append")  # commits first
    assert sorted(r[0] for r in fetch(lake, "select customer_id from customers")) == ["A0", "A1", "A2", "B0", "B1"]


LOADER = """
    import sys, time, pathlib
    from crmlens import ingest, store
    lake, csv, go = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    try:
        ingest.load_files([csv], db=lake, mode="append")
        print("loaded", flush=True)
    except store.StoreBusy as e:
        print("refused:", e, flush=True)
"""


def test_two_processes_loading_at_once_both_land_or_one_is_refused_never_a_mix(tmp_path, new_lake):
    lake = new_lake()
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    go = tmp_path / "go"
    procs = []
    for prefix in ("P", "Q"):
        proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LOADER), lake,
                                 str(customers_csv(tmp_path, prefix, 400)), str(go)],
                                cwd=store.PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n", proc.stderr.read()
        procs.append(proc)
    go.touch()  # both start their load now
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        outcomes.append(out.strip())
    loaded = [o == "loaded" for o in outcomes]
    assert all(o == "loaded" or "nothing of this one was written" in o for o in outcomes), outcomes
    ids = [r[0] for r in fetch(lake, "select customer_id from customers")]
    by_load = {p: sum(i.startswith(p) for i in ids) for p in "APQ"}
    # Each load is there whole or not at all.
    assert by_load == {"A": 3, "P": 400 if loaded[0] else 0, "Q": 400 if loaded[1] else 0}
    assert any(loaded)
    history = fetch(lake, "select version, file_name from loads order by load_id")
    assert len(history) == 1 + sum(loaded)
    assert len({v for v, _ in history}) == len(history)  # each load its own version (snapshot id)
    assert store.snapshot(lake).version == history[-1][0]


def test_migrate_a_file_keeps_every_figure_and_the_load_history(tmp_path, new_lake):
    db = tmp_path / "crm.duckdb"
    ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=db)
    ingest.load_files([customers_csv(tmp_path, "Z", 2)], db=db, mode="append")
    lake = new_lake()
    runner = CliRunner()
    before = runner.invoke(cli.cli, ["metrics", "--json", "--db", str(db)])
    assert before.exit_code == 0, before.output
    moved = runner.invoke(cli.cli, ["migrate", "--from", str(db), "--to", lake])
    assert moved.exit_code == 0, moved.output
    after = runner.invoke(cli.cli, ["metrics", "--json", "--db", lake])
    assert after.exit_code == 0, after.output
    figures_before, figures_after = json.loads(before.output), json.loads(after.output)
    # The data version becomes the DuckLake snapshot id of the copy; every figure and the data's date stay.
    assert figures_after.pop("data_version") == snapshot_ids(lake)[-1]
    assert figures_before.pop("data_version") == 2
    assert figures_after == figures_before
    history = "select load_id, version, loaded_at, file_name, table_name, mode, n_rows, n_rejected from loads order by 1"
    assert fetch(lake, history) == fetch(db, history)
    assert len(fetch(db, history)) > 1


def test_migrate_refuses_a_missing_source(tmp_path, new_lake):
    result = CliRunner().invoke(cli.cli, ["migrate", "--from", str(tmp_path / "none.duckdb"), "--to", new_lake()])
    assert result.exit_code != 0
    assert "nothing to copy" in result.output


def test_a_lake_without_its_data_folder_setting_is_refused(monkeypatch, new_lake):
    lake = new_lake()
    monkeypatch.delenv(store.DATA_PATH_ENV)
    with pytest.raises(store.NotOurDatabase, match="CRMLENS_DATA_PATH is not set"):
        store.snapshot(lake)


def test_the_overview_page_reads_a_lake(monkeypatch, tmp_path, new_lake):
    """The page test of tests/test_app.py, on tests/fixtures/tiny in a DuckLake catalog."""
    lake = new_lake()
    ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=lake)
    monkeypatch.setenv("CRMLENS_DB", lake)
    at = app_test(period=["2024-07-01", "2024-12-31"])
    assert not at.exception
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    assert shown["Revenue"] == ("900", "+800.0%")  # 900 vs 100 (test_overview_queries)
    assert shown["Customers"] == ("4", "+100.0%")
    assert shown["Complaints"] == ("2", "+100.0%")


def test_rolling_back_reads_the_catalogs_earlier_snapshot(tmp_path, new_lake):
    from crmlens import versions

    lake = new_lake()
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    first = store.snapshot(lake).version
    ingest.load_files([customers_csv(tmp_path, "B", 5)], db=lake)  # replaces A's customers
    assert list(versions.kept(lake)) == [first]  # the current version is not offered
    new = versions.rollback(first, db=lake)
    assert new == store.snapshot(lake).version == snapshot_ids(lake)[-1]
    assert sorted(r[0] for r in fetch(lake, "select customer_id from customers")) == ["A0", "A1", "A2"]
    assert fetch(lake, "select file_name, table_name, mode from loads order by load_id")[-1] == (
        f"version {first}", "all", "rollback")
