"""With a filter, or a setting only the value measures read (ABC shares, top %, value line, risk, CLV, revenue or
profit), at the default period with the default rung rules, the ladder summary, the customer table and triage read each
customer's rung, state and facts from mart_loyalty_customers (loyalty_states_mart, filtered there) and work out the
measures that rank or compare the customers in the view (ABC classes, RFM scores, Pareto buckets, quadrants,
retention) after them: the same figures as the pieces worked out per query, on a demo with refunds, orders without a
cost, guest orders, surveys, complaints and referrals. A setting the rungs read (period, rules, lost rule, survey
window, margin) works everything out per query as before."""

import datetime as dt

import pytest

from crmlens import loyalty, model, period, queries
from tests.conftest import assert_same_frames, demo_with_order_quirks

CUSTOMER_TABLE = {"search": "", "states": [], "abc_classes": [], "rfm_segments": [], "quadrants": [],
                  "sort": "lifetime", "limit": 100_000, "offset": 0}


@pytest.fixture(scope="module")
def demo_snap(tmp_path_factory):
    # a history ending mid-month; every third order line without a cost, every 17th a refund, every 23rd a guest's
    return demo_with_order_quirks(tmp_path_factory, "loyalty_states_mart", seed=5, end_date=dt.date(2026, 8, 19),
                                  guest_every=23)


def default_params(snap, settings=None, filters=None):
    start, end = period.default_period(snap)
    return {**queries.DEFAULT_PARAMS, **loyalty.params(start, end, settings, filters)}


def same(a, b):
    """Sums of doubles over the same customers may differ in their last bits (another order)."""
    assert_same_frames(a, b, abs_tol=1e-6)


def both(snap, name, params, monkeypatch):
    """The query with the rung states read from the mart, then with everything worked out per query."""
    assert model.default_measures(snap, name, params) is False
    assert model.default_states(snap, name, params) == "states"
    sql, _ = queries.prepared(name, params, snap)
    assert "from mart_loyalty_customers" in sql and "from stg_orders" not in sql and "lifetimes(" not in sql
    kept = queries.run(name, params, snap=snap)
    monkeypatch.setattr(model, "USE_STATES_MART", False)
    sql, _ = queries.prepared(name, params, snap)
    assert "from mart_loyalty_customers" not in sql and "lifetimes(" in sql
    live = queries.run(name, params, snap=snap)
    monkeypatch.undo()
    return kept, live


CASES = [  # (settings, filters): every one leaves the rungs as the mart keeps them
    ({}, {"segment": ["business"]}),
    ({}, {"region": ["North", "East"]}),
    ({}, {"channel": ["online"]}),
    ({}, {"owner": ["Li Wei", "Zhang Min"]}),
    ({}, {"segment": ["consumer"], "region": ["South"], "channel": ["store", "online"]}),
    ({"abc_a": 70, "abc_b": 20}, {}),
    ({"top_pct": 10, "value_pct": 60}, {}),
    ({"measure": "profit"}, {"segment": ["business"]}),
    ({"risk_measure": "complaints", "risk_complaints": 2}, {}),
    ({"risk_days": 60}, {"region": ["North"]}),
    ({"discount_rate": 8, "horizon_years": 5, "marketing_cost": 100, "risk_cost_pct": 5}, {}),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_a_filter_or_a_value_setting_reads_the_rungs_from_the_mart(demo_snap, monkeypatch, case):
    settings, filters = CASES[case]
    p = default_params(demo_snap, settings, filters)
    summary, live = both(demo_snap, "loyalty_summary", p, monkeypatch)
    total = summary[summary["kind"] == "total"].iloc[0]
    everyone = queries.run("loyalty_summary", default_params(demo_snap), snap=demo_snap)
    n_all = everyone[everyone["kind"] == "total"].iloc[0]["n_customers"]
    assert 10 < total["n_customers"] <= n_all and total["n_lapsed"] > 0  # the case has customers to compare
    assert (total["n_customers"] < n_all) == bool(filters)
    assert set(summary["kind"]) >= {"rung", "abc", "rfm", "quadrant", "total"}
    same(summary, live)
    triage, live = both(demo_snap, "loyalty_triage", p, monkeypatch)
    assert triage["n_customers"].sum() == total["n_customers"]
    same(triage, live)
    customers, live = both(demo_snap, "loyalty_customers", {**p, **CUSTOMER_TABLE}, monkeypatch)
    assert len(customers) == total["n_customers"]
    same(customers, live)


@pytest.mark.parametrize("table", [
    {"search": "1", "sort": "clv", "limit": 7, "offset": 3},
    {"states": ["client", "lost"], "sort": "recency", "limit": 20},
    {"abc_classes": ["A"], "rfm_segments": ["champions", "loyal", "potential"], "sort": "revenue_period"},
    {"quadrants": ["key", "dog"], "sort": "customer_id", "limit": 5, "offset": 10},
])
def test_the_filtered_customer_table_searched_sorted_and_paged(demo_snap, monkeypatch, table):
    p = {**default_params(demo_snap, {}, {"segment": ["business"]}), **CUSTOMER_TABLE, **table}
    page, live = both(demo_snap, "loyalty_customers", p, monkeypatch)
    assert len(page) > 0
    same(page, live)


def rung_settings(snap):
    start, end = period.default_period(snap)
    day = dt.timedelta(days=1)
    return [
        {"start": start + day}, {"end": end - day, "start": start - day},
        {"survey_days": 90}, {"min_orders_client": 3}, {"churn_days": 60}, {"churn_multiplier": 2.0},
        {"use_partner_flag": False}, {"margin_rate": 0.35}, {"margin_fallback": 0.2}, {"satisfaction_min": 3},
        {"nps_supporter_min": 8}, {"nps_advocate_min": 10}, {"min_referrals": 2}, {"max_unresolved": 1},
    ]


@pytest.mark.parametrize("case", range(14))
def test_a_setting_the_rungs_read_works_everything_out_per_query(demo_snap, case):
    change = rung_settings(demo_snap)[case]
    for filters in ({}, {"segment": ["business"]}):
        p = {**default_params(demo_snap, {}, filters), **CUSTOMER_TABLE, **change}
        for name in model.END_QUERIES:
            assert model.default_states(demo_snap, name, p) is False, (name, change)
            sql, _ = queries.prepared(name, p, demo_snap)
            assert "from mart_loyalty_customers" not in sql


def test_every_parameter_of_the_replaced_pieces_is_compared_or_a_filter():
    """The states variant stands for loyalty_rung_inputs (at the default period) and loyalty_rung_rules: each parameter
    they read is either compared with the mart's settings or is a filter applied in loyalty_states_mart."""
    pieces = queries.expand("-- include: loyalty_rung_inputs\n-- include: loyalty_rung_rules", (), model.PERIOD_PIECES)
    read = set(queries.parameters(pieces)) - {"use_spells_mart"}
    assert set(model.MOVES_FILTERS) <= read
    assert set(model._states_parameters()) == (read - set(model.MOVES_FILTERS)) | {"start", "end"}
    state_piece = (queries.SHARED_DIR / "loyalty_states_mart.sql").read_text(encoding="utf-8")
    assert set(queries.parameters(state_piece)) == set(model.MOVES_FILTERS)


def test_the_default_view_still_reads_the_measures_themselves(demo_snap, monkeypatch):
    """(The summary's rows as the page opens are kept at load: test_loyalty_kept.py. Here the query itself.)"""
    monkeypatch.setattr(model, "USE_KEPT_VIEWS", False)
    p = {**default_params(demo_snap), **CUSTOMER_TABLE}
    for name in model.END_QUERIES:
        assert model.default_measures(demo_snap, name, p) == "default"
        sql, _ = queries.prepared(name, p, demo_snap)
        assert "select * exclude (settings) from mart_loyalty_customers" in sql


FORMER_COVERAGE = """
select
    (select count(*) from stg_customers) as n_customer_rows,
    (select count(is_partner) from stg_customers) as n_partner_flags,
    (select count(*) filter (where is_partner) from stg_customers) as n_partners,
    (select count(referred_by) from stg_customers) as n_referred,
    (select coalesce(sum(n_lines), 0) from mart_order_dates) as n_orders,
    (select coalesce(sum(n_lines_with_cost), 0) from mart_order_dates) as n_orders_with_cost,
    (select count(*) from stg_surveys) as n_surveys,
    (select count(satisfaction) from stg_surveys) as n_surveys_satisfaction,
    (select count(nps) from stg_surveys) as n_surveys_nps,
    (select count(customer_id) from stg_complaints) as n_complaints_with_customer,
    (select count(customer_id) from stg_opportunities) as n_opportunities_with_customer
"""


def test_the_coverage_counts_in_one_pass_per_view_are_the_former_ones(demo_snap, tmp_path):
    """loyalty_coverage reads stg_customers and stg_surveys once each (it ran a scan per count): the same row, on the
    demo and on a store with customers only (no orders, surveys, complaints or opportunities)."""
    from crmlens import ingest, store

    new = queries.run("loyalty_coverage", snap=demo_snap)
    assert_same_frames(new, demo_snap.query(FORMER_COVERAGE))
    row = new.iloc[0]
    assert row["n_customer_rows"] > 300 and 0 < row["n_partners"] < row["n_partner_flags"] and row["n_surveys_nps"] > 0
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,signup_date\nC1,2026-03-01\nC2,2026-04-15\n", encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    ingest.load_files([path], db=db)
    snap = store.snapshot(db)
    new = queries.run("loyalty_coverage", snap=snap)
    assert_same_frames(new, snap.query(FORMER_COVERAGE))
    assert new.iloc[0]["n_customer_rows"] == 2 and new.iloc[0]["n_surveys"] == 0
