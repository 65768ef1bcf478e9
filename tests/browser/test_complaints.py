"""The complaints page in a real browser: an uploaded ticket file, the SLA setting, the category filter."""

from __future__ import annotations

import datetime as dt

import duckdb
from playwright.sync_api import expect

from tests.browser.conftest import exceptions, metric_values, open_page, page_caption, set_number, upload_and_load, wait_for_app

PERIOD = "period=2025-11-01&period=2026-10-31"
START, END = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
SLA = {"low": 72.0, "medium": 48.0, "high": 24.0}

# The hand-made fixture of test_complaints_queries without its bad row (numbers worked out there).
UPLOAD = """complaint_id,customer_id,created_at,category,channel,severity,status,first_response_at,resolved_at,satisfaction
K1,C1,2024-01-10 09:00,质量,phone,high,closed,2024-01-10 10:00,2024-01-11 09:00,2
K2,C1,2024-02-05 10:00:00+08:00,Product Quality,wechat,High,closed,2024-02-05T03:00:00Z,2024-02-08 10:00:00+08:00,1
K3,C2,2024-01-25 14:00,服务态度,email,low,resolved,2024-01-25 20:00,2024-01-26 02:00,5
K4,C3,2024-03-20 08:00,price,phone,medium,open,2024-03-20 12:00,,
K5,,2024-04-01 06:00:00+08:00,物流,web,,open,,,
K6,C4,2024-02-15 09:00,Billing,phone,low,closed,2024-02-15 09:30,2024-02-20 09:00,3
K7,C1,2024-03-01 09:00,配送,Phone,medium,closed,2024-03-01 11:00,2024-03-02 09:00,4
K8,C2,2023-12-20 10:00,价格,phone,low,closed,2023-12-20 12:00,2024-01-02 10:00,4
K10,C4,2024-03-28 10:00,hardware ,phone,low,closed,,2024-04-11 10:00,
K11,C3,2024-03-05 10:00,Hardware,phone,low,closed,2024-03-05 11:00,2024-03-05 14:00,
"""


def independent_complaints(db, category: str | None = None, sla: dict | None = None) -> dict:
    """Count and SLA breach rate of the demo complaints in PERIOD, computed here in Python."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("select created_at, resolved_at, lower(severity), lower(category), status from complaints").fetchall()
        as_of = con.execute("select max(greatest(created_at, coalesce(first_response_at, created_at), "
                            "coalesce(resolved_at, created_at))) from complaints").fetchone()[0]
    finally:
        con.close()
    sla = sla or SLA
    n = breached = decided = 0
    for created, resolved, severity, cat, status in rows:
        if not (START <= created.date() <= END) or (category and cat != category):
            continue
        n += 1
        limit = sla.get(severity, 72.0)
        if resolved is not None:
            decided += 1
            breached += (resolved - created).total_seconds() / 3600 > limit
        elif status in (None, "open") and (as_of - created).total_seconds() / 3600 > limit:
            decided += 1
            breached += 1
    return {"n": n, "rate_breach": breached / decided}


def expect_metric(page, label: str, value: str) -> None:
    """Wait (through the rerun the change started) until the card `label` shows `value`."""
    card = page.get_by_test_id("stMetric").filter(has=page.get_by_test_id("stMetricLabel").filter(has_text=label))
    expect(card.first.get_by_test_id("stMetricValue")).to_have_text(value, timeout=60_000)
    wait_for_app(page)


def test_an_uploaded_complaints_file_drives_the_page(own_app, page, tmp_path):
    export = tmp_path / "工单导出.csv"
    export.write_text(UPLOAD, encoding="utf-8")
    assert "10 rows loaded into Complaints" in upload_and_load(page, own_app.url, export)

    open_page(page, f"{own_app.url}/complaints?period=2024-01-01&period=2024-03-31")
    assert exceptions(page) == []
    shown = metric_values(page)
    assert shown["Complaints"] == "9"  # K8 falls before the period; K5 is 03-31 22:00 once in UTC
    assert shown["Median time to resolve"] == "3.0 days"  # Kaplan-Meier with K4 and K5 censored: 72 h
    assert shown["SLA breach rate"] == "55.6%"  # K2, K4, K5, K6, K10 of 9
    assert "2024-01-01 to 2024-03-31" in page_caption(page)
    top = page.get_by_test_id("stMarkdownContainer").filter(has_text="Top cause").first.inner_text()
    assert "Delivery, 22.2% of the complaints" in top  # 物流 + 配送 merged, first of the three 2-complaint causes
    page.screenshot(path="/tmp/complaints-upload.png", full_page=True)


def test_changing_the_sla_hours_changes_the_breach_rate(app, page):
    open_page(page, f"{app.url}/complaints?{PERIOD}")
    expected = independent_complaints(app.db)
    assert metric_values(page)["SLA breach rate"] == f"{expected['rate_breach'] * 100:.1f}%"
    set_number(page, "SLA hours: high", "1000", wait=False)  # expect_metric waits for the new figure
    relaxed = independent_complaints(app.db, sla={**SLA, "high": 1000.0})
    assert relaxed["rate_breach"] < expected["rate_breach"]
    expect_metric(page, "SLA breach rate", f"{relaxed['rate_breach'] * 100:.1f}%")
    assert "complaints_sla_high=1000" in page.url
    assert exceptions(page) == []
    page.screenshot(path="/tmp/complaints-sla.png", full_page=True)


def test_filtering_by_category(app, page):
    open_page(page, f"{app.url}/complaints?{PERIOD}")
    assert metric_values(page)["Complaints"] == str(independent_complaints(app.db)["n"])
    page.get_by_test_id("stMultiSelect").filter(has_text="Complaint category").click()
    page.get_by_role("option", name="Price · 价格").click()
    page.keyboard.press("Escape")
    price = independent_complaints(app.db, category="price")
    expect_metric(page, "Complaints", str(price["n"]))
    assert "category=" in page.url
    # The link carries the filter, in either language.
    open_page(page, page.url + "&lang=中文")
    assert metric_values(page)["投诉量"] == str(price["n"])
    assert exceptions(page) == []
    page.screenshot(path="/tmp/complaints-zh.png", full_page=True)
