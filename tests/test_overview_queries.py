"""overview_kpis and overview_trend on tests/fixtures/tiny, numbers worked out by hand.

Period 2024-07-01..2024-12-31 (184 days); previous period 2023-12-30..2024-06-30.
Orders: O1 C1 03-05 100 | O2 C1 07-10 200 | O3 C2 08-15 300 | O4 C2 09-01 50 cancelled
        O5 C5 12-31 400 (no status) | O6 C3 2025-01-02 999 | O7 C1 07-01 100 returned
"""

import datetime as dt

import pytest

from crmlens import ingest, queries, store
from tests.conftest import FIXTURES, load_fixture

START, END = dt.date(2024, 7, 1), dt.date(2024, 12, 31)


@pytest.fixture(scope="module", params=["file", "ducklake"])
def kpis(request, tmp_path_factory):
    """On a DuckDB file and on a DuckLake catalog (as conftest's tiny_store), read once per kind of store by
    the tests below, which only read it."""
    with pytest.MonkeyPatch.context() as mp:
        if request.param == "file":
            where = load_fixture(tmp_path_factory.mktemp("tiny") / "tiny.duckdb", "tiny")
        else:
            where, data_path = request.getfixturevalue("postgres").lake(tmp_path_factory.mktemp("lake") / "files")
            mp.setenv(store.DATA_PATH_ENV, data_path)
            ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=where)
        df = queries.run("overview_kpis", {"start": START, "end": END}, snap=store.snapshot(where))
    return df.set_index("period")


def test_previous_period_has_equal_length(kpis):
    assert kpis.loc["previous", "period_start"].date() == dt.date(2023, 12, 30)
    assert kpis.loc["previous", "period_end"].date() == dt.date(2024, 6, 30)


def test_revenue_excludes_cancelled_and_returned(kpis):
    # O2 200 + O3 300 + O5 400 (blank status counts); O4 cancelled, O7 returned, O6 after the period.
    assert kpis.loc["current", "amt_revenue"] == 900
    assert kpis.loc["current", "n_orders"] == 3
    assert kpis.loc["current", "amt_avg_order"] == 300
    assert kpis.loc["previous", "amt_revenue"] == 100  # O1
    assert kpis.loc["previous", "n_orders"] == 1


def test_active_and_new_customers(kpis):
    # Active: C1 (O2), C2 (O3), C5 (O5). New: first completed order in period: C2, C5 (C1 bought in March).
    assert kpis.loc["current", "n_active_customers"] == 3
    assert kpis.loc["current", "n_new_customers"] == 2
    assert kpis.loc["previous", "n_new_customers"] == 1  # C1 on 2024-03-05


def test_customers_known_by_period_end(kpis):
    # By 2024-12-31: C1, C2 (signed up), C3 (no signup date: always known), C5 (order only). C4 signs up in 2025.
    assert kpis.loc["current", "n_customers"] == 4
    # By 2024-06-30: C1 and C3.
    assert kpis.loc["previous", "n_customers"] == 2


def test_open_opportunities_at_period_end(kpis):
    # At 2024-12-31: P2 (created 10-01, open) and P4 (no dates, open stage). P1 closed 08-01, P3 lost.
    assert kpis.loc["current", "n_open_opportunities"] == 2
    # At 2024-06-30: P1 (closes later) and P4. P2 not created yet; P3 lost without date: never open.
    assert kpis.loc["previous", "n_open_opportunities"] == 2


def test_complaints_by_created_date(kpis):
    # K2 07-01 00:10 and K3 12-31 18:00 in the period; K1 06-30 23:30 in the previous one.
    assert kpis.loc["current", "n_complaints"] == 2
    assert kpis.loc["previous", "n_complaints"] == 1


def test_trend_by_month_fills_gaps(tiny_db):
    df = queries.run("overview_trend", {"start": START, "end": END, "grain": "month"}, snap=store.snapshot(tiny_db))
    assert [d.month for d in df["bucket_start"]] == [7, 8, 9, 10, 11, 12]
    assert list(df["amt_revenue"]) == [200, 300, 0, 0, 0, 400]
    assert list(df["n_orders"]) == [1, 1, 0, 0, 0, 1]
    assert list(df["n_new_customers"]) == [0, 1, 0, 0, 0, 1]


def test_trend_by_day_covers_every_day(tiny_db):
    df = queries.run("overview_trend", {"start": dt.date(2024, 12, 30), "end": END, "grain": "day"},
                     snap=store.snapshot(tiny_db))
    assert list(df["amt_revenue"]) == [0, 400]  # 12-30, 12-31


def test_data_span_counts_rows_per_table(tiny_db):
    df = queries.run("data_span", snap=store.snapshot(tiny_db)).set_index("table_name")
    assert df.loc["orders", "n_rows"] == 7
    assert df.loc["orders", "last_date"].date() == dt.date(2025, 1, 2)
    assert df.loc["complaints", "n_rows"] == 4
    assert df.loc["surveys", "n_rows"] == 0


def test_data_loads_lists_each_file(tiny_db):
    df = queries.run("data_loads", {"limit": 10}, snap=store.snapshot(tiny_db))
    assert sorted(df["file_name"]) == ["complaints.csv", "customers.csv", "opportunities.csv", "orders.csv"]
    assert set(df["version"]) == {1}
    assert df.set_index("file_name").loc["orders.csv", "n_rows"] == 7


def test_filter_options_lists_values_by_frequency(tiny_db):
    df = queries.run("filter_options", snap=store.snapshot(tiny_db))
    segments = df[df["dimension"] == "segment"]
    # consumer: C1, C3; business: C2; distributor: C4 (ties by name).
    assert list(segments["value"]) == ["consumer", "business", "distributor"]
    assert list(segments["n_rows"]) == [2, 1, 1]
    assert list(df.loc[df["dimension"] == "category", "value"]) == ["delivery", "price", "product quality"]


def trend(tiny_db, start, end, grain="month"):
    df = queries.run("overview_trend", {"start": start, "end": end, "grain": grain}, snap=store.snapshot(tiny_db))
    return [(d.strftime("%m-%d"), bool(c)) for d, c in zip(df["bucket_start"], df["is_complete"])]


def test_trend_marks_buckets_the_period_or_the_data_cut(tiny_db):
    """Orders in the data run from 2024-03-05 (O1) to 2025-01-02 (O6).
    2024-07-01..12-31: six whole months. 2024-07-15..11-20: July and November cut by the period's dates.
    2024-02-01..04-30: February has no data at all, March only from 03-05: both partial; April whole.
    2024-12-01..2025-01-31: January holds data up to 01-02 only."""
    assert all(c for _, c in trend(tiny_db, START, END))
    assert trend(tiny_db, dt.date(2024, 7, 15), dt.date(2024, 11, 20)) == [
        ("07-01", False), ("08-01", True), ("09-01", True), ("10-01", True), ("11-01", False)]
    assert trend(tiny_db, dt.date(2024, 2, 1), dt.date(2024, 4, 30)) == [
        ("02-01", False), ("03-01", False), ("04-01", True)]
    assert trend(tiny_db, dt.date(2024, 12, 1), dt.date(2025, 1, 31)) == [("12-01", True), ("01-01", False)]
    # weeks (Mondays): 2024-12-23 whole, 2024-12-30 .. 2025-01-05 cut at 01-02 by the data
    assert trend(tiny_db, dt.date(2024, 12, 23), dt.date(2025, 1, 5), "week") == [("12-23", True), ("12-30", False)]
    df = queries.run("overview_trend", {"start": dt.date(2024, 12, 1), "end": dt.date(2025, 1, 31), "grain": "month"},
                     snap=store.snapshot(tiny_db))
    assert [d.date() for d in df["last_day"]] == [dt.date(2024, 12, 31), dt.date(2025, 1, 2)]
