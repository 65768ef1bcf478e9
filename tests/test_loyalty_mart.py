"""mart_loyalty_months: the loyalty rung inputs kept at every month end give the same movements, flows and climbs
as the live inputs, on demo data (every rule of the demo exercised: surveys, complaints, referrals, partners)."""

import datetime as dt

import pytest

from crmlens import demo, ingest, loyalty, model, period, queries, store

MART_QUERIES = ("loyalty_movements", "loyalty_flow_customers", "loyalty_climb")


@pytest.fixture(scope="module")
def demo_snap(tmp_path_factory):
    db = tmp_path_factory.mktemp("loyalty_mart") / "demo.duckdb"
    # a history ending mid-month: the default period ends on a day that is not a month end
    ingest.load_tables(demo.generate(n_customers=400, seed=7, end_date=dt.date(2026, 10, 17)), db=db)
    return store.snapshot(db)


def both(snap, name, params, monkeypatch):
    """The query read from the mart (which must be used) and live."""
    assert model.use_loyalty_mart(snap, name, params), f"{name} did not read the mart"
    from_mart = queries.run(name, params, snap=snap)
    monkeypatch.setattr(model, "USE_LOYALTY_MART", False)
    live = queries.run(name, params, snap=snap)
    monkeypatch.setattr(model, "USE_LOYALTY_MART", True)
    return from_mart, live


def same(a, b):
    """Equal row for row; revenue sums over the same orders may differ in the last bits of a double."""
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for col in a.columns:
        if a[col].dtype.kind == "f":
            assert a[col].to_numpy() == pytest.approx(b[col].to_numpy(), rel=1e-12, abs=1e-9, nan_ok=True), col
        else:
            assert a[col].tolist() == b[col].tolist(), col


@pytest.mark.parametrize("grain", ["month", "quarter"])
def test_movements_and_flows_from_the_mart_are_the_live_ones(demo_snap, monkeypatch, grain):
    start, end = period.default_period(demo_snap)
    assert (end + dt.timedelta(days=1)).day != 1  # the mart keeps that day besides the month ends
    p = {**loyalty.params(start, end), "grain": grain}
    from_mart, live = both(demo_snap, "loyalty_movements", p, monkeypatch)
    assert from_mart["n_customers"].sum() > 400 and set(from_mart["direction"]) >= {"joined", "climbed", "left"}
    same(from_mart, live)
    # the biggest moving flow of the last step, and its customers with their revenue between the dates
    last = from_mart[(from_mart["to_date"] == from_mart["to_date"].max()) & (from_mart["direction"] != "stayed")]
    flow = last.sort_values("n_customers").iloc[-1]
    q = {**p, "from_date": flow["from_date"].date(), "to_date": flow["to_date"].date(), "from_state": flow["from_state"],
         "to_state": flow["to_state"], "limit": 1000, "offset": 0}
    who_mart, who_live = both(demo_snap, "loyalty_flow_customers", q, monkeypatch)
    assert len(who_mart) == flow["n_customers"]
    same(who_mart, who_live)


def test_climbs_from_the_mart_are_the_live_ones_with_other_settings(demo_snap, monkeypatch):
    start, end = period.default_period(demo_snap)
    for settings in ({}, {"min_orders_client": 3, "survey_days": 90, "churn_days": 60, "use_partner_flag": False}):
        p = loyalty.params(start, end, settings)
        from_mart, live = both(demo_snap, "loyalty_climb", p, monkeypatch)
        assert from_mart["n_entered"].sum() > 0
        same(from_mart, live)


def test_filtered_and_month_end_periods_read_the_mart_other_ends_do_not(demo_snap, monkeypatch):
    start, end = period.default_period(demo_snap)
    month_end = dt.date(end.year, end.month, 1) - dt.timedelta(days=1)
    p = {**loyalty.params(dt.date(month_end.year - 1, month_end.month, 1), month_end,
                          {"satisfaction_min": 3, "nps_advocate_min": 8}, {"segment": ["business", "distributor"]}),
         "grain": "month"}
    same(*both(demo_snap, "loyalty_movements", p, monkeypatch))
    mid_month = {**p, "end": month_end - dt.timedelta(days=3)}
    assert not model.use_loyalty_mart(demo_snap, "loyalty_movements", mid_month)
    assert not model.use_loyalty_mart(demo_snap, "loyalty_summary", loyalty.params(start, end))
    monkeypatch.setattr(model, "USE_LOYALTY_MART", False)
    assert not model.use_loyalty_mart(demo_snap, "loyalty_movements", p)
