"""Two `streamlit run` servers on one DuckLake catalog (a throw-away PostgreSQL, tests/pg.py): a file
loaded through one is on the other's pages at its next run, while a link made before the load still opens
with the numbers it was made on (time travel) until the reader opens the latest. Data: tests/fixtures/tiny (numbers in
tests/test_overview_queries.py); the period 2024-07-01..2024-12-31 has 3 orders, 900 of revenue."""

from __future__ import annotations

from crmlens import ingest, store
from tests.browser.conftest import AppServer, metric_values, open_page, upload_and_load, wait_for_app
from tests.conftest import FIXTURES

PERIOD = "period=2024-07-01&period=2024-12-31&lang=English"


def overview(page, url: str) -> dict[str, str]:
    open_page(page, f"{url}/overview?{PERIOD}")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
    return metric_values(page)


def test_a_load_through_one_server_is_seen_on_the_other(page, tmp_path, new_lake):
    lake = new_lake()
    ingest.load_files(sorted((FIXTURES / "tiny").glob("*.csv")), db=lake)
    first = store.snapshot(lake).version
    new_order = tmp_path / "orders_august.csv"
    new_order.write_text("order_id,customer_id,order_date,amount\nO99,C1,2024-08-01,100\n")
    with AppServer(lake, tmp_path) as one, AppServer(lake, tmp_path) as other:
        for server in (one, other):  # a fresh server's first run (app.py takes over the page) before any check
            open_page(page, server.url)
        shown = overview(page, other.url)
        assert (shown["Orders"], shown["Revenue"]) == ("3", "900")
        message = upload_and_load(page, one.url, new_order, mode_label="Append to the table's data")
        assert "1 rows loaded into Orders" in message or "1 row loaded into Orders" in message, message
        shown = overview(page, other.url)
        assert (shown["Orders"], shown["Revenue"]) == ("4", "1,000")  # O99 on 2024-08-01 adds 100

        # A link made before the load keeps its numbers (DuckLake time travel), on either server.
        open_page(page, f"{other.url}/overview?{PERIOD}&v={first}")
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
        shown = metric_values(page)
        assert (shown["Orders"], shown["Revenue"]) == ("3", "900")
        assert page.get_by_text(f"(data version {first}), as when this link was made").is_visible()
        page.get_by_role("button", name="Open the latest data").click()
        wait_for_app(page)
        shown = metric_values(page)
        assert (shown["Orders"], shown["Revenue"]) == ("4", "1,000")
        assert f"v={store.snapshot(lake).version}" in page.url
