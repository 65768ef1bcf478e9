"""The benchmark compares like with like: each page's headline figures for the default view, computed by the
page's own queries (with the parameters the page used, recorded in AppTest), equal the plain SQL over the raw
tables (bench/raw_sql.py) and the pandas version (bench/raw_pandas.py) that `make bench` times against them.

The data: a small demo with the cases where the rules differ from a naive count: every 17th order line a refund
(a negative amount), every 23rd line's status blanked (a blank-status refund among them), every 41st a guest
order (no customer id), one order line "Cancelled " (case and space), and complaints "Completed" without a
resolved time (closed by their status).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from bench import pages, raw_pandas, raw_sql
from crmlens import demo, ingest, period, store


def _every(n_rows: int, n: int, k: int) -> pa.Array:
    row = pa.array(range(n_rows))
    return pc.equal(pc.subtract(row, pc.multiply(pc.divide(row, n), n)), k)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("bench_raw") / "demo.duckdb"
    tables = demo.generate(n_customers=600, seed=7, end_date=dt.date(2026, 8, 19))
    orders = tables["orders"]
    n = orders.num_rows
    col = orders.schema.get_field_index
    orders = orders.set_column(col("amount"), "amount",
                               pc.if_else(_every(n, 17, 3), pc.negate(orders["amount"]), orders["amount"]))
    status = pc.if_else(_every(n, 23, 5), pa.scalar(None, pa.string()), orders["status"])
    status = pc.if_else(_every(n, 997, 11), pa.scalar("Cancelled ", pa.string()), status)
    orders = orders.set_column(col("status"), "status", status)
    orders = orders.set_column(col("customer_id"), "customer_id",
                               pc.if_else(_every(n, 41, 7), pa.scalar(None, pa.string()), orders["customer_id"]))
    tables["orders"] = orders
    k = tables["complaints"]
    unresolved_closed = pc.and_(_every(k.num_rows, 5, 1), pc.is_valid(k["customer_id"]))
    k = k.set_column(k.schema.get_field_index("status"), "status",
                     pc.if_else(unresolved_closed, pa.scalar("Completed", pa.string()), k["status"]))
    k = k.set_column(k.schema.get_field_index("resolved_at"), "resolved_at",
                     pc.if_else(unresolved_closed, pa.scalar(None, k.schema.field("resolved_at").type), k["resolved_at"]))
    tables["complaints"] = k
    ingest.load_tables(tables, db=db)
    return db


@pytest.fixture(scope="module")
def data(demo_db):
    snap = store.snapshot(demo_db)
    start, end = period.default_period(snap)
    return snap, start, end, raw_pandas.frames(snap)


@pytest.mark.parametrize("page", pages.PAGES)
def test_raw_sql_and_pandas_give_the_page_figures(page, demo_db, data, monkeypatch):
    snap, start, end, frames = data
    monkeypatch.setenv("CRMLENS_DB", str(demo_db))
    calls = pages.recorded(page, str(demo_db))
    shown = raw_sql.page_numbers(snap, page, calls)
    assert set(shown) == set(raw_sql.FIGURES[page])
    # the comparison is not of empty pages: most figures are non-zero
    assert sum(1 for v in shown.values() if v) >= len(shown) - 2, shown
    assert raw_sql.differences(shown, raw_sql.raw_numbers(snap, page, start, end)) == {}
    assert raw_sql.differences(shown, raw_pandas.numbers(frames, page, start, end)) == {}


def test_the_comparison_notices_a_different_rule(data):
    """A refund counted as an order would change the figures: the comparison is sharp enough to see it."""
    _, start, end, frames = data
    p = raw_sql.params(start, end)
    honest = raw_pandas.overview(frames, p)
    orders = frames["orders"]
    naive = {**frames, "orders": orders.assign(amount=orders["amount"].abs())}
    assert raw_sql.differences(honest, raw_pandas.overview(naive, p)).keys() >= {"amt_revenue", "n_orders"}
