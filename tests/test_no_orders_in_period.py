"""A period without a single order (the helper's walk with the online-retail orders, which end in February 2011, and
ServiceNow tickets of 2022: the default period follows the newest table). The Churn page said "0 of the 1,039
customers active on 2022-01-07 lost by 2011-02-23 = 0.0%" and the Loyalty page "Lost customers 0": both judge lost
as of the newest order day, years before the period. Now both say that the period has no orders and what to choose;
a period with the orders shows the figures as before."""

from __future__ import annotations

import datetime as dt

import pytest

from crmlens import ingest, period, queries, store
from tests.conftest import app_test

ORDERS = """order_id,customer_id,order_date,amount
O1,C1,2010-12-01,100
O2,C1,2011-01-10,50
O3,C2,2010-12-05,80
O4,C3,2011-02-23,20
"""
COMPLAINTS = """complaint_id,customer_id,created_at,category
K1,C1,2022-05-01 10:00,delivery
K2,C2,2023-01-06 09:00,price
"""


@pytest.fixture
def newer_tickets(tmp_path, monkeypatch):
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (tmp_path / "complaints.csv").write_text(COMPLAINTS, encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    ingest.load_files([tmp_path / "orders.csv", tmp_path / "complaints.csv"], db=db)
    monkeypatch.setenv("CRMLENS_DB", str(db))
    return db


def _as_of(db, end: dt.date):
    return queries.run("orders_as_of", {"end": end}, snap=store.snapshot(db))["as_of_date"].iloc[0]


def test_the_orders_end_before_the_period_only_when_no_order_is_in_it(newer_tickets):
    assert period.default_period(store.snapshot(newer_tickets)) == (dt.date(2022, 1, 7), dt.date(2023, 1, 6))
    as_of = _as_of(newer_tickets, dt.date(2023, 1, 6))
    assert period.orders_end_before(as_of, dt.date(2022, 1, 7)) == dt.date(2011, 2, 23)
    assert period.orders_end_before(as_of, dt.date(2011, 2, 23)) is None  # the last order's day is in the period
    assert period.orders_end_before(_as_of(newer_tickets, dt.date(2011, 1, 31)), dt.date(2011, 1, 1)) is None
    assert period.orders_end_before(None, dt.date(2022, 1, 7)) is None  # no orders loaded


@pytest.fixture
def cancelled_in_period(tmp_path, monkeypatch):
    """The same orders, and one more in the tickets' period that was cancelled: it is an order line, not an order
    that counts, so the churn rule still judges as of 2011-02-23 and the notice must say so."""
    (tmp_path / "orders.csv").write_text(ORDERS.replace("order_id,customer_id,order_date,amount",
                                                        "order_id,customer_id,order_date,amount,status")
                                         .replace(",100\n", ",100,paid\n") + "O5,C2,2022-06-01,70,cancelled\n",
                                         encoding="utf-8")
    (tmp_path / "complaints.csv").write_text(COMPLAINTS, encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    ingest.load_files([tmp_path / "orders.csv", tmp_path / "complaints.csv"], db=db)
    monkeypatch.setenv("CRMLENS_DB", str(db))
    return db


@pytest.mark.parametrize("page", ["churn", "loyalty"])
def test_a_period_whose_only_order_was_cancelled_says_so(cancelled_in_period, page):
    span = store.snapshot(cancelled_in_period).query("select * from mart_data_span where table_name = 'orders'")
    assert span["last_date"].iloc[0].date() == dt.date(2022, 6, 1)  # the cancelled line is loaded
    at = app_test(page, lang="English")
    assert not at.exception
    assert [w.value for w in at.warning if "the newest order is on 2011-02-23" in w.value
            and "orders without a customer, cancelled and refunded orders do not count" in w.value] != []
    assert len(at.metric) == 0


@pytest.mark.parametrize("page, lang, words", [
    ("churn", "English", "No orders in this period (2022-01-07 to 2023-01-06): the newest order is on 2011-02-23"),
    ("churn", "中文", "此期间（2022年1月7日 至 2023年1月6日）没有订单：最新一笔订单在 2011年2月23日"),
    ("loyalty", "English", "No orders in this period (2022-01-07 to 2023-01-06): the newest order is on 2011-02-23"),
    ("loyalty", "中文", "此期间（2022年1月7日 至 2023年1月6日）没有订单：最新一笔订单在 2011年2月23日")])
def test_a_period_without_orders_says_so_instead_of_figures(newer_tickets, page, lang, words):
    at = app_test(page, lang=lang)
    assert not at.exception
    assert [w.value for w in at.warning if words in w.value] != []
    assert len(at.metric) == 0 and len(at.tabs) == 0  # no "0.0%" and no "Lost customers 0"


@pytest.mark.parametrize("page", ["churn", "loyalty"])
def test_a_period_with_the_orders_shows_the_figures(newer_tickets, page):
    at = app_test(page, lang="English", period=["2010-12-01", "2011-02-28"])
    assert not at.exception
    assert not [w.value for w in at.warning if "No orders in this period" in w.value]
    assert len(at.metric) > 0


@pytest.mark.parametrize("lang, words", [
    ("English", "No complaints from 2010-12-01 to 2011-02-28: the loaded complaints run from 2022-05-01 to 2023-01-06."),
    ("中文", "2010年12月1日 至 2011年2月28日 没有投诉：已载入的投诉日期从 2022年5月1日 到 2023年1月6日。"),
])
def test_complaints_outside_the_period_are_pointed_to(newer_tickets, lang, words):
    """The orders' months (2010-12 to 2011-02) hold no complaint: the page said only "No complaints match this period
    and these filters", as if nothing had been loaded. It says where the loaded complaints are."""
    at = app_test("complaints", lang=lang, period=["2010-12-01", "2011-02-28"])
    assert not at.exception
    assert [i.value for i in at.info] == [words + (" Choose a period that covers them in the sidebar." if lang == "English"
                                                   else "请在侧栏选择覆盖这段时间的期间。")]


def test_a_period_between_the_complaints_is_not_sent_elsewhere(newer_tickets):
    """2022-06-01 to 2022-12-31 lies between the two complaints (05-01, next 01-06): the loaded span covers it, there
    is no other period to point to, and the page says so as before."""
    at = app_test("complaints", lang="English", period=["2022-06-01", "2022-12-31"])
    assert not at.exception
    assert [i.value for i in at.info] == ["No complaints match this period and these filters."]
