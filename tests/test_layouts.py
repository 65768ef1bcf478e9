"""Known export layouts (crmlens/layouts.json): each recognised by its headers and loaded in one go.

Each layout has a small file made from the platform's documented export columns in
tests/fixtures/layouts/<id>.csv (ServiceNow's field-name layout uses the real public export in
../shared/data/public); the expected figures are worked out here by hand from those rows, and for
the real export with the csv module.
"""

from __future__ import annotations

import csv
import pathlib

import pytest

from crmlens import contract, ingest
from crmlens.ingest import layouts
from tests.conftest import PUBLIC_DATA, fetch

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "layouts"

# layout id -> (rows loaded, headline SQL on the model, its value worked out by hand)
REVENUE = "select round(sum(amt_revenue), 2) from stg_orders"
OPEN = "select count(*) filter (where not is_closed) from stg_complaints"
WON = "select count(*) filter (where status = 'won') from stg_opportunities"
CUSTOMERS = "select count(*) from stg_customers"
EXPECTED = {
    "salesforce_opportunity_report": (3, WON, 1),  # Closed Won: Acme
    "salesforce_opportunity_api": (2, WON, 1),
    "hubspot_deals": (3, WON, 1),  # Closed won: Acme expansion
    "zendesk_tickets": (3, OPEN, 1),  # 102: open, not solved
    "servicenow_incident_list": (3, OPEN, 1),  # INC0010002: In Progress
    "cfpb_complaints": (3, OPEN, 1),  # 8500002: In progress
    # #1001: 2 x 40 + 1 x 50 = 130; #1002 refunded; #1003: 3 x 40 = 120 (lines: quantity x Lineitem price)
    "shopify_orders": (3, REVENUE, 250.0),
    "woocommerce_orders": (3, REVENUE, 90.5),  # 55 + 35.50; 3002 cancelled
    "taobao_order_report": (3, REVENUE, 428.0),  # 128 + 300; 2893002 交易关闭 (paid 0)
    "jd_orders": (3, REVENUE, 597.0),  # 199 + 398; 300002 已取消
    "youzan_orders": (3, REVENUE, 153.0),  # 98 + 55; the closed one paid 0
    # 6917...01: two sub-orders 49.90 + 29.90; ...02 已关闭 (refunded) is no revenue; ...03: 59.00
    "douyin_orders": (3, REVENUE, 138.8),
    "wecom_customers": (3, CUSTOMERS, 3),
    "dingtalk_crm_customers": (3, CUSTOMERS, 3),
    "yonyou_crm_opportunities": (3, WON, 1),  # 赢单
    "kingdee_crm_opportunities": (2, WON, 1),
}


def test_catalogue_is_well_formed():
    ids = [lay.id for lay in layouts.catalogue()]
    assert len(ids) == len(set(ids))
    for lay in layouts.catalogue():
        table = contract.TABLES[lay.table]
        assert set(lay.columns) <= {c.name for c in table.columns}, lay.id
        assert len(lay.recognise) >= 3, lay.id
        assert lay.name.get("en") and lay.name.get("zh") and lay.source, lay.id
    # Every layout has a test file, and no two layouts recognise the same file.
    assert set(EXPECTED) | {"servicenow_incident_api"} == set(ids)
    assert layouts.recognise(next(csv.reader(open(FIXTURES / "cfpb_complaints_real.csv", encoding="utf-8")))).id \
        == "cfpb_complaints"


@pytest.mark.parametrize("layout_id", sorted(EXPECTED))
def test_layout_is_recognised_and_loads(tmp_path, layout_id):
    path = FIXTURES / f"{layout_id}.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        headers = next(csv.reader(fh))
    assert layouts.recognise(headers).id == layout_id
    db = tmp_path / "crm.duckdb"
    [result] = ingest.load_files([path], db=db)
    layout = layouts.by_id(layout_id)
    assert (result.layout, result.table) == (layout_id, layout.table)
    named = {c: h for c, h in layouts.mapping_for(layout, headers).items() if h}
    assert named.items() <= result.mapping.items()
    assert not {c for c, h in layout.columns.items() if h is None} & set(result.mapping)
    n_loaded, sql, value = EXPECTED[layout_id]
    assert (result.n_loaded, result.n_rejected) == (n_loaded, 0)
    assert fetch(db, sql) == [(value,)]


def test_shopify_lines_fold_into_orders(tmp_path):
    db = tmp_path / "crm.duckdb"
    [result] = ingest.load_files([FIXTURES / "shopify_orders.csv"], db=db)
    assert (result.n_lines, result.n_loaded) == (4, 3)
    assert fetch(db, "select order_id, customer_id, amount, status from orders order by 1") == [
        ("#1001", "ann@example.com", 130.0, "paid"), ("#1002", "bo@example.com", 80.0, "refunded"),
        ("#1003", "ann@example.com", 120.0, "paid")]


def test_real_servicenow_export_is_recognised(tmp_path):
    path = PUBLIC_DATA / "servicenow_incidents_rest.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    db = tmp_path / "crm.duckdb"
    [result] = ingest.load_files([path], db=db)
    assert result.layout == "servicenow_incident_api"
    assert result.mapping["severity"] == "priority" and "status" not in result.mapping
    # every incident loads, the 4 without a category too (their category "not given")
    assert (result.n_loaded, result.n_rejected) == (len(rows), 0) == (67, 0)
    assert fetch(db, OPEN) == [(sum(1 for r in rows if not r["resolved_at"].strip()),)]


# ServiceNow's default choice lists, as its own list export shows them (product documentation, Incident table)
SN_PRIORITY = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning"}
SN_STATE = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}


def test_servicenow_codes_are_stored_as_the_labels_servicenow_shows(tmp_path):
    """The API export gives priority 1-5 and the state as numbers; a manager reads "1 - Critical" and "Closed", as
    ServiceNow's own list export writes them. The same labels on a second load (the mapping saved by the first)."""
    path = PUBLIC_DATA / "servicenow_incidents_rest.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    expected = {
        "severity": sorted((SN_PRIORITY[r["priority"]], r["number"]) for r in rows),
        "incident_state": sorted((SN_STATE[r["incident_state"]], r["number"]) for r in rows),
        "urgency": sorted(({"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}[r["urgency"]], r["number"]) for r in rows),
    }
    assert {label for label, _ in expected["severity"]} == set(SN_PRIORITY.values())
    db = tmp_path / "crm.duckdb"
    for load in ("layout", "saved mapping"):
        [result] = ingest.load_files([path], db=db)
        assert result.layout == ("servicenow_incident_api" if load == "layout" else "")
        for column, pairs in expected.items():
            assert fetch(db, f"select {column}, complaint_id from complaints order by all") == pairs, (load, column)


def test_a_coded_header_mapped_to_a_number_keeps_its_codes(tmp_path):
    """Labels are text: ServiceNow's impact (1-3) chosen as the satisfaction score loads as numbers, never as
    "1 - High" (every row rejected) or an error."""
    path = PUBLIC_DATA / "servicenow_incidents_rest.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    db = tmp_path / "crm.duckdb"
    options = ingest.FileOptions(table="complaints", mapping={"satisfaction": "impact"}, partial=True)
    [result] = ingest.load_files([path], db=db, options=[options])
    assert (result.n_loaded, result.n_rejected) == (67, 0)
    assert fetch(db, "select complaint_id, satisfaction from complaints order by 1") == sorted(
        (r["number"], float(r["impact"])) for r in rows)


def test_a_layout_never_overrides_a_saved_mapping_or_the_users_choice(tmp_path):
    path = FIXTURES / "cfpb_complaints.csv"
    db = tmp_path / "crm.duckdb"
    options = ingest.FileOptions(table="complaints", mapping={"category": "Product"}, partial=True)
    [result] = ingest.load_files([path], db=db, options=[options])
    assert result.layout == "" and result.mapping["category"] == "Product"
    # The next file with this header is loaded with the mapping saved from that load, not the layout.
    [again] = ingest.load_files([path], db=db)
    assert again.saved_mapping and again.layout == "" and again.mapping["category"] == "Product"


def test_unknown_files_are_not_taken_for_a_layout():
    assert layouts.recognise(["order_id", "customer_id", "order_date", "amount", "status"]) is None
    assert layouts.recognise(["Name", "Email", "Created at"]) is None
