"""mart_customer_months and mart_order_dates (model 15; revenue net of refunds since model 23) on a fixture written
here; every number worked out by hand.

Orders (customer, day, amount, status):
  M1  K 2022-01-10  10            M2  K 2022-01-20  20            M3  K 2022-01-20   5
  M4  K 2022-03-05  40            M5  K 2022-03-06  50 cancelled
  M6  K 2023-08-01  60            M7  K 2023-08-02 -15 (a refund: revenue, never an order)
  M8  K 2025-08-31  25
  M9  - 2023-08-01  70 (a guest order: no customer id)
  M10 L 2023-08-01  80
  M11 N 2022-01-15   5            M12 N 2023-03-15  20            M13 N 2023-05-15  10
Months of K: 2022-01, 2022-03, 2023-08, 2025-08; of L: 2023-08; of N: 2022-01, 2023-03, 2023-05.
"""

import datetime as dt

import pandas as pd
import pytest

from crmlens import churn, ingest, queries, store

ORDERS = """order_id,customer_id,order_date,amount,status
M1,K,2022-01-10,10,completed
M2,K,2022-01-20,20,completed
M3,K,2022-01-20,5,completed
M4,K,2022-03-05,40,completed
M5,K,2022-03-06,50,cancelled
M6,K,2023-08-01,60,completed
M7,K,2023-08-02,-15,
M8,K,2025-08-31,25,completed
M9,,2023-08-01,70,completed
M10,L,2023-08-01,80,completed
M11,N,2022-01-15,5,completed
M12,N,2023-03-15,20,completed
M13,N,2023-05-15,10,completed
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("months")
    (folder / "orders.csv").write_text(ORDERS, encoding="utf-8")
    path = folder / "crm.duckdb"
    ingest.load_files([folder / "orders.csv"], db=path)
    return path


def rows(db, sql) -> list[tuple]:
    frame = store.snapshot(db).query(sql)
    return [tuple(None if pd.isna(v) else (str(v.date()) if isinstance(v, pd.Timestamp) else v) for v in r)
            for r in frame.itertuples(index=False)]


def test_customer_months_roll_up_the_order_days(db):
    # K in 2022-01: M1, M2, M3 = 3 orders on 2 days, 35. M5 is cancelled, M9 has no customer. M7 is a refund: it lowers
    # K's revenue of 2023-08 (60 - 15 = 45) and is no order (1 order, on 1 day).
    assert rows(db, "select customer_id, month, n_orders, n_order_days, amt_revenue from mart_customer_months "
                    "order by customer_id, month") == [
        ("K", "2022-01-01", 3, 2, 35.0), ("K", "2022-03-01", 1, 1, 40.0), ("K", "2023-08-01", 1, 1, 45.0),
        ("K", "2025-08-01", 1, 1, 25.0), ("L", "2023-08-01", 1, 1, 80.0),
        ("N", "2022-01-01", 1, 1, 5.0), ("N", "2023-03-01", 1, 1, 20.0), ("N", "2023-05-01", 1, 1, 10.0)]


def test_retained_bits_mark_the_periods_whose_nrr_keeps_the_month(db):
    """Bit j of month m: the customer also bought in months m + j - 23 .. m + j - 12 (the 12 months before the
    12 months ending in m + j). An earlier month d months back sets bits max(0, 12 - d) .. min(11, 23 - d)."""
    bits = {(c, m): b for c, m, b in rows(db, "select customer_id, month, retained_bits from mart_customer_months")}
    assert bits[("K", "2022-01-01")] == 0  # nothing before
    # 2022-03: 2022-01 is d = 2 back: bits 10 and 11 (the periods ending 2023-01 and 2023-02, whose year before
    # is 2021-02..2022-01 and 2021-03..2022-02).
    assert bits[("K", "2022-03-01")] == 2 ** 10 + 2 ** 11
    # 2023-08: 2022-03 is d = 17 back: bits 0..6; 2022-01 is d = 19 back: bits 0..4. Periods ending 2023-08 to
    # 2024-02 (year before up to 2022-03..2023-02); the one ending 2024-03 looks at 2022-04..2023-03: no order.
    assert bits[("K", "2023-08-01")] == 2 ** 7 - 1
    assert bits[("K", "2025-08-01")] == 0  # 2023-08 is 24 months back: too far for any of its 12 periods
    assert bits[("L", "2023-08-01")] == 0
    # N 2023-03: 2022-01 is d = 14 back: bits 0..9 (the periods ending 2023-03 .. 2023-12).
    assert bits[("N", "2023-03-01")] == 2 ** 10 - 1
    # N 2023-05: 2023-03 (d = 2) sets bits 10, 11; 2022-01 (d = 16) bits 0..7. Bits 8 and 9 stay clear: the periods
    # ending 2024-01 and 2024-02 look back at 2022-02..2023-01 and 2022-03..2023-02, both inside N's 14-month pause.
    assert bits[("N", "2023-05-01")] == 4095 - 2 ** 8 - 2 ** 9


def test_order_dates_hold_every_line_guests_refunds_and_cancelled_too(db):
    assert rows(db, "select order_date, n_lines, n_orders, n_orders_no_customer, amt_revenue, amt_revenue_no_customer "
                    "from mart_order_dates order by order_date") == [
        ("2022-01-10", 1, 1, 0, 10.0, 0.0), ("2022-01-15", 1, 1, 0, 5.0, 0.0), ("2022-01-20", 2, 2, 0, 25.0, 0.0),
        ("2022-03-05", 1, 1, 0, 40.0, 0.0),
        ("2022-03-06", 1, 0, 0, 0.0, 0.0),            # M5 cancelled: a line, no order, no revenue
        ("2023-03-15", 1, 1, 0, 20.0, 0.0), ("2023-05-15", 1, 1, 0, 10.0, 0.0),
        ("2023-08-01", 3, 3, 1, 210.0, 70.0),         # M6 60 + M9 70 (guest) + M10 80
        ("2023-08-02", 1, 0, 0, -15.0, 0.0),          # M7, the refund
        ("2025-08-31", 1, 1, 0, 25.0, 0.0)]
    # data_span counts every line from it: the 13 lines, from M1's day to M8's
    span = queries.run("data_span", snap=store.snapshot(db)).set_index("table_name").loc["orders"]
    assert (span["n_rows"], str(span["first_date"].date()), str(span["last_date"].date())) == (13, "2022-01-10", "2025-08-31")


def test_net_revenue_retention_from_the_retained_bits(db):
    params = churn.query_params(dt.date(2024, 1, 1), dt.date(2024, 3, 31), "orders", 30, 0.0, grain="month")
    df = queries.run("churn_bucket", params, snap=store.snapshot(db))
    # Jan 2024: the year before the 12 months to 2024-01 is 2022-02..2023-01: K's 40 (2022-03). In 2023-02..2024-01
    # K spent 60 (2023-08) less the refund M7 (15): 45; L's 80 is not kept (L bought nothing the year before): 45 / 40.
    # N bought nothing in either base year (its pause from 2022-02 to 2023-02), so its 2023 orders are not kept.
    # Feb 2024: 2022-03..2023-02 holds K's 40 again, and 2023-03..2024-02 K's 45: 1.125.
    # Mar 2024: 2022-04..2023-03 holds only N's 20 (2023-03); in 2023-04..2024-03 N spent 10 (2023-05), and K's 60
    # is not kept (K bought nothing in 2022-04..2023-03): 10 / 20.
    assert df["rate_nrr"].tolist() == pytest.approx([1.125, 1.125, 0.5])


def test_active_customers_in_a_period_that_cuts_months(db):
    def kpis(start, end):
        return queries.run("overview_kpis", {"start": start, "end": end}, snap=store.snapshot(db)).set_index("period")
    # 2023-08-01..2025-08-30: K and L on 2023-08-01 (the whole month of August 2023 is in); K's 2025-08-31 is not.
    # Orders M6, M9, M10; revenue 60 + 70 + 80 - 15 (M7); the guest's 70 and order are shown apart.
    cur = kpis(dt.date(2023, 8, 1), dt.date(2025, 8, 30)).loc["current"]
    assert (cur["n_active_customers"], cur["n_orders"], cur["amt_revenue"]) == (2, 3, 195)
    assert (cur["n_orders_no_customer"], cur["amt_revenue_no_customer"]) == (1, 70)
    # 2023-08-02..2025-08-31: only K's M8 (both months cut: their days decide); revenue -15 + 25.
    cur = kpis(dt.date(2023, 8, 2), dt.date(2025, 8, 31)).loc["current"]
    assert (cur["n_active_customers"], cur["n_orders"], cur["amt_revenue"]) == (1, 1, 10)


def test_a_guest_order_makes_no_cohort(db):
    params = churn.query_params(dt.date(2023, 8, 1), dt.date(2023, 8, 31), "orders", 30, 0.0, mode="in")
    df = queries.run("churn_cohorts", params, snap=store.snapshot(db))
    # First months from 2023-08 on: only L (K began in 2022-01; M9 has no customer and is nobody's first order).
    assert df[["n_cohort", "amt_cohort", "n_active"]].values.tolist() == [[1, 80, 1]]
