"""Side files: lists keyed by a column the data already has load as attributes of that key.

The three side files of Maven Analytics' "CRM Sales Opportunities" sample (accounts keyed by account,
products keyed by product, sales teams keyed by sales agent; headers as published), a few rows each,
with a pipeline export and orders that name the same accounts, products and agents.
"""

from __future__ import annotations

import datetime as dt

from crmlens import churn, ingest, queries, store, versions
from tests.conftest import fetch

PIPELINE = ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
            "O1,Anna Snelling,GTX Basic,Acme,Won,2024-01-05,2024-02-01,550\n"
            "O2,Cecily Lampkin,MG Special,Betasoloin,Lost,2024-01-08,2024-02-10,0\n"
            "O3,Anna Snelling,MG Special,Acme,Engaging,2024-02-01,,\n")
ACCOUNTS = ("account,sector,year_established,revenue,employees,office_location,subsidiary_of\n"
            "Acme,technolgy,1996,1100.04,2822,United States,\nBetasoloin,medical,1999,251.41,495,United States,\n")
PRODUCTS = "product,series,sales_price\nGTX Basic,GTX,550\nMG Special,MG,55\n"
TEAMS = ("sales_agent,manager,regional_office\nAnna Snelling,Dustin Brinkmann,Central\n"
         "Cecily Lampkin,Melvin Marxen,East\n")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_side_files_are_recognised_and_stored_as_attributes(tmp_path):
    db = tmp_path / "crm.duckdb"
    results = ingest.load_files([write(tmp_path, n, t) for n, t in (
        ("sales_pipeline.csv", PIPELINE), ("accounts.csv", ACCOUNTS), ("products.csv", PRODUCTS),
        ("sales_teams.csv", TEAMS))], db=db)
    assert [(r.file_name, r.table, r.n_loaded) for r in results] == [
        ("sales_pipeline.csv", "opportunities", 3), ("accounts.csv", "customers", 2),
        ("products.csv", "product_attributes", 2), ("sales_teams.csv", "owners", 2)]
    assert results[2].mapping == {"product": "product"} and results[3].mapping == {"owner": "sales_agent"}
    # Their columns become columns of what they describe, for the pages' breakdowns.
    assert fetch(db, "select opportunity_id, manager, regional_office, series from stg_opportunities order by 1") == [
        ("O1", "Dustin Brinkmann", "Central", "GTX"), ("O2", "Melvin Marxen", "East", "MG"),
        ("O3", "Dustin Brinkmann", "Central", "MG")]
    assert fetch(db, "select customer_id, sector from stg_customers order by 1") == [("Acme", "technolgy"),
                                                                                     ("Betasoloin", "medical")]


def test_product_attributes_are_churn_drivers(tmp_path):
    db = tmp_path / "crm.duckdb"
    orders = ("order_id,customer_id,order_date,amount,product\nA1,C1,2024-01-01,10,GTX Basic\n"
              "A2,C2,2024-01-02,20,MG Special\nA3,C2,2024-03-01,20,MG Special\n")
    ingest.load_files([write(tmp_path, "orders.csv", orders), write(tmp_path, "products.csv", PRODUCTS)], db=db)
    drivers = queries.run("churn_drivers", churn.query_params(dt.date(2024, 1, 1), dt.date(2024, 3, 31), "orders", 30, 0),
                          snap=store.snapshot(db))
    assert set(drivers.loc[drivers["attribute"] == "series", "value"]) == {"GTX", "MG"}


def test_a_side_file_is_replaced_and_rolled_back_like_any_table(tmp_path):
    db = tmp_path / "crm.duckdb"
    ingest.load_files([write(tmp_path, "products.csv", PRODUCTS)], db=db)
    ingest.load_files([write(tmp_path, "products.csv", "product,series\nGTX Basic,GTX2\n")], db=db)
    assert fetch(db, "select product, series from product_attributes") == [("GTX Basic", "GTX2")]
    versions.rollback(1, db)
    assert fetch(db, "select count(*) from product_attributes") == [(2,)]


def test_an_orders_export_without_amounts_is_still_refused(tmp_path):
    # Missing one required column: refused as before, never taken for a customer list.
    import pytest
    with pytest.raises(ingest.IngestError, match="amount"):
        ingest.load_files([write(tmp_path, "orders.csv", "customer_id,order_id,order_date\nC1,O1,2024-01-01\n")],
                          db=tmp_path / "crm.duckdb")


def test_side_file_columns_are_funnel_breakdowns(tmp_path):
    from crmlens import funnel
    db = tmp_path / "crm.duckdb"
    ingest.load_files([write(tmp_path, n, t) for n, t in (
        ("sales_pipeline.csv", PIPELINE), ("products.csv", PRODUCTS), ("sales_teams.csv", TEAMS))], db=db)
    snap = store.snapshot(db)
    # the owners list's own column (branch) and the file's others, then the product list's
    assert list(queries.run("funnel_attributes", snap=snap)["column_name"]) == ["branch", "manager", "regional_office",
                                                                              "series", "sales_price"]
    params = funnel.params(dt.date(2024, 1, 1), dt.date(2024, 12, 31), ["engaging", "won"], ["won"], ["lost"])
    # O1 (won, 550) and O3 (open) are Anna Snelling's: Dustin Brinkmann; O2 (lost) Cecily Lampkin's: Melvin Marxen.
    by_manager = queries.run("funnel_breakdown", {**params, "by": "manager"}, snap=snap).set_index("grp")
    assert by_manager.loc["Dustin Brinkmann", ["n_opportunities", "n_won", "n_open"]].tolist() == [2, 1, 1]
    assert by_manager.loc["Melvin Marxen", ["n_opportunities", "n_lost"]].tolist() == [1, 1]
    # Series: GTX (O1), MG (O2, O3).
    by_series = queries.run("funnel_breakdown", {**params, "by": "series"}, snap=snap).set_index("grp")
    assert by_series["n_opportunities"].to_dict() == {"GTX": 1, "MG": 2}
    stages = queries.run("funnel_breakdown_stages", {**params, "by": "series", "top_n": 5}, snap=snap)
    assert set(stages["grp"]) == {"GTX", "MG"}
    # The five dimensions are read as before.
    by_owner = queries.run("funnel_breakdown", {**params, "by": "owner"}, snap=snap).set_index("grp")
    assert by_owner["n_opportunities"].to_dict() == {"Anna Snelling": 2, "Cecily Lampkin": 1}


def test_the_data_page_lists_the_side_tables(tmp_path):
    db = tmp_path / "crm.duckdb"
    ingest.load_files([write(tmp_path, "products.csv", PRODUCTS), write(tmp_path, "sales_teams.csv", TEAMS)], db=db)
    span = queries.run("data_span", snap=store.snapshot(db)).set_index("table_name")["n_rows"]
    assert (span["product_attributes"], span["owners"], span["orders"]) == (2, 2, 0)
