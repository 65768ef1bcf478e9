"""The Data page's importer in a real browser (issue 15): the column mapping panel stays open
while the user works in it, and doubtful guesses are pointed out, not taken."""

from __future__ import annotations

import csv
import re

import duckdb

from tests.browser.conftest import choose, open_page, wait_for_app
from tests.test_importer_defects import CFPB


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
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(export))
    wait_for_app(page)
    page.get_by_text("Column mapping", exact=True).click()
    region = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("region", exact=True))
    assert region.is_visible()
    choose(page, "region", "片区")  # a change reruns the page: the panel is still open
    assert region.is_visible()
    assert page.get_by_text("3 of 14 columns matched", exact=True).is_visible()
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
    export.write_text(CFPB, encoding="utf-8")
    with open(export, newline="", encoding="utf-8") as fh:
        expected = list(csv.DictReader(fh))
    open_page(page, f"{own_app.url}/data")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(export))
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
