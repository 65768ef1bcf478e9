"""The header row choice on the Data page in a real browser (issue 15): a report's title lines are
detected and said, and a file without a header row is loaded after "no header row" is chosen and
its columns are mapped by their values (shown with each choice)."""

from __future__ import annotations

import csv
import re

import duckdb

from tests.browser.conftest import choose, choose_files, metric_values, open_page, wait_for_app

ROWS = "N1,C1,2024-09-01,120\nN2,C2,2024-09-02,80\nN3,C1,2024-09-05,40.5\n"


def test_title_lines_are_detected_and_a_file_without_header_loads(own_app, page, tmp_path):
    report = tmp_path / "report.csv"
    report.write_text("Order report September 2024\n\norder_id,customer_id,order_date,amount\n" + ROWS)
    open_page(page, f"{own_app.url}/data")
    choose_files(page, report)
    wait_for_app(page)
    assert page.get_by_text("The header is on row 3; the 2 line(s) above it are left out.").is_visible()
    assert metric_values(page)["Rows to load"] == "3"

    plain = tmp_path / "rows.csv"
    plain.write_text(ROWS)
    with open(plain, newline="") as fh:
        expected = list(csv.reader(fh))
    open_page(page, f"{own_app.url}/data")
    choose_files(page, plain)
    wait_for_app(page)
    assert "looks like data" in page.get_by_test_id("stAlertContentWarning").first.inner_text()
    choose(page, "Header row", "No header row (name the columns by position)")
    choose(page, "Load into table", "Orders")
    if not page.get_by_text("order_id (required)", exact=True).is_visible():  # open when required columns are missing
        page.get_by_text("Column mapping", exact=True).click()
    for column, number, values in (("order_id", 1, "N1, N2, N3"), ("customer_id", 2, "C1, C2"),
                                   ("order_date", 3, "2024-09-01, 2024-09-02, 2024-09-05"),
                                   ("amount", 4, "120, 80, 40.5")):
        choose(page, f"{column} (required)", f"column_{number}: e.g. {values}")
    assert not page.get_by_test_id("stAlertContentError").count()
    page.get_by_role("button", name=re.compile("Load 1 file")).click()
    wait_for_app(page)
    assert f"rows.csv: {len(expected)} rows loaded into Orders, 0 rejected." in \
        page.get_by_test_id("stAlertContentSuccess").inner_text()
    con = duckdb.connect(str(own_app.db), read_only=True)
    try:
        got = con.execute("select order_id, customer_id, amount from orders where order_id like 'N_' order by 1").fetchall()
    finally:
        con.close()
    assert got == [(r[0], r[1], float(r[3])) for r in expected]
