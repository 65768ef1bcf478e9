"""Data versions (crmlens/versions.py): the snapshots loads replace are kept (the last N), a rollback
brings back a kept version's data as a new recorded load, and a table can be cleared."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from crmlens import ingest, store, versions
from crmlens.cli import cli
from tests.conftest import _copy_of_load, _load_key, fetch


def load(tmp_path, db, name: str, text: str, **kw):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return ingest.load_files([path], db=db, **kw)


VERSIONS = [("customers.csv", "customer_id,name\nC1,Ann\nC2,Bo\n"),
            ("customers.csv", "customer_id,name\nC1,Ann\nC2,Bo\nC3,Cy\n"),
            ("orders.csv", "order_id,customer_id,order_date,amount\nO1,C3,2025-01-02,10\n")]


def three_loads(path):
    files = path.with_name(path.name + ".files")
    shutil.rmtree(files, ignore_errors=True)
    files.mkdir()
    for name, text in VERSIONS:
        load(files, path, name, text)
    shutil.rmtree(files)


@pytest.fixture
def db(tmp_path):
    """Version 1: customers C1, C2; version 2: C1-C3; version 3: orders added. A copy (with the kept versions'
    folder) of the three loads made once per test session (conftest._copy_of_load)."""
    return _copy_of_load(tmp_path / "crm.duckdb", _load_key("versions", VERSIONS), three_loads)


def test_each_load_keeps_the_snapshot_it_replaces(db):
    assert store.snapshot(db).version == 3
    assert list(versions.kept(db)) == [1, 2]  # the versions replaced; 3 is the published file
    # The kept files are whole CRM Lens databases of their version.
    assert store.snapshot(versions.kept(db)[1]).version == 1
    assert fetch(versions.kept(db)[2], "select count(*) from customers") == [(3,)]


def test_rollback_is_a_new_recorded_version_with_the_old_data(db):
    new = versions.rollback(1, db)
    assert new == 4 == store.snapshot(db).version
    assert fetch(db, "select customer_id from customers order by 1") == [("C1",), ("C2",)]
    assert fetch(db, "select count(*) from orders") == [(0,)]  # no orders in version 1
    assert fetch(db, "select count(*) from stg_customers") == [(2,)]  # the model is rebuilt
    assert fetch(db, "select version, file_name, table_name, mode, n_rows from loads order by load_id") == [
        (1, "customers.csv", "customers", "replace", 2), (2, "customers.csv", "customers", "replace", 3),
        (3, "orders.csv", "orders", "replace", 1), (4, "version 1", "all", "rollback", 2)]
    # The rollback can itself be undone: version 3 was kept when it was replaced.
    versions.rollback(3, db)
    assert fetch(db, "select count(*) from customers union all select count(*) from orders") == [(3,), (1,)]


def test_only_the_last_n_are_kept(tmp_path, db, monkeypatch):
    monkeypatch.setenv(versions.KEEP_ENV, "2")
    load(tmp_path, db, "customers.csv", "customer_id\nC9\n")  # version 4
    load(tmp_path, db, "customers.csv", "customer_id\nC8\n")  # version 5
    assert list(versions.kept(db)) == [3, 4]
    with pytest.raises(ingest.IngestError, match="Version 1 is not kept any more"):
        versions.rollback(1, db)
    monkeypatch.setenv(versions.KEEP_ENV, "0")
    load(tmp_path, db, "customers.csv", "customer_id\nC7\n")
    assert versions.kept(db) == {}


def test_a_broken_setting_stops_the_load_and_changes_nothing(tmp_path, db, monkeypatch):
    before = db.read_bytes()
    monkeypatch.setenv(versions.KEEP_ENV, "five")
    with pytest.raises(ingest.IngestError, match="CRMLENS_KEEP_VERSIONS"):
        load(tmp_path, db, "customers.csv", "customer_id\nC9\n")
    assert db.read_bytes() == before


def test_clear_a_table(db):
    assert versions.clear("orders", db) == 4
    assert fetch(db, "select count(*) from orders") == [(0,)]
    assert fetch(db, "select count(*) from customers") == [(3,)]
    assert fetch(db, "select mode, table_name from loads order by load_id desc limit 1") == [("clear", "orders")]
    versions.rollback(3, db)
    assert fetch(db, "select count(*) from orders") == [(1,)]


def test_command_line_lists_rolls_back_and_clears(db):
    runner = CliRunner()
    listed = runner.invoke(cli, ["versions", "--db", str(db)])
    assert listed.exit_code == 0 and "version 1:" in listed.output and "version 2:" in listed.output
    done = runner.invoke(cli, ["rollback", "2", "--db", str(db)])
    assert done.exit_code == 0, done.output
    assert "rolled back to version 2: the data is now version 4" in done.output
    assert fetch(db, "select count(*) from customers union all select count(*) from orders") == [(3,), (0,)]
    refused = runner.invoke(cli, ["rollback", "99", "--db", str(db)])
    assert refused.exit_code == 1 and "Version 99 is not kept any more" in refused.output
    cleared = runner.invoke(cli, ["clear", "customers", "--db", str(db)])
    assert cleared.exit_code == 0 and "customers cleared: the data is now version 5" in cleared.output
