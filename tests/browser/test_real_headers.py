"""A JD order export under a real export's header line (tests/fixtures/real_headers) through the Data
page: recognised, its SKU rows folded into orders with the order's amount taken once, and the
Overview's revenue as counted here with the csv module."""

from __future__ import annotations

import csv

from tests.browser.conftest import metric_values, open_page, upload_and_load


def test_jd_export_with_a_real_header_loads_in_one_click(own_app, page):
    from crmlens import fmt
    from tests.test_real_headers import REAL

    export = REAL / "jd_order_export.csv"
    with open(export, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    orders = {r["订单号"]: r for r in rows}  # 应付金额 is the order's, on each of its SKU rows
    revenue = sum(float(o["应付金额"]) for o in orders.values() if o["订单状态"] != "已取消")
    cancelled = sum(1 for o in orders.values() if o["订单状态"] == "已取消")
    loaded = upload_and_load(page, own_app.url, export, expect_text="Recognised as JD.com merchant order export (京东)")
    assert f"{len(rows)} order lines loaded as {len(orders)} orders ({cancelled} cancelled)" in loaded
    open_page(page, f"{own_app.url}/?period=2025-03-01&period=2025-03-31")
    assert metric_values(page)["Revenue"] == fmt.number(revenue, "en")
