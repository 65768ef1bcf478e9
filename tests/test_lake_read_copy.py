"""DuckLake's read copy (store.py): each server copies the latest snapshot into a local DuckDB file once per data
version and the latest's queries read it; the page figures are the same on the DuckDB file, on the catalog and on
the copy; a load moves readers to the new version's copy; older versions (links) read the catalog.

The demo data set (crmlens.demo, 300 customers) is loaded into a DuckDB file and into a DuckLake catalog (a
throw-away PostgreSQL, tests/pg.py); each page's queries are the ones the page runs (recorded by opening it,
bench.pages), so "the page numbers" are every table and figure those queries return.
"""

from __future__ import annotations

import pathlib

import pandas as pd
import pytest

from bench import pages
from crmlens import demo, ingest, model, queries, store
from tests.test_ducklake import customers_csv

N_DEMO_CUSTOMERS = 300


@pytest.fixture(scope="module")
def demo_stores(postgres, tmp_path_factory):
    """The demo data in a DuckDB file and in a DuckLake catalog, and each page's recorded queries."""
    tmp = tmp_path_factory.mktemp("read_copy")
    lake, data_path = postgres.lake(tmp / "lake-files")
    file_db = tmp / "demo.duckdb"
    tables = demo.generate(n_customers=N_DEMO_CUSTOMERS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(store.DATA_PATH_ENV, data_path)
        mp.setenv(store.READ_COPY_ENV, str(tmp / "copies"))
        mp.setattr(store, "READ_COPIES_ASKED", True)  # this process is no app server: it asks
        ingest.load_tables(tables, db=file_db)
        ingest.load_tables(tables, db=lake)
        calls = {page: pages.recorded(page, str(file_db)) for page in pages.PAGES}
        assert store.read_copy_ready(lake, timeout_s=300)
        yield {"file": file_db, "lake": lake, "calls": calls, "copies": tmp / "copies"}


def frames(snap: store.Snapshot, calls: list[tuple[str, dict]]) -> list[tuple[str, pd.DataFrame]]:
    return [(name, queries.run(name, params, snap=snap)) for name, params in calls]


@pytest.mark.parametrize("page", pages.PAGES)
def test_a_pages_numbers_are_the_same_on_the_file_the_catalog_and_the_read_copy(demo_stores, page):
    calls = demo_stores["calls"][page]
    assert calls, f"the {page} page ran no query"
    on_file = frames(store.snapshot(demo_stores["file"]), calls)
    copy = store.snapshot(demo_stores["lake"])
    catalog = store.catalog_snapshot(demo_stores["lake"])
    assert copy.catalog != catalog.catalog  # the app reads the copy; catalog_snapshot the catalog itself
    for label, snap in (("read copy", copy), ("catalog", catalog)):
        model.forget_kept_frames()  # (the copy and the catalog are one version: each reads its own kept frames)
        for (name, expected), (_, got) in zip(on_file, frames(snap, calls)):
            assert list(got.columns) == list(expected.columns), (label, name)
            pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True),
                                          check_dtype=False, rtol=1e-12, obj=f"{page}: {name} on the {label}")
    assert sum(len(df) for _, df in on_file) > 0  # the demo data gives the page something to show


def test_the_read_copy_reads_nothing_from_the_catalog(demo_stores):
    """Every query of every page, on the copy, scans local tables only (no DUCKLAKE_SCAN in its plan), and the
    copy is a DuckDB file in this server's folder for copies."""
    snap = store.snapshot(demo_stores["lake"])
    cur = snap.cursor()
    try:
        kind, path = cur.execute("select type, path from duckdb_databases() where database_name = $c",
                                 {"c": snap.catalog}).fetchone()
        for page, calls in demo_stores["calls"].items():
            for name, params in calls:
                sql, bound = queries.prepared(name, params, snap)  # what queries.run runs
                plan = "\n".join(r[1] for r in cur.execute("explain " + sql, bound).fetchall())
                assert "DUCKLAKE_SCAN" not in plan, (page, name)
    finally:
        cur.close()
    assert kind == "duckdb" and pathlib.Path(path).parent == demo_stores["copies"]
    catalog = store.catalog_snapshot(demo_stores["lake"]).cursor()
    try:  # the same query on the catalog does scan DuckLake: the check above can fail
        assert "DUCKLAKE_SCAN" in catalog.execute("explain select count(*) from orders").fetchall()[0][1]
    finally:
        catalog.close()


def n_customers(snap: store.Snapshot) -> int:
    return int(snap.query("select count(*) as n from customers")["n"][0])


def test_a_load_moves_readers_to_its_versions_copy_and_older_versions_read_the_catalog(tmp_path, new_lake,
                                                                                       monkeypatch):
    lake = new_lake()
    copies = tmp_path / "copies"
    monkeypatch.setenv(store.READ_COPY_ENV, str(copies))
    monkeypatch.setattr(store, "READ_COPIES_ASKED", True)
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    assert store.read_copy_ready(lake, timeout_s=120)
    first = store.snapshot(lake)
    assert first.catalog == f"crm_c{first.version}" and n_customers(first) == 3

    ingest.load_files([customers_csv(tmp_path, "B", 2)], db=lake, mode="append")
    assert store.read_copy_ready(lake, timeout_s=120)
    second = store.snapshot(lake)
    assert second.version > first.version and second.catalog == f"crm_c{second.version}"
    assert n_customers(second) == 5
    assert n_customers(first) == 3  # a run still on the older version keeps reading it (its copy is kept)
    then = store.snapshot_at(first.version, lake)  # a link to the older version: the catalog, as of that snapshot
    assert then.catalog == f"crm_s{first.version}" and n_customers(then) == 3

    ingest.load_files([customers_csv(tmp_path, "C", 4)], db=lake, mode="append")
    assert store.read_copy_ready(lake, timeout_s=120)
    third = store.snapshot(lake)
    assert n_customers(third) == 9
    # Two copies are kept per server: the first version's is gone, its readers read the catalog again
    assert first.catalog == f"crm_s{first.version}" and n_customers(first) == 3
    assert sorted(p.name.split("-s")[-1].split("-")[0] for p in copies.glob("*.duckdb")) == sorted(
        [str(second.version), str(third.version)])


def test_with_the_read_copy_off_the_latest_reads_the_catalog(tmp_path, new_lake, monkeypatch):
    lake = new_lake()
    monkeypatch.setenv(store.READ_COPY_ENV, "off")
    monkeypatch.setattr(store, "READ_COPIES_ASKED", True)  # asked, yet turned off
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    snap = store.snapshot(lake)
    assert not store.read_copy_ready(lake, timeout_s=1)
    assert snap.catalog == f"crm_s{snap.version}" and n_customers(snap) == 3
    assert store.read_copy_folder() is None


def test_a_copy_that_cannot_be_made_leaves_the_catalog_to_read(tmp_path, new_lake, monkeypatch):
    """A folder for copies that cannot be made (here: under a file) costs speed, never figures or errors."""
    lake = new_lake()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    monkeypatch.setenv(store.READ_COPY_ENV, str(blocker / "copies"))
    monkeypatch.setattr(store, "READ_COPIES_ASKED", True)
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    assert not store.read_copy_ready(lake, timeout_s=60)
    snap = store.snapshot(lake)
    assert snap.catalog == f"crm_s{snap.version}" and n_customers(snap) == 3


def test_the_file_store_has_no_read_copy(tiny_db):
    assert not store.read_copy_ready(tiny_db, timeout_s=1)
    assert store.catalog_snapshot(tiny_db) is store.snapshot(tiny_db)


def test_a_view_on_a_view_is_copied_too(tmp_path, new_lake, monkeypatch):
    """Views are made again in the copy; one that reads another view (made after it in name order) waits for it."""
    lake = new_lake()
    monkeypatch.setenv(store.READ_COPY_ENV, str(tmp_path / "copies"))
    monkeypatch.setattr(store, "READ_COPIES_ASKED", True)
    ingest.load_files([customers_csv(tmp_path, "A", 3)], db=lake)
    with store.writer(lake) as con:
        con.execute("create view a_customer_ids as select customer_id from stg_customers")
    assert store.read_copy_ready(lake, timeout_s=120)
    snap = store.snapshot(lake)
    assert snap.catalog == f"crm_c{snap.version}"
    assert sorted(snap.query("select customer_id from a_customer_ids")["customer_id"]) == ["A0", "A1", "A2"]
