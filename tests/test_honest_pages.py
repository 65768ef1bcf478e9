"""Issue 16, defects 4 and 6 in AppTest: what a page says when the data cannot tell, and no silent omissions."""

from __future__ import annotations

import pathlib

from crmlens import empty, ingest, queries, store
from tests.conftest import app_test

PERIOD = ["2024-01-01", "2024-12-31"]


def write(tmp_path: pathlib.Path, name: str, text: str) -> pathlib.Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_drivers_name_the_columns_they_skip(monkeypatch, tmp_path):
    # 40 customers, each with its own "note" (40 values > 30: skipped) and one of two tiers (compared)
    customers = "customer_id,segment,tier,note\n" + "".join(
        f"C{i},{'business' if i % 2 else 'consumer'},{'gold' if i % 3 else 'silver'},note {i}\n" for i in range(40))
    orders = "order_id,customer_id,order_date,amount\n" + "".join(
        f"O{i},C{i},2024-0{1 + i % 6}-10,100\n" for i in range(40))
    db = tmp_path / "d.duckdb"
    ingest.load_files([write(tmp_path, "customers.csv", customers), write(tmp_path, "orders.csv", orders)], db=db)
    # segment and tier: 2 values each; note: 40 distinct values, more than the 30 compared
    skipped = queries.run("churn_drivers_skipped", {"max_levels": 30}, snap=store.snapshot(db))
    assert list(skipped.itertuples(index=False, name=None)) == [("note", 40)]
    assert list(queries.run("churn_drivers_skipped", {"max_levels": 1}, snap=store.snapshot(db))["attribute"]) == [
        "note", "segment", "tier"]
    monkeypatch.setenv("CRMLENS_DB", str(db))
    at = app_test("churn", period=PERIOD, churn_tab="Drivers")
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "Not compared, more than 30 different values each" in captions
    assert "note (40)" in captions and "tier" not in captions.split("Not compared", 1)[1].split(".")[0]


def test_complaints_without_resolution_dates_show_no_breach_rate(monkeypatch, tmp_path):
    complaints = "complaint_id,created_at,category,severity\n" + "".join(
        f"K{i},2024-0{1 + i % 9}-0{1 + i % 9} 10:00,price,high\n" for i in range(20))
    db = tmp_path / "c.duckdb"
    ingest.load_files([write(tmp_path, "complaints.csv", complaints)], db=db)
    monkeypatch.setenv("CRMLENS_DB", str(db))
    at = app_test("complaints", period=PERIOD)
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Open now"] == "–" and shown["SLA breach rate"] == "–"  # not 20 open and 100% breached
    assert any("No resolution dates in the data" in w.value for w in at.warning)
    assert not any("aged up to –" in c.value for c in at.caption)


def test_owner_concentration_without_revenue_is_not_a_green_light(monkeypatch, tmp_path):
    opportunities = "opportunity_id,stage,created_date,owner,amount\n" + "".join(
        f"P{i},{'won' if i % 2 else 'lost'},2024-03-0{1 + i % 9},{'Amy' if i % 3 else 'Bob'},1000\n" for i in range(12))
    db = tmp_path / "o.duckdb"
    ingest.load_files([write(tmp_path, "opportunities.csv", opportunities)], db=db)
    monkeypatch.setenv("CRMLENS_DB", str(db))
    at = app_test("funnel", period=PERIOD, funnel_tab="Owner risk")
    assert not at.exception, [e.value for e in at.exception]
    assert not any("No owner holds" in s.value for s in at.success)
    assert any("No revenue in the data" in i.value for i in at.info)


def test_an_admin_without_data_gets_a_button_that_loads_the_demo(monkeypatch, tmp_path):
    monkeypatch.setenv("CRMLENS_DB", str(tmp_path / "none.duckdb"))
    monkeypatch.setattr(empty, "DEMO_CUSTOMERS", 120)
    at = app_test("overview")
    assert not at.exception, [e.value for e in at.exception]
    assert "python -m crmlens" not in " ".join(i.value for i in at.info)
    at.button(key="load_demo_data").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Overview"
    assert {m.label: m.value for m in at.metric}["Customers"] != "–"
