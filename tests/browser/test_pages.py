"""Every page in a real browser, on demo data, as a manager uses it."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
from playwright.sync_api import expect

from crmlens import fmt
from tests.browser.conftest import choose, choose_files, exceptions, metric_values, open_page, page_caption, upload_and_load, wait_for_app

NON_REVENUE = ("cancelled", "canceled", "returned", "refunded")


def independent_figures(db, start: dt.date, end: dt.date) -> dict:
    """Revenue, orders and complaints computed here with plain SQL, not with the app's queries."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        revenue, orders = con.execute(
            "select sum(amount), count(*) from orders where order_date between ? and ? "
            "and lower(coalesce(status, '')) not in ?", [start, end, list(NON_REVENUE)]).fetchone()
        complaints = con.execute(
            "select count(*) from complaints where created_at >= ? and created_at < ?",
            [start, end + dt.timedelta(days=1)]).fetchone()[0]
        latest = con.execute(
            "select max(d) from (select max(order_date) d from orders union all select max(created_date) from opportunities "
            "union all select max(created_at)::date from complaints union all select max(entered_at)::date "
            "from opportunity_stage_history union all select max(survey_date) from surveys)").fetchone()[0]
    finally:
        con.close()
    return {"revenue": revenue, "orders": orders, "complaints": complaints, "latest": latest}


def test_overview_shows_the_demo_figures_for_the_default_period(app, page):
    open_page(page, app.url)
    latest = independent_figures(app.db, dt.date(2000, 1, 1), dt.date(2000, 1, 1))["latest"]
    start = latest - dt.timedelta(days=364)
    expected = independent_figures(app.db, start, latest)
    shown = metric_values(page)
    assert shown["Revenue"] == fmt.number(expected["revenue"], "en")
    assert shown["Orders"] == fmt.number(expected["orders"], "en")
    assert shown["Complaints"] == fmt.number(expected["complaints"], "en")
    assert f"{start.isoformat()} to {latest.isoformat()}" in page_caption(page)
    assert page.get_by_test_id("stPlotlyChart").count() == 1
    assert exceptions(page) == []


def test_period_from_the_url_drives_the_figures(app, page):
    open_page(page, f"{app.url}/?period=2025-01-01&period=2025-03-31")
    expected = independent_figures(app.db, dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    shown = metric_values(page)
    assert shown["Revenue"] == fmt.number(expected["revenue"], "en")
    assert shown["Orders"] == fmt.number(expected["orders"], "en")
    assert "2025-01-01 to 2025-03-31" in page_caption(page)


def test_switching_pages_keeps_the_url_state(app, page):
    open_page(page, f"{app.url}/?period=2025-01-01&period=2025-03-31")
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Data").click()
    wait_for_app(page)
    assert "/data" in page.url
    assert page.get_by_role("heading", name="Tables in the database").is_visible()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Overview").click()
    wait_for_app(page)
    assert "2025-01-01 to 2025-03-31" in page_caption(page)
    assert exceptions(page) == []


def test_a_page_url_opened_first_on_a_fresh_server_gets_the_full_app(own_app, page):
    open_page(page, f"{own_app.url}/data")
    # The first run may be Streamlit's pages/-folder mode; the page reruns itself through app.py.
    nav = page.get_by_test_id("stSidebarNavLink")
    expect(nav.first).to_contain_text("Overview", timeout=60_000)
    expect(nav.filter(has_text="Data").first).to_be_visible()  # the data section (Data, then Digests & alerts)
    wait_for_app(page)
    assert page.get_by_role("heading", name="Tables in the database").is_visible()


def test_no_page_shows_an_exception(app, page):
    for path in ("", "/overview", "/data", "/?lang=中文", "/data?lang=中文"):
        open_page(page, app.url + path)
        expect(page.get_by_role("heading").first).to_be_visible()
        assert exceptions(page) == [], path


def test_language_switch_is_kept_in_the_link(app, page):
    open_page(page, app.url)
    page.get_by_test_id("stSidebar").get_by_text("中文", exact=True).click()
    wait_for_app(page)
    assert "客户数" in metric_values(page)
    assert re.search(r"lang=(%E4%B8%AD%E6%96%87|中文)", page.url)
    shared = page.url
    other = page.context.new_page()
    open_page(other, shared)
    assert "收入" in metric_values(other)
    assert other.get_by_role("heading", name="总览").is_visible()
    other.close()


def test_the_share_box_draws_its_link_when_opened(app, page):
    """The link is drawn only in an open box (a code block costs every page its syntax highlighter): closed,
    the page has no code block; opened, the box holds this view's address with the data version."""
    open_page(page, f"{app.url}/funnel?lang=English")
    assert page.get_by_test_id("stCode").count() == 0
    page.get_by_test_id("stSidebar").get_by_text("Share this view", exact=True).click()
    wait_for_app(page)
    link = page.get_by_test_id("stCode").inner_text()
    assert link.startswith(f"{app.url}/funnel?"), link
    assert "lang=English" in link and re.search(r"[?&]v=\d+", link), link


def test_upload_through_the_page_updates_every_view(own_app, page, tmp_path):
    gbk_file = tmp_path / "投诉导出.csv"
    gbk_file.write_bytes("投诉编号,客户编号,投诉时间,投诉类别\nX1,C000001,2026-10-30 10:00,质量\nX2,C000002,2026-10-31 11:00,价格\n"
                         .encode("gb18030"))
    october = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    before = independent_figures(own_app.db, *october)["complaints"]
    success = upload_and_load(page, own_app.url, gbk_file, "Append to the table's data")
    assert "投诉导出.csv: 2 rows loaded into Complaints, 0 rejected" in success
    # The history table is drawn on a canvas (no DOM text): check the loads it shows.
    assert independent_rows(own_app.db, "select file_name, table_name, n_rows from loads order by load_id desc limit 1") \
        == [("投诉导出.csv", "complaints", 2)]
    after = independent_figures(own_app.db, *october)["complaints"]
    assert after == before + 2
    open_page(page, f"{own_app.url}/?period=2026-10-01&period=2026-10-31")
    assert metric_values(page, "Complaints")["Complaints"] == fmt.number(after, "en")
    assert exceptions(page) == []


def test_bad_upload_names_file_and_column_and_changes_nothing(own_app, page, tmp_path):
    bad = tmp_path / "orders_export.csv"
    bad.write_text("order_id,customer_id,order_date\nO1,C1,2026-01-01\n")
    before = own_app.db.read_bytes()
    open_page(page, f"{own_app.url}/data")
    choose_files(page, bad)
    wait_for_app(page)
    # Checked as soon as it is uploaded: the message names the file and the column; no load is offered.
    error = page.get_by_test_id("stAlertContentError").inner_text()
    assert "orders_export.csv" in error and "the required column amount is missing" in error
    assert page.get_by_role("button", name=re.compile("Load 1 file")).is_disabled()
    assert own_app.db.read_bytes() == before


def test_upload_gbk_file_fix_a_column_by_hand_and_load(own_app, page, tmp_path):
    export = tmp_path / "门店客户.csv"
    export.write_bytes("客户编号,客户名称,所属片区,客户类型\nX001,杭州河畔,华东,distributor\nX002,王芳,华北,consumer\n"
                       "X003,陈杰,华南,consumer\n".encode("gb18030"))
    open_page(page, f"{own_app.url}/data")
    choose_files(page, export)
    wait_for_app(page)
    # Detected: customers (from 客户编号), GBK. 所属片区 is no known alias of region: map it by hand.
    assert "gb18030" in " ".join(page.get_by_test_id("stMetricValue").all_inner_texts())
    page.get_by_text("Column mapping", exact=True).click()
    choose(page, "region", "所属片区")
    assert page.get_by_text("4 of 14 columns matched", exact=True).is_visible()
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    assert "门店客户.csv: 3 rows loaded into Customers, 0 rejected." in page.get_by_test_id("stAlertContentSuccess").inner_text()
    con_rows = independent_rows(own_app.db, "select customer_id, region from customers order by 1")
    assert con_rows == [("X001", "华东"), ("X002", "华北"), ("X003", "华南")]


def independent_rows(db, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_printed_page_shows_the_content_without_the_sidebar(app, page):
    open_page(page, app.url)
    assert page.get_by_test_id("stSidebar").is_visible()
    page.emulate_media(media="print")
    assert not page.get_by_test_id("stSidebar").is_visible()
    assert page.get_by_test_id("stMetricValue").first.is_visible()


def test_tables_offer_only_the_safe_csv_download(app, page):
    open_page(page, f"{app.url}/funnel")
    page.get_by_test_id("stDataFrame").first.hover()
    toolbar = page.get_by_test_id("stElementToolbar").first
    expect(toolbar.get_by_role("button", name="Search")).to_be_visible()
    # the grid's own export would keep "=formulas" and only the rows shown
    expect(toolbar.get_by_role("button", name="Download as CSV")).to_be_hidden()
    expect(page.get_by_test_id("stDownloadButton").first).to_be_visible()


def test_a_click_during_a_long_load_does_not_stop_it(own_app, page, tmp_path):
    big = tmp_path / "orders_big.csv"
    with big.open("w") as f:
        f.write("order_id,customer_id,order_date,amount\n")
        for i in range(400_000):
            f.write(f"BIG{i},C{i % 5000:06d},2026-10-{1 + i % 28:02d},{10 + i % 90}\n")
    open_page(page, f"{own_app.url}/data")
    choose_files(page, big)
    wait_for_app(page)
    page.get_by_text("Append to the table's data", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    page.get_by_text("(day first)", exact=False).click()  # reruns the page mid-load
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("400,000 rows loaded", timeout=120_000)
    assert independent_rows(own_app.db, "select file_name, n_rows from loads order by load_id desc limit 1") \
        == [("orders_big.csv", 400_000)]
    assert independent_rows(own_app.db, "select count(*) from orders where order_id like 'BIG%'") == [(400_000,)]


def test_a_load_refused_while_loading_says_why_and_keeps_the_file(own_app, page, tmp_path):
    orders = tmp_path / "orders_week.csv"
    orders.write_text("order_id,customer_id,order_date,amount\nW1,C000001,2026-10-30,10\nW2,C000002,2026-10-31,20\n")
    assert "2 rows loaded into Orders" in upload_and_load(page, own_app.url, orders, "Append to the table's data")
    before = own_app.db.read_bytes()
    open_page(page, f"{own_app.url}/data")  # a settled page: the uploader is replaced after a load
    choose_files(page, orders)
    wait_for_app(page)
    page.get_by_text("Append to the table's data", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("Nothing was loaded; the data is unchanged.")
    expect(error).to_contain_text("orders_week.csv: this exact file was already loaded")
    assert own_app.db.read_bytes() == before
    expect(page.get_by_role("button", name=re.compile("Load 1 file"))).to_be_enabled()  # still there to fix
