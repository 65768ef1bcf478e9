"""The Chinese platform layouts against header lines of real exports (tests/fixtures/real_headers,
README there: where each header line comes from). The rows under the headers are made up; the
figures expected are worked out from them with the csv module, as a person would count them."""

from __future__ import annotations

import collections
import csv
import pathlib

import pytest

from crmlens import ingest
from crmlens.ingest import layouts
from tests.conftest import fetch, rejects_of

REAL = pathlib.Path(__file__).resolve().parent / "fixtures" / "real_headers"
REVENUE = "select round(sum(amt_revenue), 2), count(*), count(distinct customer_id) from stg_orders"


def read(name: str, encoding: str = "utf-8-sig") -> list[dict]:
    with open(REAL / name, newline="", encoding=encoding) as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("name, encoding, layout_id", [
    ("taobao_order_report_gbk.csv", "gb18030", "taobao_order_report"),
    ("jd_order_export.csv", "utf-8-sig", "jd_orders"),
    ("douyin_order_export.csv", "utf-8-sig", "douyin_orders"),
    ("youzan_order_export.csv", "utf-8-sig", "youzan_orders"),
])
def test_every_column_a_layout_names_is_in_the_real_header(name, encoding, layout_id):
    with open(REAL / name, newline="", encoding=encoding) as fh:
        headers = next(csv.reader(fh))
    layout = layouts.recognise(headers)
    assert layout is not None and layout.id == layout_id
    named = {c for c, spec in layout.columns.items() if spec is not None}
    missing = {"youzan_orders": {"quantity"}}.get(layout_id, set())  # the order export counts kinds (商品种类数), not units
    assert set(layouts.mapping_for(layout, headers)) == named - missing  # each named column found in the real header


def test_taobao_report_in_gbk_with_trailing_spaces_in_headers(db):
    rows = read("taobao_order_report_gbk.csv", "gb18030")
    [r] = ingest.load_files([REAL / "taobao_order_report_gbk.csv"], db=db)
    assert (r.encoding, r.layout, r.n_read, r.n_loaded, r.n_rejected) == ("gb18030", "taobao_order_report", 3, 3, 0)
    assert "宝贝标题 " in rows[0] and r.mapping["product"] == "宝贝标题"  # the export's trailing space, read away
    paid = [r for r in rows if r["订单状态"] != "交易关闭"]
    assert fetch(db, REVENUE) == [(round(sum(float(r["买家实际支付金额"]) for r in paid), 2), len(rows),
                                   len({r["买家会员名"] for r in rows}))]


def test_jd_amount_is_the_orders_not_summed_over_its_sku_rows(db):
    rows = read("jd_order_export.csv")
    [r] = ingest.load_files([REAL / "jd_order_export.csv"], db=db)
    orders = collections.OrderedDict((row["订单号"], row) for row in rows)  # the order's amount: on each of its rows
    assert (r.layout, r.n_lines, r.n_loaded, r.n_rejected) == ("jd_orders", len(rows), len(orders), 0)
    revenue = sum(float(o["应付金额"]) for o in orders.values() if o["订单状态"] != "已取消")
    assert revenue == 580.0  # 500 (two SKU rows, 500 on each) + 80; 120 cancelled
    assert fetch(db, REVENUE) == [(revenue, len(orders), len({o["下单帐号"] for o in orders.values()}))]
    assert fetch(db, "select quantity from orders where order_id = '81000001'") == [(3,)]  # 1 + 2 units


def test_douyin_ids_lose_the_tab_excel_needs_and_sub_orders_fold(db):
    rows = read("douyin_order_export.csv")
    [r] = ingest.load_files([REAL / "douyin_order_export.csv"], db=db)
    assert (r.layout, r.n_lines, r.n_rejected) == ("douyin_orders", len(rows), 0)
    orders = {row["主订单编号"].strip() for row in rows}
    assert fetch(db, "select order_id from orders order by 1") == [(o,) for o in sorted(orders)]
    revenue = round(sum(float(row["订单应付金额"]) for row in rows if row["订单状态"] != "已关闭"), 2)
    assert fetch(db, REVENUE) == [(revenue, len(orders), len({row["收件人手机号"] for row in rows}))]
    assert fetch(db, "select product from orders where order_id = '6917000000000000003'") == [("桂花乌龙",)]


def test_the_public_tmall_extract_is_not_taken_for_the_full_report():
    """tmall_order_report.csv was published without the buyer and the status: not the 订单报表 layout,
    but its headers are spelled as the layout's (the trailing spaces of the export kept)."""
    with open(REAL / "tmall_order_report_public.csv", newline="", encoding="utf-8") as fh:
        headers = next(csv.reader(fh))
    assert "收货地址 " in headers and layouts.recognise(headers) is None
    taobao = layouts.by_id("taobao_order_report")
    assert layouts.mapping_for(taobao, headers) == {"order_id": "订单编号", "order_date": "订单创建时间",
                                                    "amount": "买家实际支付金额"}


def test_youzan_order_export_as_sellers_read_it(db):
    """No 订单创建时间 in this export: an order closed unpaid has no date (买家付款时间 empty) and is rejected,
    named by its row; the others load with their paid time as the order date."""
    rows = read("youzan_order_export.csv")
    [r] = ingest.load_files([REAL / "youzan_order_export.csv"], db=db, max_reject_share=0.5)
    undated = [i + 2 for i, row in enumerate(rows) if not row["买家付款时间"]]
    assert (r.layout, r.n_read, r.n_loaded) == ("youzan_orders", len(rows), len(rows) - len(undated))
    assert [(row, column, reason) for row, column, _, reason in rejects_of(r)] == [
        (n, "order_date", "missing_value") for n in undated]
    assert r.mapping["customer_id"] == "买家手机号" and r.mapping["product"] == "全部商品名称"
    dated = [row for row in rows if row["买家付款时间"]]
    assert fetch(db, REVENUE) == [(round(sum(float(row["订单实付金额"]) for row in dated), 2), len(dated),
                                   len({row["买家手机号"] for row in dated}))]
