"""Issue 16, defects 4, 6 and 8: figures the data cannot back are not shown as if it could; comparisons
managers expect (same period last year) are a choice kept in the link."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse

from crmlens import queries, store
from tests.browser.conftest import exceptions, metric_values, open_page, wait_for_app
from tests.conftest import fetch


def deltas(page) -> dict[str, str]:
    """Each overview card's label and its change ("" when the card shows none)."""
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 8")
    out = {}
    for card in page.get_by_test_id("stMetric").all():
        label = card.get_by_test_id("stMetricLabel").inner_text().strip()
        delta = card.get_by_test_id("stMetricDelta")
        out[label] = delta.inner_text().strip() if delta.count() else ""
    return out


def test_a_comparison_period_mostly_before_the_data_is_not_compared(app, page):
    (first_order,) = fetch(app.db, "select min(order_date) from stg_orders")[0]
    open_page(page, f"{app.url}/overview?period=2024-01-01&period=2024-12-31")
    assert exceptions(page) == []
    days = (first_order.replace(year=2023, month=12, day=31) - first_order).days + 1  # 2023-11-14.. : 48 days
    warning = page.get_by_test_id("stMain").get_by_test_id("stAlertContentWarning").inner_text()
    assert f"has orders on only {days} of its 366 days" in warning or f"only {days} of its 365 days" in warning
    shown = deltas(page)
    assert shown["Revenue"] == "" and shown["Orders"] == "" and shown["Active customers"] == ""
    assert shown["Complaints"] == ""  # the data begins 2023-11-14: nothing to compare with either
    assert shown["Customers"] != ""  # the customer count is known at any date


def test_same_period_last_year_is_a_choice_in_the_link(app, page, browser):
    open_page(page, f"{app.url}/overview?period=2026-03-01&period=2026-03-31")
    assert "compared with 2026-01-29 to 2026-02-28" in page.get_by_test_id("stMain").get_by_test_id(
        "stCaptionContainer").first.inner_text()
    page.get_by_test_id("stMain").get_by_role("radio", name="Same period last year", exact=True).click()
    wait_for_app(page)
    assert "compared with 2025-03-01 to 2025-03-31" in page.get_by_test_id("stMain").get_by_test_id(
        "stCaptionContainer").first.inner_text()
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["overview_compare"] == ["Same period last year"]
    # the overview's revenue of March 2026 and of March 2025 (its own definition, run on each month)
    revenue_now, revenue_before = (float(queries.run("overview_kpis", {"start": dt.date(y, 3, 1), "end": dt.date(y, 3, 31)},
                                                     snap=store.snapshot(app.db)).set_index("period").loc["current", "amt_revenue"])
                                   for y in (2026, 2025))
    change = (float(revenue_now) - float(revenue_before)) / abs(float(revenue_before)) * 100
    assert deltas(page)["Revenue"] == f"{change:+.1f}%"
    shown = metric_values(page)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    try:
        other = open_page(context.new_page(), page.url)
        assert metric_values(other) == shown and deltas(other) == deltas(page)
    finally:
        context.close()


def test_the_what_if_change_reads_in_points_and_churn_drivers_say_what_they_skipped(app, page):
    open_page(page, f"{app.url}/churn?churn_whatif_points=5")
    page.get_by_role("tab", name="What if").click()
    assert re.fullmatch(r"-\d+\.\d pp", page.get_by_test_id("stMetricDelta").first.inner_text().strip())


def test_an_empty_app_offers_the_admin_a_demo_button_not_a_command(browser, tmp_path, monkeypatch):
    from crmlens import empty
    from tests.browser.conftest import AppServer

    with AppServer(tmp_path / "none.duckdb", tmp_path) as server:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        try:
            page = open_page(context.new_page(), server.url)
            page = open_page(page, f"{server.url}/overview")
            main = page.get_by_test_id("stMain")
            assert "python -m crmlens" not in main.inner_text()
            main.get_by_role("button", name="Load demo data").click()
            page.get_by_test_id("stMetric").first.wait_for(timeout=120_000)
            wait_for_app(page)
            assert exceptions(page) == []
            shown = metric_values(page)
            assert shown["Customers"] not in ("–", "0")
            (n,) = fetch(tmp_path / "none.duckdb", "select count(*) from stg_customers")[0]
            assert n == empty.DEMO_CUSTOMERS
        finally:
            context.close()
