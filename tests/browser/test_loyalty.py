"""The Loyalty page in a real browser on demo data: the ladder, a threshold in the URL, movements, an upload."""

from __future__ import annotations

import re

import duckdb

from crmlens.loyalty import RUNGS
from tests.browser.conftest import exceptions, metric_values, open_page, set_number, upload_and_load, wait_for_app


def open_loyalty(page, url: str):
    """Open the page and wait for its title: on a fresh server the first run reruns through app.py."""
    open_page(page, url)
    page.get_by_role("heading", name="Loyalty ladder", exact=True).wait_for(timeout=60_000)
    wait_for_app(page)
    return page


def ladder_counts(page) -> dict[str, int]:
    """The customer count printed on each rung's bar of the ladder chart (prospect first)."""
    chart = page.get_by_test_id("stPlotlyChart").first
    texts = chart.locator("text.bartext").evaluate_all("els => els.map(e => e.textContent)")[:len(RUNGS)]
    return {rung: int(text.split("·")[0].strip().replace(",", "")) for rung, text in zip(RUNGS, texts)}


def test_ladder_on_demo_data_and_a_threshold_carried_by_the_url(app, page):
    open_loyalty(page, f"{app.url}/loyalty")
    before = ladder_counts(page)
    shown = metric_values(page)
    assert sum(before.values()) == int(shown["Customers on the ladder"].replace(",", ""))
    page.screenshot(path="/tmp/loyalty-ladder.png", full_page=True)

    page.get_by_text("Rung rules", exact=False).click()
    set_number(page, "Client: purchases at least", "3")
    after = ladder_counts(page)
    assert "loyalty_min_orders_client=3" in page.url
    moved = before["client"] - after["client"]
    assert moved > 0  # two-purchase clients drop to customer (or their supporters with them)
    assert after["customer"] > before["customer"]
    assert sum(after.values()) == sum(before.values())
    assert "**client** 3+ purchases" not in page.content() and "3+ purchases" in page.content()

    other = page.context.new_page()
    open_loyalty(other, page.url)
    assert ladder_counts(other) == after
    other.close()
    assert exceptions(page) == []


def test_movements_show_the_flows_and_list_a_flows_customers(app, page):
    open_loyalty(page, f"{app.url}/loyalty?loyalty_grain=Quarter")
    page.get_by_role("tab", name="Movements").click()
    wait_for_app(page)
    movements = page.get_by_role("tabpanel").filter(has=page.get_by_text("Who is climbing and who is slipping"))
    assert movements.get_by_test_id("stPlotlyChart").count() == 2  # the trend and the Sankey
    assert movements.locator("g.sankey").count() == 1
    assert movements.get_by_text("Transition matrix").is_visible()
    box = page.get_by_role("combobox", name="List the customers of a flow")
    box.click()
    box.fill("→ Lost")
    box.press("Enter")
    wait_for_app(page)
    assert "loyalty_flow=" in page.url and "Lost" in page.url
    assert movements.get_by_text(re.compile(r"customers in this flow")).is_visible()
    assert movements.get_by_test_id("stDataFrame").count() >= 2  # the matrix and the flow's customers
    page.screenshot(path="/tmp/loyalty-movements.png", full_page=True)
    for tab in ("ABC / Pareto", "RFM segments", "Lifetime value", "Value quadrants", "Customers"):
        page.get_by_role("tab", name=tab).click()
        wait_for_app(page)
        page.screenshot(path=f"/tmp/loyalty-{tab.split()[0].lower().replace('/', '')}.png", full_page=True)
    assert exceptions(page) == []


def test_uploading_surveys_through_the_data_page_moves_customers_up(own_app, page, tmp_path):
    con = duckdb.connect(str(own_app.db), read_only=True)
    try:
        # buyers who are not partners, have never answered a survey and referred nobody: not advocates yet
        chosen = [r[0] for r in con.execute("""
            select customer_id from customers
            where not coalesce(is_partner, false)
              and customer_id in (select customer_id from orders where status = 'completed' and amount > 0
                                  and order_date <= date '2026-10-01')
              and customer_id not in (select customer_id from surveys)
              and customer_id not in (select referred_by from customers where referred_by is not null)
            order by customer_id limit 3""").fetchall()]
    finally:
        con.close()
    assert len(chosen) == 3
    open_loyalty(page, f"{own_app.url}/loyalty")
    before = ladder_counts(page)

    survey = tmp_path / "nps_survey.csv"
    survey.write_text("customer_id,survey_date,nps,satisfaction\n" + "".join(f"{c},2026-10-30,10,5\n" for c in chosen))
    assert "3 rows loaded into Surveys" in upload_and_load(page, own_app.url, survey, "Append to the table's data")

    open_loyalty(page, f"{own_app.url}/loyalty")
    after = ladder_counts(page)
    assert after["advocate"] == before["advocate"] + 3  # NPS 10: each of the three is now an advocate
    assert sum(after.values()) == sum(before.values())
    assert exceptions(page) == []
