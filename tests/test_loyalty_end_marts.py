"""The ladder summary, the customer table and triage read their rung inputs at the period end from marts
(loyalty_rung_inputs_end: order facts per customer from mart_customer_period at the default period, else summed from
mart_order_days; first seen from mart_customers) instead of the order lines, and give the same figures as the live
inputs (loyalty_rung_inputs) on demo data, for every setting the page offers: the period (the default one, a month
end, a mid-month end, a short period), the filters, the survey window, the margin and the value measure."""

import datetime as dt

import pytest

from crmlens import churn, loyalty, model, period, queries
from tests.conftest import assert_same_frames, demo_with_order_quirks

CUSTOMER_TABLE = {"search": "", "states": [], "abc_classes": [], "rfm_segments": [], "quadrants": [],
                  "sort": "lifetime", "limit": 100_000, "offset": 0}


@pytest.fixture(scope="module")
def demo_snap(tmp_path_factory):
    # a history ending mid-month, with cancelled and returned orders, surveys, complaints, referrals, partners; every
    #   third order line loses its cost and every 17th becomes a refund line (a negative amount, not void)
    return demo_with_order_quirks(tmp_path_factory, "loyalty_end_marts", seed=11, end_date=dt.date(2026, 9, 13))


def both(snap, name, params, monkeypatch, variant=True):
    """The query read from the marts (the way `variant` names, which it must be), summed from mart_order_days when that
    is not already the way, and from the live inputs: [marts, (order days,) live]."""
    assert model.end_marts(snap, name, params) == variant, f"{name} does not read the marts as expected"
    assert "from stg_orders" not in queries.sql_text(name, from_marts=variant)
    assert ("from mart_customer_period" if variant == "period" else "from mart_order_days") in queries.sql_text(
        name, from_marts=variant)
    out = [queries.run(name, params, snap=snap)]
    if variant == "period":
        monkeypatch.setattr(model, "USE_PERIOD_MART", False)
        out.append(queries.run(name, params, snap=snap))
        monkeypatch.setattr(model, "USE_PERIOD_MART", True)
    monkeypatch.setattr(model, "USE_END_MARTS", False)
    assert "from stg_orders" in queries.sql_text(name)
    out.append(queries.run(name, params, snap=snap))
    monkeypatch.setattr(model, "USE_END_MARTS", True)
    return out


def same(a, b):
    """Sums of doubles over the same orders may differ in their last bits (summed per day)."""
    assert_same_frames(a, b, abs_tol=1e-6)


def settings_cases(snap):
    start, end = period.default_period(snap)
    month_end = dt.date(end.year, end.month, 1) - dt.timedelta(days=1)
    return [
        ("default", start, end, {}, {}),
        ("default period, profit, typed margin, filtered", start, end,
         {"measure": "profit", "margin_pct": 42.5, "survey_days": 60, "risk_measure": "complaints"},
         {"segment": ["business", "consumer"], "owner": ["Li Wei", "Zhang Min", "Wang Fang"]}),
        ("month end, profit, typed margin", dt.date(month_end.year - 1, month_end.month, 1), month_end,
         {"measure": "profit", "margin_pct": 35.0}, {}),
        ("mid-month, short period, surveys 90 days", end - dt.timedelta(days=120), end - dt.timedelta(days=40),
         {"survey_days": 90, "min_orders_client": 3, "churn_days": 60, "risk_measure": "complaints"}, {}),
        ("filtered, other rules", start, end,
         {"satisfaction_min": 3, "nps_advocate_min": 8, "use_partner_flag": False, "margin_pct": 0.0},
         {"segment": ["business", "distributor"], "channel": ["online"]}),
        ("two years back", start - dt.timedelta(days=730), end - dt.timedelta(days=730), {}, {"region": ["North"]}),
    ]


@pytest.mark.parametrize("case", range(6))
def test_summary_triage_and_customers_from_the_marts_are_the_live_ones(demo_snap, monkeypatch, case):
    label, start, end, settings, filters = settings_cases(demo_snap)[case]
    variant = "period" if (start, end) == period.default_period(demo_snap) else True
    p = loyalty.params(start, end, settings, filters)
    summary, *others = both(demo_snap, "loyalty_summary", p, monkeypatch, variant)
    total = summary[summary["kind"] == "total"].iloc[0]
    assert total["n_customers"] > 20, label  # the case has customers to compare
    assert total["amt_revenue_period"] > 0 and total["n_active_year"] > 0, label
    for other in others:
        same(summary, other)
    triage, *others = both(demo_snap, "loyalty_triage", p, monkeypatch, variant)
    for other in others:
        same(triage, other)
    customers, *others = both(demo_snap, "loyalty_customers", {**p, **CUSTOMER_TABLE}, monkeypatch, variant)
    assert len(customers) == total["n_customers"]
    for other in others:
        same(customers, other)


def test_only_the_default_period_reads_the_per_customer_mart(demo_snap):
    """mart_customer_period was built for the period the pages open with; a period a day longer or shorter sums
    mart_order_days."""
    start, end = period.default_period(demo_snap)
    assert model.end_marts(demo_snap, "loyalty_summary", loyalty.params(start, end)) == "period"
    assert demo_snap.query("select max(as_of) as d from mart_customer_period").iloc[0]["d"].date() == end
    day = dt.timedelta(days=1)
    for other in ((start - day, end), (start + day, end), (start, end - day), (start + day, end + day)):
        assert model.end_marts(demo_snap, "loyalty_summary", loyalty.params(*other)) is True, other
    assert model.end_marts(demo_snap, "loyalty_movements", loyalty.params(start, end)) is False


def test_the_cases_exercise_refunds_costs_surveys_and_complaints(demo_snap):
    """The demo data the comparison runs on has what the inputs read: refunds, cancelled lines, orders with and
    without a cost, surveys, open complaints and referrals (else the comparison would prove little)."""
    facts = demo_snap.query(
        "select count(*) filter (where is_refund) as refunds, count(*) filter (where is_void) as voids, "
        "count(*) filter (where cost is null and not is_void) as no_cost, "
        "count(*) filter (where cost is not null and not is_void) as with_cost from stg_orders").iloc[0]
    assert facts["refunds"] > 0 and facts["voids"] > 0 and facts["no_cost"] > 0 and facts["with_cost"] > 0
    others = demo_snap.query(
        "select (select count(*) from stg_surveys) as surveys, (select count(*) from stg_complaints where not is_closed)"
        " as open_complaints, (select count(*) from stg_customers where referred_by is not null) as referred").iloc[0]
    assert others["surveys"] > 0 and others["open_complaints"] > 0 and others["referred"] > 0


CLV_BASIS = ["n_prev_active", "n_retained", "rate_retention", "n_active_year", "amt_margin_year_per_active"]


@pytest.mark.parametrize("case", range(6))
def test_the_churn_what_if_reckons_the_ladders_clv_basis(demo_snap, monkeypatch, case):
    """One yearly retention and margin per customer: clv_basis (the Churn page's what-if) gives the Loyalty ladder's
    total row for every period, filter, rule and margin setting, and its retention is 1 - the Churn page's 12-month
    churn rate. Before, the what-if took 1 - the 12-month churn rate (50.9% on a demo) where the ladder counted the
    buyers of the year before last who bought again (74.1%, customers the same page called lost among them), and the
    same customers had two lifetime values."""
    label, start, end, settings, filters = settings_cases(demo_snap)[case]
    p = loyalty.params(start, end, settings, filters)
    total = queries.run("loyalty_summary", p, snap=demo_snap).query("kind == 'total'").iloc[0]
    # a retention to compare; two years back the history is too short: no retention on either
    assert total["n_prev_active"] > 10 or (label == "two years back" and total["n_prev_active"] == 0), label
    variant = "period" if (start, end) == period.default_period(demo_snap) else True
    assert model.end_marts(demo_snap, "clv_basis", p) == variant
    basis = queries.run("clv_basis", p, snap=demo_snap).iloc[0]
    monkeypatch.setattr(model, "USE_END_MARTS", False)
    from_days = queries.run("clv_basis", p, snap=demo_snap).iloc[0]
    for column in CLV_BASIS:
        assert basis[column] == pytest.approx(float(total[column]), rel=1e-9, nan_ok=True), (label, column)
        assert from_days[column] == pytest.approx(float(total[column]), rel=1e-9, nan_ok=True), (label, column)
    # ... and the retention is 1 - the Churn page's 12-month churn rate, over the same customers
    monkeypatch.setattr(model, "USE_END_MARTS", True)
    churned = queries.run("churn_summary", churn.query_params(start, end, "orders", p["churn_days"], p["churn_multiplier"],
                                                              **filters), snap=demo_snap).iloc[0]
    assert (basis["n_prev_active"], basis["n_retained"]) == (churned["n_base_12m"], churned["n_kept_12m"]), label
    assert basis["rate_retention"] == pytest.approx(1 - churned["rate_churn_12m"], nan_ok=True), label
