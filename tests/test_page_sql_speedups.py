"""The overview, funnel and churn-bucket SQL rewritten for speed (model 23) against the SQL it replaced, on a demo
with order quirks (refunds, lines without a cost, guest orders), for several periods, filters and settings.

The former SQL is kept in tests/fixtures/sql_before_model23/ (overview_kpis, funnel_stage_counts,
funnel_opportunities, churn_bucket and the pieces funnel_base and churn_spells as they were at model 22): each case runs the query as it
is now (queries.run, marts as the snapshot allows) and the former text with the same parameters, and the two must
give the same rows. What changed:
- overview_kpis counts active customers on their first order day in the period (mart_customer_days.gap_before)
  instead of a distinct count, and reads each table once for both periods;
- funnel_base reads each opportunity's status, furthest history step and close day from mart_opportunities'
  default_* columns when the stage settings are the proposed ones (model.use_funnel_mart); funnel_stage_counts sums
  the opportunities by the step they reached; funnel_opportunities orders and counts narrow rows first;
- churn_bucket counts lifetimes begun and lost per day (churn from orders) and joins new and lost lifetimes to
  their period by its month or quarter;
- churn_spells (every churn query) works out a filtered view's lifetimes for its customers alone
  (customer_spells' only_customers) instead of everybody's, then keeping theirs.
"""

import datetime as dt
import pathlib
import re

import pandas as pd
import pytest

from crmlens import churn, funnel, model, period, queries
from tests.conftest import assert_same_frames, demo_with_order_quirks, run_as_the_app

BEFORE = pathlib.Path(__file__).parent / "fixtures" / "sql_before_model23"


PIECES = ("funnel_base", "churn_spells")  # shared pieces kept as they were


def former_sql(name: str) -> str:
    """The query as it was: its former file (else today's file) with the former pieces of PIECES and today's others."""
    path = BEFORE / f"{name}.sql"
    text = path.read_text(encoding="utf-8") if path.is_file() else queries.sql_text(name)
    for piece in PIECES:
        was = (BEFORE / f"{piece}.sql").read_text(encoding="utf-8").rstrip("\n")
        if path.is_file():
            text = re.sub(rf"^[ \t]*-- include: {piece}[ \t]*$", lambda m: was, text, flags=re.M)
        else:  # today's expanded text: swap today's piece for the former one
            text = text.replace(queries.expand(f"-- include: {piece}"), was)
    return queries.expand(text)


def same(a, b) -> None:
    """assert_same_frames, with list cells (funnel_summary's outside_stages) compared as tuples."""
    def plain(frame):
        frame = frame.copy()
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(lambda v: tuple(v) if hasattr(v, "__len__") and not isinstance(v, str) else v)
        return frame
    assert_same_frames(plain(a), plain(b))


def former(snap, name: str, params: dict):
    return run_as_the_app(snap, former_sql(name), params)


@pytest.fixture(scope="module")
def demo_snap(tmp_path_factory):
    # a history ending mid-month; every third order line loses its cost, every 17th becomes a refund and every 37th
    #   a guest's (no customer id)
    return demo_with_order_quirks(tmp_path_factory, "page_sql_speedups", seed=11, end_date=dt.date(2026, 8, 17),
                                  guest_every=37)


def test_the_former_funnel_text_is_not_todays(demo_snap):
    """(The comparison below would compare a query with itself if the former piece had not been swapped in.)"""
    assert "use_funnel_mart" in queries.sql_text("funnel_summary")
    assert "use_funnel_mart" not in queries.parameters(former_sql("funnel_summary"))
    assert "default_status" not in former_sql("funnel_opportunities")


def overview_periods(snap):
    start, end = period.default_period(snap)
    return [(start, end), period.previous_period(start, end), (dt.date(2025, 11, 1), dt.date(2026, 7, 31)),
            (dt.date(2026, 3, 14), dt.date(2026, 3, 14)), (dt.date(2025, 12, 3), dt.date(2026, 2, 27)),
            (dt.date(2001, 1, 1), dt.date(2001, 12, 31))]


@pytest.mark.parametrize("case", range(6))
def test_overview_kpis_is_the_former_query(demo_snap, case):
    start, end = overview_periods(demo_snap)[case]
    params = {"start": start, "end": end}
    new = queries.run("overview_kpis", params, snap=demo_snap)
    old = former(demo_snap, "overview_kpis", params)
    assert len(new) == 2
    same(new, old)
    if case == 0:
        assert new["n_active_customers"].min() > 50 and new["n_open_opportunities"].min() > 0


@pytest.mark.parametrize("case", range(6))
def test_overview_kpis_previous_row_is_the_previous_period_run_alone(demo_snap, case):
    """The overview page takes the comparison with the days just before from the query's "previous" row instead of
    running it again on those dates: the two must be the same figures."""
    start, end = overview_periods(demo_snap)[case]
    prev_start, prev_end = period.previous_period(start, end)
    both = queries.run("overview_kpis", {"start": start, "end": end}, snap=demo_snap).set_index("period")
    alone = queries.run("overview_kpis", {"start": prev_start, "end": prev_end}, snap=demo_snap).set_index("period")
    pd.testing.assert_series_equal(both.loc["previous"], alone.loc["current"], check_names=False)
    if case in (0, 1):
        assert both.loc["previous", "n_active_customers"] > 50


def funnel_cases(snap):
    start, end = period.default_period(snap)
    order, won, lost = funnel.propose(queries.run("funnel_stage_vocab", snap=snap))
    other = [order[1], order[0], *order[2:]]  # two steps swapped: not the proposed settings
    return [
        ("proposed", funnel.params(start, end, order, won, lost)),
        ("proposed, segment business", funnel.params(start, end, order, won, lost, segment=["business"])),
        ("proposed, all data", funnel.params(dt.date(2000, 1, 1), end, order, won, lost, include_undated=True)),
        ("two steps swapped", funnel.params(start, end, other, won, lost)),
        ("won stage counted as lost", funnel.params(start, end, order, [], [*won, *lost])),
        ("proposed, the year before, a window", funnel.params(start - dt.timedelta(days=365), end - dt.timedelta(days=365),
                                                    order, won, lost, window_days=60)),
    ]


FUNNEL_QUERIES = {"funnel_summary": {}, "funnel_stage_counts": {}, "funnel_cohorts": {}, "funnel_stage_times": {},
                  "funnel_breakdown": {"by": "owner"}, "funnel_breakdown_stages": {"by": "source", "top_n": 3},
                  "funnel_owner_risk": {"risk_share": 0.15}}


@pytest.mark.parametrize("case", range(6))
def test_funnel_queries_are_the_former_ones(demo_snap, case):
    label, params = funnel_cases(demo_snap)[case]
    assert model.use_funnel_mart(demo_snap, params) == label.startswith("proposed"), label
    for name, more in FUNNEL_QUERIES.items():
        new = queries.run(name, {**params, **more}, snap=demo_snap)
        old = former(demo_snap, name, {**params, **more})
        assert len(new) > 0, (label, name)
        same(new, old)
    stages = list(queries.run("funnel_stage_counts", params, snap=demo_snap)["stage_key"])
    for stage, mode, offset in ((stages[0], "reached", 0), (stages[1], "dropped", 0), (stages[0], "reached", 40),
                                (stages[-1], "reached", 100_000)):
        more = {"list_stage": stage, "list_mode": mode, "limit": 25, "offset": offset}
        new = queries.run("funnel_opportunities", {**params, **more}, snap=demo_snap)
        old = former(demo_snap, "funnel_opportunities", {**params, **more})
        same(new, old)
        assert len(new) > 0 or offset == 100_000, (label, stage, mode)


def test_the_funnel_mart_holds_the_live_figures(demo_snap, monkeypatch):
    """With the mart's columns switched off the proposed settings give the same rows (the live path)."""
    _, params = funnel_cases(demo_snap)[0]
    new = queries.run("funnel_summary", params, snap=demo_snap)
    monkeypatch.setattr(model, "USE_FUNNEL_MART", False)
    assert not model.use_funnel_mart(demo_snap, params)
    same(new, queries.run("funnel_summary", params, snap=demo_snap))
    assert new.iloc[0]["n_rule_history"] > 0


def churn_cases(snap):
    start, end = period.default_period(snap)
    return [
        ("default", start, end, {}),
        ("60 days, segment business", start, end, {"churn_days": 60, "segment": ["business"]}),
        ("multiplier 0, two owners", start, end, {"churn_multiplier": 0.0, "owner": ["Li Wei", "Zhang Min"]}),
        ("a quarter to the end, 120 days", end - dt.timedelta(days=91), end, {"churn_days": 120}),
        ("a year back", start - dt.timedelta(days=365), end - dt.timedelta(days=365), {"churn_multiplier": 2.0}),
        ("three years, mid-month start", dt.date(2023, 9, 17), end, {}),
    ]


@pytest.mark.parametrize("grain", ["month", "quarter"])
@pytest.mark.parametrize("case", range(6))
def test_churn_bucket_is_the_former_query(demo_snap, case, grain):
    label, start, end, settings = churn_cases(demo_snap)[case]
    params = {**churn.query_params(start, end, "orders", **settings), "grain": grain}
    new = queries.run("churn_bucket", params, snap=demo_snap)
    old = former(demo_snap, "churn_bucket", params)
    assert len(new) > 0 and new["n_start"].sum() > 0, label
    same(new, old)


def test_churn_bucket_explicit_is_the_former_query(demo_snap):
    start, end = period.default_period(demo_snap)
    params = {**churn.query_params(start, end, "explicit"), "grain": "month"}
    same(queries.run("churn_bucket", params, snap=demo_snap), former(demo_snap, "churn_bucket", params))


CHURN_QUERIES = {"churn_summary": {}, "churn_drivers": {}, "churn_bucket": {"grain": "quarter"},
                 "churn_at_risk": {"min_value": 0.0, "sort": "value", "limit": 100_000, "offset": 0},
                 "churn_survival": {"group": "segment"}}


@pytest.mark.parametrize("case", range(6))
def test_churn_queries_with_the_former_lifetimes_piece(demo_snap, case):
    """A filter works out the chosen customers' lifetimes alone; the figures are the ones of everybody's, filtered."""
    label, start, end, settings = churn_cases(demo_snap)[case]
    params = churn.query_params(start, end, "orders", **settings)
    for name, more in CHURN_QUERIES.items():
        new = queries.run(name, {**params, **more}, snap=demo_snap)
        old = former(demo_snap, name, {**params, **more})
        assert len(new) > 0, (label, name)
        if name == "churn_at_risk":
            new, old = new.sort_values("customer_id", ignore_index=True), old.sort_values("customer_id", ignore_index=True)
        same(new, old)


def test_the_former_churn_text_is_not_todays():
    assert "only_customers" in queries.sql_text("churn_summary")
    assert "only_customers" not in former_sql("churn_summary")
