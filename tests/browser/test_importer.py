"""The Data page's importer in a real browser (issue 15): the column mapping panel stays open
while the user works in it, and doubtful guesses are pointed out, not taken."""

from __future__ import annotations

import csv
import re

import duckdb
from playwright.sync_api import expect

from tests.browser.conftest import choose, choose_files, open_page, upload_and_load, wait_for_app
from tests.test_importer_defects import CFPB_EXTRACT


def rows(db, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_mapping_panel_stays_open_while_columns_and_fixed_values_are_chosen(own_app, page, tmp_path):
    export = tmp_path / "stores.csv"
    export.write_text("customer_id,name,片区\nX001,River Shop,East\nX002,Hill Shop,North\n", encoding="utf-8")
    open_page(page, f"{own_app.url}/data")
    choose_files(page, export)
    wait_for_app(page)
    page.get_by_text("Column mapping", exact=True).click()
    region = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("region", exact=True))
    assert region.is_visible()
    choose(page, "region", "片区")  # a change reruns the page: the panel is still open
    assert region.is_visible()
    expect(page.get_by_text("3 of 14 columns matched", exact=True)).to_be_visible()  # the rerun may still be drawing
    choose(page, "segment", "✎ the same value in every row")
    box = page.get_by_label("Value of segment for every row")
    assert box.is_visible()  # the box to type the value in is there, not hidden in a closed panel
    box.fill("distributor")
    box.press("Enter")
    wait_for_app(page)
    assert page.get_by_label("Value of segment for every row").is_visible()
    assert page.get_by_text("4 of 14 columns matched", exact=True).is_visible()
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    assert "stores.csv: 2 rows loaded into Customers, 0 rejected." in page.get_by_test_id("stAlertContentSuccess").inner_text()
    assert rows(own_app.db, "select customer_id, region, segment from customers order by 1") == [
        ("X001", "East", "distributor"), ("X002", "North", "distributor")]


def test_cfpb_state_is_pointed_out_and_not_mapped(own_app, page, tmp_path):
    export = tmp_path / "complaints.csv"
    export.write_text(CFPB_EXTRACT, encoding="utf-8")
    with open(export, newline="", encoding="utf-8") as fh:
        expected = list(csv.DictReader(fh))
    open_page(page, f"{own_app.url}/data")
    choose_files(page, export)
    wait_for_app(page)
    warning = page.get_by_test_id("stAlertContentWarning").filter(has_text="State was not mapped to status")
    assert "region codes" in warning.inner_text()
    assert "FL, TX, CA, NY" in warning.inner_text()
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    assert f"complaints.csv: {len(expected)} rows loaded into Complaints, 0 rejected." in \
        page.get_by_test_id("stAlertContentSuccess").inner_text()
    assert rows(own_app.db, "select count(*), count(status), count(state) from complaints") == [
        (len(expected), 0, sum(1 for r in expected if r["State"]))]


def test_real_servicenow_export_is_recognised_and_loaded(own_app, page):
    """The real public ServiceNow export through the Data page: layout named, counts, the Complaints headline."""
    from crmlens import fmt
    from tests.conftest import PUBLIC_DATA
    from tests.browser.conftest import metric_values

    export = PUBLIC_DATA / "servicenow_incidents_rest.csv"
    with open(export, newline="", encoding="utf-8") as fh:
        incidents = list(csv.DictReader(fh))
    open_page(page, f"{own_app.url}/data")
    choose_files(page, export)
    wait_for_app(page)
    assert page.get_by_text("Recognised as ServiceNow incidents (field names)").is_visible()
    shown = metric_values(page)
    # the 4 incidents without a category load too (their category "not given")
    assert (shown["Rows in file"], shown["Rows to load"], shown["Rows rejected"]) == (str(len(incidents)),) * 2 + ("0",)
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    message = page.get_by_test_id("stAlertContentSuccess").inner_text()
    assert f"{len(incidents)} rows loaded into Complaints, 0 rejected." in message
    assert "Mapped as ServiceNow incidents (field names)." in message
    # the whole span of the incidents (2015-08-12 to 2023-01-06): the sidebar's period reaches any date (Streamlit's own
    #   bounds were the default period -/+ 10 years)
    first, last = min(r["opened_at"][:10] for r in incidents), max(r["opened_at"][:10] for r in incidents)
    in_period = incidents
    open_page(page, f"{own_app.url}/complaints?period={first}&period={last}")
    shown = metric_values(page)
    assert shown["Complaints"] == fmt.number(len(in_period), "en")
    assert shown["Open now"] == fmt.number(sum(1 for r in in_period if not r["resolved_at"].strip()), "en")


def test_real_volvo_status_log_loads_as_its_requests(own_app, page):
    """The public Volvo IT incident log (one row per status change) through the Data page: one ticket per request, the
    fold said, the Complaints page's count and open requests as counted here from the file."""
    from crmlens import fmt
    from tests.conftest import PUBLIC_DATA
    from tests.browser.conftest import metric_values

    export = PUBLIC_DATA / "volvo_incidents_status_log_5000.csv"
    requests: dict[str, list[dict]] = {}
    with open(export, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            requests.setdefault(row["SR Number"], []).append(row)
    n_changes = sum(len(rows) for rows in requests.values())
    open_page(page, f"{own_app.url}/data")
    choose_files(page, export)
    wait_for_app(page)
    shown = metric_values(page)
    assert (shown["Rows in file"], shown["Rows to load"], shown["Rows rejected"]) == (
        fmt.number(n_changes, "en"), fmt.number(len(requests), "en"), "0")
    assert page.get_by_text(f"{fmt.number(n_changes, 'en')} changes become {fmt.number(len(requests), 'en')} "
                            "tickets").is_visible()
    # a log loads whole: with "Append" chosen the page says so before the click, and the button waits
    page.get_by_test_id("stRadioGroup").get_by_text("Append to the table's data").click()
    wait_for_app(page)
    expect(page.get_by_text("is a status log (one row per status change of a ticket)")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Load 1 file"))).to_be_disabled()
    page.get_by_test_id("stRadioGroup").get_by_text("Replace the table's data").click()
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    message = page.get_by_test_id("stAlertContentSuccess").inner_text()
    assert (f"{fmt.number(n_changes, 'en')} status changes loaded as {fmt.number(len(requests), 'en')} tickets, "
            "0 rows rejected.") in message
    first = min(rows[0]["Change Date+Time"][:10] for rows in requests.values())
    open_page(page, f"{own_app.url}/complaints?period={first}&period=2013-12-31")
    shown = metric_values(page)
    assert shown["Complaints"] == fmt.number(len(requests), "en")
    assert shown["Open now"] == fmt.number(sum(1 for rows in requests.values() if rows[-1]["Status"] != "Completed"), "en")


def test_shopify_export_made_from_the_documented_headers(own_app, page):
    """One click: recognised, lines folded into orders, revenue as summed here from the file's lines."""
    from crmlens import fmt
    from tests.browser.conftest import metric_values
    from tests.test_layouts import FIXTURES

    export = FIXTURES / "shopify_orders.csv"
    with open(export, newline="", encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    status = {}
    for line in lines:
        status.setdefault(line["Name"], line["Financial Status"])
    revenue = sum(float(x["Lineitem quantity"]) * float(x["Lineitem price"]) for x in lines
                  if status[x["Name"]] not in ("refunded", "voided"))
    loaded = upload_and_load(page, own_app.url, export, expect_text="Recognised as Shopify orders export")
    assert f"{len(lines)} order lines loaded as {len(status)} orders" in loaded
    open_page(page, f"{own_app.url}/?period=2025-03-01&period=2025-03-31")
    assert metric_values(page)["Revenue"] == fmt.number(revenue, "en")


def test_excel_workbook_uploads_like_a_csv(own_app, page, tmp_path):
    from tests import xlsx
    from tests.test_excel import ORDERS

    book = tmp_path / "orders.xlsx"
    xlsx.write(book, {"说明": [["本工作簿由系统导出"]], "订单": ORDERS})
    open_page(page, f"{own_app.url}/data")
    choose_files(page, book)
    wait_for_app(page)
    assert page.get_by_text("Sheet 订单: the header is on row 4").is_visible()
    page.get_by_text(re.compile("Load anyway")).click()  # 1 of 4 rows rejected
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    assert "orders.xlsx: 3 rows loaded into Orders, 1 rejected." in page.get_by_test_id("stAlertContentSuccess").inner_text()
    assert rows(own_app.db, "select list(order_id order by order_id) from orders") == [(["1001", "1002", "1003"],)]
    # The other sheet can be chosen too: it is no orders file, and the page says what is missing.
    choose_files(page, book)
    wait_for_app(page)
    choose(page, "Sheet", "说明")
    assert page.get_by_test_id("stAlert").count() >= 1


def test_real_cfpb_rows_are_recognised_and_loaded(own_app, page):
    """Five real rows of the CFPB's complaint database (public domain; as quoted in the Insight data
    engineering challenge's README): the layout named, counts and the Complaints headline."""
    from crmlens import fmt
    from tests.browser.conftest import metric_values
    from tests.test_layouts import FIXTURES

    export = FIXTURES / "cfpb_complaints_real.csv"
    with open(export, newline="", encoding="utf-8") as fh:
        complaints = list(csv.DictReader(fh))
    still_open = [r for r in complaints if not r["Company response to consumer"].startswith("Closed")]
    open_page(page, f"{own_app.url}/data")
    choose_files(page, export)
    wait_for_app(page)
    assert page.get_by_text("Recognised as CFPB consumer complaint database").is_visible()
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    assert f"{len(complaints)} rows loaded into Complaints, 0 rejected." in \
        page.get_by_test_id("stAlertContentSuccess").inner_text()
    first, last = min(r["Date received"] for r in complaints), max(r["Date received"] for r in complaints)
    open_page(page, f"{own_app.url}/complaints?period={first}&period={last}")
    shown = metric_values(page)
    assert shown["Complaints"] == fmt.number(len(complaints), "en")
    assert shown["Open now"] == fmt.number(len(still_open), "en")


def test_salesforce_report_made_from_the_documented_headers_drives_the_funnel(own_app, page):
    """The CRM-pipeline family (Salesforce, HubSpot): a report written from Salesforce's documented export
    columns, recognised and loaded in one click; the Funnel's headline counted again with the csv module."""
    from tests.browser.conftest import metric_values
    from tests.test_layouts import FIXTURES

    export = FIXTURES / "salesforce_opportunity_report.csv"
    with open(export, newline="", encoding="utf-8") as fh:
        deals = list(csv.DictReader(fh))
    loaded = upload_and_load(page, own_app.url, export, expect_text="Recognised as Salesforce opportunity report")
    assert f"{len(deals)} rows loaded into Opportunities, 0 rejected." in loaded
    assert "Mapped as Salesforce opportunity report." in loaded
    won = sum(1 for d in deals if d["Stage"] == "Closed Won")
    lost = sum(1 for d in deals if d["Stage"] == "Closed Lost")
    first, last = min(d["Created Date"] for d in deals), max(d["Created Date"] for d in deals)
    open_page(page, f"{own_app.url}/funnel?period={first}&period={last}")
    shown = metric_values(page)
    assert (shown["Opportunities"], shown["Won"], shown["Lost"], shown["Open"]) == (
        str(len(deals)), str(won), str(lost), str(len(deals) - won - lost))
    assert shown["Win rate"] == f"{100 * won / (won + lost):.1f}%"
