"""Appending orders updates the marts for the customers and days of the new rows only (crmlens.model: APPENDABLE,
UPDATED_BY_KEY, GLOBAL_INPUTS): after every append, each mart must equal a full rebuild of the same data, row for
row and column for column, on the file store and on DuckLake.

Each data set (three hand-worked fixtures and a small demo) gets three appends:
  A. inside the data's date range: an existing customer's order, a new customer's (not on the list), a guest order
     (no customer), a refund, a cancelled line, and an order of a listed customer with a referrer dated before
     their signup (they are known earlier: their referrer's referral counts in mart_loyalty_months move);
     the per-customer and per-day marts must be updated by key, not rebuilt;
  B. an order after the newest order day: the spells' as-of, the period's as-of and the loyalty month ends move,
     so the marts that read them are rebuilt whole;
  C. an order before the oldest order line: the loyalty month ends start earlier (rebuilt whole), the rest by key.
"""

from __future__ import annotations

import datetime as dt
import math
import pathlib

import pytest

from crmlens import demo, ingest, model, store
from tests.kept_views import assert_kept_frames_are_the_kept_rows

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
MODEL_TABLES = (*model.STAGING_TABLES, *model.MARTS)
PER_KEY_ALWAYS = ("mart_customers", "mart_customer_days", "mart_customer_months", "mart_order_dates", "mart_order_days")


def table_rows(con, name: str) -> list[tuple]:
    return con.execute(f"select * from {name} order by all").fetchall()  # a name from model.MARTS


def incremental_and_full(db) -> tuple[dict, dict]:
    """Every model table as the appends left it, and as a full rebuild of the same data makes it."""
    with store.writer(db, new_version=False) as con:
        now = {name: table_rows(con, name) for name in MODEL_TABLES}
        model.build(con)
        full = {name: table_rows(con, name) for name in MODEL_TABLES}
    return now, full


def append(db, folder: pathlib.Path, name: str, rows: list[tuple], builds: list[dict]) -> dict:
    """Append order rows (order_id, customer_id, order_date, amount, status) as a CSV; how the build made each mart."""
    path = folder / f"{name}.csv"
    path.write_text("order_id,customer_id,order_date,amount,status\n"
                    + "".join(f"{o},{c or ''},{d},{a},{s or ''}\n" for o, c, d, a, s in rows), encoding="utf-8")
    n_before = len(builds)
    ingest.load_files([path], db=db, mode="append", table="orders")
    assert len(builds) == n_before + 1
    return builds[-1]


def facts(db) -> dict:
    snap = store.snapshot(db)
    q = lambda sql: snap.query(sql).iloc[0, 0]  # noqa: E731
    with_orders = snap.query("select customer_id from mart_customers where n_orders > 1 order by customer_id limit 2")
    listed_empty = snap.query("select customer_id from mart_customers where is_listed and n_orders = 0 "
                              "order by customer_id limit 1")
    referred = snap.query("select customer_id from stg_customers where referred_by is not null "
                          "order by signup_date desc nulls last, customer_id limit 1")
    return {"first": q("select min(order_date) from mart_order_dates").date(),
            "last_order": q("select max(order_date) from mart_customer_days").date(),
            "buyers": list(with_orders["customer_id"]),
            "listed_empty": list(listed_empty["customer_id"]),
            "referred": list(referred["customer_id"])}


def same_value(a, b) -> bool:
    """Equal; a double may differ in its last bits (a sum's order: two full rebuilds of the same data differ so too,
    DuckDB adds up in parallel), never by more."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


def assert_same(db) -> None:
    assert_kept_frames_are_the_kept_rows(store.snapshot(db))  # (made again from the kept tables the append updated)
    now, full = incremental_and_full(db)
    for name in MODEL_TABLES:
        assert len(now[name]) == len(full[name]), f"{name}: {len(now[name])} rows, a full rebuild makes {len(full[name])}"
        for mine, theirs in zip(now[name], full[name]):
            assert same_value(mine, theirs), f"{name} differs from a full rebuild: {mine} != {theirs}"


@pytest.fixture
def builds(monkeypatch) -> list[dict]:
    """What every model.build of a load returned (how it made each model table)."""
    made: list[dict] = []
    real = model.build

    def spy(con, changed=None, appended=frozenset()):
        made.append(real(con, changed, appended))
        return made[-1]

    monkeypatch.setattr(model, "build", spy)
    return made


def load_data(db, source: str) -> None:
    if source == "demo":
        ingest.load_tables(demo.generate(n_customers=300), db=db)
    else:
        ingest.load_files(sorted((FIXTURES / source).glob("*.csv")), db=db)


# Every data set on the file; on DuckLake (slower to write: a catalog in PostgreSQL) the two that exercise the most:
# the ladder (referrals, surveys, complaints) and the demo (every table, hundreds of customers).
CASES = [("file", s) for s in ("tiny", "loyalty/ladder", "churn", "demo")] + [("ducklake", "loyalty/ladder"),
                                                                               ("ducklake", "demo")]


@pytest.mark.parametrize(("kind", "source"), CASES)
def test_appended_orders_leave_every_mart_as_a_full_rebuild_makes_it(kind, source, new_lake, tmp_path, builds):
    empty_store = tmp_path / "crm.duckdb" if kind == "file" else new_lake()
    load_data(empty_store, source)
    f = facts(empty_store)
    inside = f["first"] + (f["last_order"] - f["first"]) / 2
    buyer, other = f["buyers"][0], f["buyers"][-1]
    rows = [("XA1", buyer, inside, 50, "completed"),
            ("XA2", "NEW-1", inside, 80, "completed"),
            ("XA3", None, inside, 20, "completed"),
            ("XA4", buyer, inside + dt.timedelta(days=1), -30, "completed"),
            ("XA5", other, inside, 40, "cancelled")]
    rows += [("XA6", c, inside, 60, None) for c in f["listed_empty"]]
    rows += [("XA7", c, f["first"] + dt.timedelta(days=1), 70, "completed") for c in f["referred"]]
    made = append(empty_store, tmp_path, "a", rows, builds)
    assert {name: made[name] for name in PER_KEY_ALWAYS} == dict.fromkeys(PER_KEY_ALWAYS, "keys")
    assert made["mart_opportunities"] == "kept"
    assert_same(empty_store)

    made = append(empty_store, tmp_path, "b", [("XB1", buyer, f["last_order"] + dt.timedelta(days=10), 90, None)],
                  builds)
    assert {name: made[name] for name in model.GLOBAL_INPUTS} == dict.fromkeys(model.GLOBAL_INPUTS, "whole")
    assert made["mart_customer_days"] == "keys"
    assert_same(empty_store)

    made = append(empty_store, tmp_path, "c", [("XC1", "NEW-2", f["first"] - dt.timedelta(days=40), 10, None)], builds)
    assert made["mart_loyalty_months"] == "whole" and made["mart_customer_spells"] in ("keys", "whole")
    assert made["mart_customer_months"] == "keys"
    assert_same(empty_store)


def test_an_append_inside_the_range_updates_the_global_marts_by_key_too(empty_store, tmp_path, builds):
    """On the demo data an order of an existing customer inside the range moves no global input (the usual gap of
    thousands of gaps stays): every mart that reads orders is updated by key."""
    load_data(empty_store, "demo")
    f = facts(empty_store)
    day = f["last_order"] - dt.timedelta(days=3)
    made = append(empty_store, tmp_path, "a", [("XA1", f["buyers"][0], day, 55, "completed")], builds)
    assert {name: made[name] for name in model.UPDATED_BY_KEY} == dict.fromkeys(model.UPDATED_BY_KEY, "keys")
    assert_same(empty_store)


def test_replacing_or_updating_orders_rebuilds_whole(tiny_store, tmp_path, builds):
    path = tmp_path / "more.csv"
    path.write_text("order_id,customer_id,order_date,amount,status\nO1,C1,2024-03-05,999,completed\n", encoding="utf-8")
    ingest.load_files([path], db=tiny_store, mode="update", table="orders")
    assert set(builds[-1][name] for name in model.UPDATED_BY_KEY) == {"whole"}
    assert_same(tiny_store)


def test_every_mart_updated_by_key_restricts_its_rows_to_the_scope():
    """A mart updated by key whose SQL lost its scope macro would insert every row again after deleting the scope's
    (duplicates)."""
    scope = {"customer_id": "in_build_scope(", "order_date": "in_build_days(", "table_name": "in_build_tables("}
    for name, key in model.UPDATED_BY_KEY.items():
        text = model.sql(name)
        assert scope[key] in text, name
        assert model._as_insert(name, text).count(f"insert into {name}") == 1
        assert name in model.MARTS
    assert set(model.GLOBAL_INPUTS) <= set(model.UPDATED_BY_KEY)
    assert {g for inputs in model.GLOBAL_INPUTS.values() for g in inputs} <= set(model.GLOBAL_NAMES)
