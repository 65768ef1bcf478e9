"""The Churn page in a real browser: definitions, the N-days setting, the cohort heatmap, an upload."""

from __future__ import annotations

import pathlib

import duckdb

from tests.browser.conftest import exceptions, metric_values, open_page, set_number, upload_and_load, wait_for_app

SUBSCRIPTION = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "churn_subscription" / "customers.csv"
NON_REVENUE = ["cancelled", "canceled", "returned", "refunded"]


def active_with_fixed_days(db, days: int) -> int:
    """Customers whose last completed order lies less than `days` days before the newest order: plain SQL."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "with o as (select * from orders where lower(coalesce(status, '')) not in ?), "
            "last as (select customer_id, max(order_date) as last_order from o group by 1) "
            "select count(*) from last where last_order + ? > (select max(order_date) from o)",
            [NON_REVENUE, days]).fetchone()[0]
    finally:
        con.close()


def main_alert(page) -> str:
    return page.get_by_test_id("stMain").get_by_test_id("stAlert").first.inner_text()


def test_changing_n_days_moves_the_figures_and_the_url(app, page):
    open_page(page, f"{app.url}/churn?churn_multiplier=0&churn_days=120")
    assert exceptions(page) == []
    assert "Definition: from orders" in main_alert(page)
    before = metric_values(page)
    assert before["Active now"] == f"{active_with_fixed_days(app.db, 120):,}"
    set_number(page, "Lost after at least (days)", "30")
    after = metric_values(page)
    assert "churn_days=30" in page.url
    assert after["Active now"] == f"{active_with_fixed_days(app.db, 30):,}"
    assert after["Period churn rate"] != before["Period churn rate"]
    assert float(after["Period churn rate"].rstrip("%")) > float(before["Period churn rate"].rstrip("%"))
    assert "30 days pass without an order" in main_alert(page)
    # the headline's definition beside it: lost of those active at the start, reconciled with the leaky bucket
    definition = page.get_by_test_id("stCaptionContainer").filter(has_text="Period churn rate =").first.inner_text()
    assert f"= {after['Period churn rate']}" in definition and "reconciles with the leaky bucket" in definition
    assert f"of the {after['Active at the start']} customers active on" in definition
    page.screenshot(path="/tmp/churn-n-days.png", full_page=True)


def test_cohort_heatmap_and_its_mode_switch(app, page):
    page.set_viewport_size({"width": 1400, "height": 1800})
    open_page(page, f"{app.url}/churn")
    page.get_by_role("tab", name="Cohorts").click()
    wait_for_app(page)
    panel = page.get_by_role("tabpanel").filter(has_text="Count a customer as retained")
    assert panel.get_by_test_id("stPlotlyChart").count() == 1
    assert "Retention by first-order month" in panel.get_by_test_id("stPlotlyChart").inner_text()
    panel.get_by_text("ordered in month k or later").click()
    wait_for_app(page)
    assert "churn_cohort_mode=ordered+in+month+k+or+later" in page.url  # Streamlit keeps the shown label
    assert "may still come back" in panel.inner_text()
    assert exceptions(page) == []
    page.screenshot(path="/tmp/churn-cohorts.png", full_page=True)


def test_a_subscription_export_uploaded_on_the_data_page_switches_the_definition(own_app, page):
    assert "8 rows loaded into Customers" in upload_and_load(page, own_app.url, SUBSCRIPTION)

    page.set_viewport_size({"width": 1400, "height": 1600})
    open_page(page, f"{own_app.url}/churn")
    assert exceptions(page) == []
    assert "Definition: explicit churn data" in main_alert(page)
    shown = metric_values(page)
    assert shown["Share churned"] == "37.5%"  # S1, S2, S5 of 8: no dates, so no period rate (the page says so)
    assert shown["Customers"] == "8"
    assert "At risk" not in shown
    page.get_by_role("tab", name="Drivers").click()
    wait_for_app(page)
    drivers = page.get_by_role("tabpanel").filter(has_text="Which groups churn more")
    # Largest spread: the extra column PaymentMethod (electronic check 3 of 4 lost, credit card 0 of 4).
    assert "Churn rate by paymentmethod" in drivers.get_by_test_id("stPlotlyChart").inner_text()
    assert exceptions(page) == []
    page.screenshot(path="/tmp/churn-subscription.png", full_page=True)


def test_chinese_page_has_no_exception(app, page):
    for query in ("?lang=中文", "?lang=中文&churn_grain=quarter&churn_group=complaint"):
        open_page(page, f"{app.url}/churn{query}")
        assert exceptions(page) == [], query
        assert page.get_by_role("heading", name="客户流失与留存").is_visible()


def test_back_button_steps_back_through_setting_changes(app, page):
    open_page(page, f"{app.url}/churn?churn_multiplier=0&churn_days=120")
    for days in ("60", "30"):
        box = set_number(page, "Lost after at least (days)", days)
    assert "churn_days=30" in page.url
    assert metric_values(page)["Active now"] == f"{active_with_fixed_days(app.db, 30):,}"

    page.go_back()
    page.wait_for_url(lambda url: "churn_days=60" in url)
    wait_for_app(page)
    assert box.input_value() == "60"
    assert metric_values(page)["Active now"] == f"{active_with_fixed_days(app.db, 60):,}"

    page.go_back()
    page.wait_for_url(lambda url: "churn_days=120" in url)
    wait_for_app(page)
    assert box.input_value() == "120"
    assert metric_values(page)["Active now"] == f"{active_with_fixed_days(app.db, 120):,}"

    page.go_forward()
    page.wait_for_url(lambda url: "churn_days=60" in url)
    wait_for_app(page)
    assert box.input_value() == "60"
