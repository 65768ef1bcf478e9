"""At the default period with the default settings and no filter, the ladder summary, the customer table and triage
read each customer's measures (rung, ABC class, RFM scores, quadrant, CLV) from mart_loyalty_customers, kept at load,
and give the same figures as the pieces worked out per query (mart_customer_period, mart_order_days and the live
inputs), on demo data with refunds, orders without a cost, surveys, complaints and referrals. Any other period, setting
or filter works them out per query."""

import datetime as dt
import json

import pytest

from crmlens import loyalty, model, period, queries
from tests import test_loyalty_end_marts as end_marts

CUSTOMER_TABLE, same = end_marts.CUSTOMER_TABLE, end_marts.same
demo_snap = end_marts.demo_snap  # the same demo data: refunds, orders without a cost, surveys, complaints, referrals


def every_way(snap, name, params, monkeypatch):
    """The query from mart_loyalty_customers, then worked out per query from mart_customer_period, from
    mart_order_days and from the order lines (never the summary's rows kept for the page as it opens:
    tests/test_loyalty_kept.py)."""
    monkeypatch.setattr(model, "USE_KEPT_VIEWS", False)
    assert model.default_measures(snap, name, params) == "default"
    assert "from mart_loyalty_customers" in queries.prepared(name, params, snap)[0]
    assert "from mart_loyalty_customers" in queries.sql_text(name, from_marts="default")
    assert "from stg_orders" not in queries.sql_text(name, from_marts="default")
    out = [queries.run(name, params, snap=snap)]
    monkeypatch.setattr(model, "USE_DEFAULT_MART", False)
    assert model.default_measures(snap, name, params) is False
    out.append(queries.run(name, params, snap=snap))
    monkeypatch.setattr(model, "USE_PERIOD_MART", False)
    out.append(queries.run(name, params, snap=snap))
    monkeypatch.setattr(model, "USE_END_MARTS", False)
    out.append(queries.run(name, params, snap=snap))
    monkeypatch.undo()
    return out


def default_params(snap, **changes):
    start, end = period.default_period(snap)
    return {**queries.DEFAULT_PARAMS, **loyalty.params(start, end), **changes}


def test_the_default_view_from_the_mart_is_the_one_worked_out_per_query(demo_snap, monkeypatch):
    p = default_params(demo_snap)
    summary, *others = every_way(demo_snap, "loyalty_summary", p, monkeypatch)
    total = summary[summary["kind"] == "total"].iloc[0]
    assert total["n_customers"] > 300 and total["n_lapsed"] > 0 and total["n_active_year"] > 0
    assert set(summary["kind"]) == {"rung", "abc", "rfm", "rfm_grid", "quadrant", "segment", "channel", "pareto", "total"}
    for other in others:
        same(summary, other)
    triage, *others = every_way(demo_snap, "loyalty_triage", p, monkeypatch)
    assert triage["n_customers"].sum() == total["n_customers"]
    for other in others:
        same(triage, other)
    customers, *others = every_way(demo_snap, "loyalty_customers", {**p, **CUSTOMER_TABLE}, monkeypatch)
    assert len(customers) == total["n_customers"]
    for other in others:
        same(customers, other)


@pytest.mark.parametrize("table", [
    {"search": "1", "sort": "clv", "limit": 7, "offset": 3},
    {"states": ["client", "lost"], "sort": "recency", "limit": 20},
    {"abc_classes": ["A"], "rfm_segments": ["champions", "loyal", "potential"], "sort": "revenue_period"},
    {"quadrants": ["key", "dog"], "sort": "customer_id", "limit": 5, "offset": 10},
])
def test_the_customer_table_searched_filtered_sorted_and_paged_reads_the_mart(demo_snap, monkeypatch, table):
    """The table's own choices (search, states, classes, segments, quadrants, sort, page) pick rows of the measures:
    the mart still answers, with the rows the per-query pieces give."""
    p = {**default_params(demo_snap), **CUSTOMER_TABLE, **table}
    page, *others = every_way(demo_snap, "loyalty_customers", p, monkeypatch)
    assert len(page) > 0
    for other in others:
        same(page, other)


def other_settings(snap):
    start, end = period.default_period(snap)
    day = dt.timedelta(days=1)
    return [
        {"segment": ["business"]}, {"owner": ["Li Wei"]}, {"region": ["North"]}, {"channel": ["online"]},
        {"start": start + day}, {"end": end - day, "start": start - day},
        {"survey_days": 90}, {"min_orders_client": 3}, {"churn_days": 60}, {"churn_multiplier": 2.0},
        {"use_partner_flag": False}, {"margin_rate": 0.35}, {"margin_fallback": 0.2}, {"measure": "profit"},
        {"abc_a": 70}, {"top_pct": 10}, {"value_pct": 60}, {"risk_measure": "complaints"}, {"risk_days": 60},
        {"discount_rate": 8}, {"horizon_years": 5}, {"marketing_cost": 100}, {"risk_cost_pct": 5},
    ]


@pytest.mark.parametrize("case", range(23))
def test_any_other_period_setting_or_filter_works_them_out_per_query(demo_snap, case):
    change = other_settings(demo_snap)[case]
    p = default_params(demo_snap, **change)
    for name in model.END_QUERIES:
        assert model.default_measures(demo_snap, name, p) is False, (name, change)
    assert "from mart_loyalty_customers" not in queries.sql_text(
        "loyalty_summary", model.end_marts(demo_snap, "loyalty_summary", p))


def test_the_page_s_numbers_as_floats_still_read_the_mart(demo_snap):
    """The page's number boxes give 10.0 where the defaults say 10, and dates may come as timestamps: the same
    settings."""
    p = default_params(demo_snap)
    as_floats = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in p.items()}
    assert model.default_measures(demo_snap, "loyalty_summary", as_floats) == "default"
    assert model.default_measures(demo_snap, "loyalty_summary", {**p, "start": dt.datetime.combine(p["start"], dt.time())}) \
        == "default"


def test_the_mart_keeps_every_known_customer_and_the_settings_it_was_built_with(demo_snap):
    start, end = period.default_period(demo_snap)
    kept = demo_snap.query("select count(*) as n, count(distinct customer_id) as ids, min(as_of) as first, "
                           "max(as_of) as last, count(distinct settings) as n_settings, any_value(settings) as settings "
                           "from mart_loyalty_customers").iloc[0]
    assert kept["n"] == kept["ids"] and kept["first"].date() == kept["last"].date() == end
    assert kept["n_settings"] == 1
    settings = json.loads(kept["settings"])
    assert settings["start"] == start.isoformat() and settings["end"] == end.isoformat()
    assert settings["survey_days"] == loyalty.DEFAULTS["survey_days"] and settings["segment"] == []
    # every parameter the replaced pieces read is among the settings, so none can differ unseen
    pieces = "\n".join(queries.expand(f"-- include: {piece}", (), model.PERIOD_PIECES) for piece in model.DEFAULT_PIECES)
    assert set(queries.parameters(pieces)) - {"use_spells_mart"} == set(settings)


def test_without_orders_the_mart_is_never_read(tmp_path):
    """No order: no default period to keep the measures at. The mart is built empty with no settings, so no
    parameters can match it, and the page's queries work the (few) customers out per query: C1 and C2 are prospects."""
    from crmlens import ingest, store

    path = tmp_path / "customers.csv"
    path.write_text("customer_id,signup_date\nC1,2026-03-01\nC2,2026-04-15\n", encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    ingest.load_files([path], db=db)
    snap = store.snapshot(db)
    assert snap.query("select count(*) as n from mart_loyalty_customers").iloc[0]["n"] == 0
    p = default_params(snap)
    assert model.default_measures(snap, "loyalty_summary", p) is False
    summary = queries.run("loyalty_summary", p, snap=snap)
    rungs = summary[summary["kind"] == "rung"].set_index("key")["n_customers"]
    assert rungs.to_dict() == {"prospect": 2}
