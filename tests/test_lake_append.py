"""An order append on DuckLake commits only what it changed (issue 17: the append path). A DuckLake commit writes a new
Parquet file for every table an append inserts into, a delete file for every one it deletes from, and a new table (a
new file, catalog rows, and a new copy on every app server's read copy) for every table it makes again; so an append of
a day's orders must not make again, nor rewrite, a table whose rows it leaves as they were: model_info (the same as-of
days), the vocabulary, the saved mapping of a file layout loaded before, the marts that read no orders; mart_data_span
is updated by key (its orders row). The figures stay those of a full rebuild (tests/test_append_marts.assert_same), on both stores.
"""

from __future__ import annotations

import pytest

from crmlens import model, store
from tests.test_append_marts import append, assert_same, builds, load_data  # noqa: F401 (builds: a fixture)

KEPT_ON_AN_APPEND = ("model_info", "vocabulary", "mappings", "mart_filter_values", "mart_opportunities",
                     "mart_stage_spellings", "stg_opportunities")


def last_changes(lake) -> dict[str, set[str]]:
    """The last DuckLake commit's changes (snapshots().changes), table ids turned into table names."""
    cur = store.snapshot(lake).con.cursor()
    try:
        changes = cur.execute("select changes from crm_w.snapshots() order by snapshot_id desc limit 1").fetchone()[0]
        names = dict(cur.execute("select table_id, table_name from __ducklake_metadata_crm_w.ducklake_table").fetchall())
    finally:
        cur.close()
    out = {}
    for kind, values in dict(changes).items():
        out[kind] = {names.get(int(v), v) if str(v).isdigit() else str(v).split(".", 1)[-1] for v in values or ()}
    return out


def day_orders(db, tag: str) -> list[tuple]:
    """Orders of customers who already ordered on the newest order day, on that day: no new order day, so no global
    input of the marts moves (the newest day, the median gap, the oldest and newest line, the guests' orders)."""
    snap = store.snapshot(db)
    last = snap.query("select max(order_date) as d from mart_customer_days").iloc[0]["d"].date()
    buyers = snap.query("select customer_id from mart_customer_days where order_date = $d order by customer_id limit 2",
                        {"d": last})["customer_id"]
    return [(f"{tag}{i}", c, last, 25 + i, "completed") for i, c in enumerate(buyers)]


@pytest.mark.parametrize("kind", ["file", "ducklake"])
def test_an_order_append_updates_by_key_and_keeps_what_it_does_not_change(kind, new_lake, tmp_path, builds):  # noqa: F811
    db = tmp_path / "crm.duckdb" if kind == "file" else new_lake()
    load_data(db, "churn")
    before = store.snapshot(db).query("select * from model_info")
    append(db, tmp_path, "first", day_orders(db, "XF"), builds)  # its file layout's mapping is saved now
    made = append(db, tmp_path, "second", day_orders(db, "XS"), builds)
    assert {name: made[name] for name in model.UPDATED_BY_KEY} == dict.fromkeys(model.UPDATED_BY_KEY, "keys")
    assert made["mart_data_span"] == "keys"
    after = store.snapshot(db).query("select * from model_info")
    assert after.to_dict("records") == before.to_dict("records")
    if kind == "ducklake":
        changes = last_changes(db)
        whole = {name for name, how in made.items() if how == "whole"}
        made_again = changes.get("tables_created", set())
        assert made_again <= whole, f"made again by an order append: {sorted(made_again - whole)}"
        rewritten = made_again | changes.get("tables_deleted_from", set()) | changes.get("tables_inserted_into", set())
        assert not rewritten & set(KEPT_ON_AN_APPEND), sorted(rewritten & set(KEPT_ON_AN_APPEND))
        # what moved was written by key: the new rows, the marts' rows of their customers, mart_data_span's orders row
        assert {"orders", "loads", "mart_customer_days", "mart_data_span"} <= changes["tables_inserted_into"]
        assert {"mart_customer_days", "mart_data_span"} <= changes["tables_deleted_from"]
    assert_same(db)


def test_existing_tables_reads_the_same_on_both_stores(new_lake, tmp_path):
    """store.existing_tables (the writer's and the model's table check) on DuckLake looks names up one by one instead of
    listing every attached catalog; it answers as the file store's listing does, with an older snapshot attached."""
    names = ("orders", "mart_customers", "model_info", "no_such_table")
    found = {}
    for kind in ("file", "ducklake"):
        db = tmp_path / "crm.duckdb" if kind == "file" else new_lake()
        load_data(db, "tiny")
        store.snapshot(db)  # a reader's snapshot attached beside the writer's catalog
        load_data(db, "tiny")
        store.snapshot(db)
        with store.writer(db, new_version=False) as con:
            found[kind] = store.existing_tables(con, names)
    assert found["file"] == found["ducklake"] == {"orders", "mart_customers", "model_info"}
