"""mart_customer_churn and mart_customer_order_modes (model 20): what the churn rule and the churn page read per
customer as of the newest order day, kept at load. A hand-worked fixture for the mart, then the old SQL against the
new on demo data: customer_spells against the definition it had before (written out here), and the churn queries
reading the marts against the same queries working their figures out (model.USE_CHURN_MART off), for several
settings.

Orders (customer, day, amount, cost, status); the newest order day is 2024-12-31, so the 365 days to it run from
2024-01-02 (2024 has 366 days: 2024-01-01 is not in them):
  O1 A 2024-01-01 100  60        O2 A 2024-01-11  50   -         O3 A 2024-01-31  30  10
  O8 A 2023-06-01  70   -        O4 B 2024-06-01 200   -         O5 B 2024-06-01  20   -  cancelled
  O6 - 2024-12-01  40  30 (a guest: no customer id)              O7 C 2024-12-31  10   5
  O9 A 2024-01-21 -20   -  (a refund: lowers A's revenue, never an order day)
A's order days 2023-06-01, 2024-01-01, 2024-01-11, 2024-01-31: gaps 214, 10, 20, median 20. B and C have one order
day each: everybody's median gap, median(214, 10, 20) = 20.
"""

import datetime as dt

import pandas as pd
import pytest

from crmlens import churn, ingest, model, period, queries, store
from tests.conftest import assert_same_frames, demo_with_order_quirks

ORDERS = """order_id,customer_id,order_date,amount,cost,status
O1,A,2024-01-01,100,60,completed
O2,A,2024-01-11,50,,completed
O3,A,2024-01-31,30,10,completed
O8,A,2023-06-01,70,,completed
O4,B,2024-06-01,200,,completed
O5,B,2024-06-01,20,,cancelled
O6,,2024-12-01,40,30,completed
O7,C,2024-12-31,10,5,completed
O9,A,2024-01-21,-20,,completed
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("churn_marts")
    (folder / "orders.csv").write_text(ORDERS, encoding="utf-8")
    ingest.load_files([folder / "orders.csv"], db=folder / "crm.duckdb")
    return store.snapshot(folder / "crm.duckdb")


def test_the_mart_keeps_gaps_and_twelve_month_figures(small):
    rows = small.query("select customer_id, as_of::varchar as as_of, last_order::varchar as last_order, usual_gap, "
                       "usual_gap_all, amt_12m, n_orders_12m, amt_margin_cost_12m, amt_no_cost_12m, has_cost_12m "
                       "from mart_customer_churn order by customer_id nulls last")
    got = [tuple(None if pd.isna(v) else v for v in r) for r in rows.itertuples(index=False)]
    assert got == [
        # A: O2, O3 and the refund O9 in the year (O1 is on its first day's eve): revenue 50 + 30 - 20 = 60 from two
        # orders; O3 has a cost (30 - 10), O2 and O9 none (50 - 20)
        ("A", "2024-12-31", "2024-01-31", 20.0, 20.0, 60.0, 2, 20.0, 30.0, True),
        ("B", "2024-12-31", "2024-06-01", 20.0, 20.0, 200.0, 1, None, 200.0, False),  # O5 cancelled
        ("C", "2024-12-31", "2024-12-31", 20.0, 20.0, 10.0, 1, 5.0, None, True),
        (None, "2024-12-31", None, None, None, 40.0, 1, 10.0, None, True)]  # the guest's O6


def test_the_summary_reads_the_mart_with_the_same_figures(small, monkeypatch):
    params = churn.query_params(dt.date(2024, 1, 1), dt.date(2024, 12, 31), "orders")
    assert model.use_churn_mart(small, params)
    mart = queries.run("churn_summary", params, snap=small).iloc[0]
    # margin: (20 + 5 + 10 + 0.3 x (30 + 200)) / (60 + 200 + 10 + 40) = 104 / 310, the guest's line included and
    # A's refund lowering both A's revenue and A's revenue without a cost
    assert mart["rate_margin"] == pytest.approx(104 / 310)
    assert mart["usual_gap_all"] == 20
    # active on 2024-12-31 (lost after max(90, 3 x 20) = 90 days without an order): C only; its year: 10
    assert (mart["n_active"], mart["amt_revenue_12m"]) == (1, 10)
    monkeypatch.setattr(model, "USE_CHURN_MART", False)
    live = queries.run("churn_summary", params, snap=small).iloc[0]
    assert (live["rate_margin"], live["usual_gap_all"], live["n_active"], live["amt_revenue_12m"]) == pytest.approx(
        (mart["rate_margin"], mart["usual_gap_all"], mart["n_active"], mart["amt_revenue_12m"]))


def test_each_customers_days_are_one_row_and_the_year_before_a_lost_day_is_the_365_days_before_it(small):
    """mart_customer_revenue_days keeps A's five days (the refund O9 too, lowering revenue); revenue_before sums the
    days from lost day - 365 up to the day before it. 2024 is a leap year: 365 days before 2024-06-01 is 2023-06-02, so
    A's 70 of 2023-06-01 is out (100 + 50 - 20 + 30 = 160); for 2024-05-31 it is 2023-06-01, so it is in (230); the lost
    day itself is out (2024-01-31: 70 + 100 + 50 - 20 = 200); no day in the window is NULL, not 0."""
    days = small.query("select d.order_date::varchar as day, d.amt_revenue from (select unnest(days) as d "
                       "from mart_customer_revenue_days where customer_id = 'A') order by day")
    assert list(days.itertuples(index=False, name=None)) == [
        ("2023-06-01", 70.0), ("2024-01-01", 100.0), ("2024-01-11", 50.0), ("2024-01-21", -20.0), ("2024-01-31", 30.0)]
    lost_days = ("2024-06-01", "2024-05-31", "2024-01-31", "2023-06-01")
    got = small.query("select l.day, revenue_before(r.days, l.day::date, 365) as amt "
                      "from mart_customer_revenue_days r, unnest($days) as l(day) where r.customer_id = 'A'",
                      {"days": list(lost_days)}).set_index("day")["amt"]
    assert [None if pd.isna(got[d]) else got[d] for d in lost_days] == [160, 230, 200, None]


def test_the_default_rules_lost_revenue_is_kept_per_lost_lifetime(small):
    """The default rule: lost after max(90, 3 x 20) = 90 days. A is lost on 2023-08-30 (2023-06-01 + 90; its year: 70)
    and again on 2024-04-30 (2024-01-31 + 90; its year from 2023-05-01, the first lifetime's day in it:
    70 + 100 + 50 - 20 + 30 = 230), B on 2024-08-30 (200; O5 was cancelled); C is active."""
    rows = small.query("select customer_id, lost_date::varchar, amt_revenue_year_before from mart_spell_revenue "
                       "order by all")
    assert list(rows.itertuples(index=False, name=None)) == [
        ("A", "2023-08-30", 70.0), ("A", "2024-04-30", 230.0), ("B", "2024-08-30", 200.0)]


# --- old against new on demo data -------------------------------------------------------------------------------

# customer_spells as it was before model 20 (model 19): every usual gap worked out from mart_customer_days per query
CUSTOMER_SPELLS_BEFORE = """
with days as (
    select customer_id, order_date, gap_before from mart_customer_days where order_date <= $as_of::date
),
everybody as (
    select median(gap_before) filter (where gap_before > 0) as usual_gap from days
),
thresholds as (
    select customer_id, last_order, usual_gap,
           greatest($churn_days, floor($churn_multiplier * coalesce(usual_gap, 0)))::integer as n_days
    from (
        select customer_id, max(order_date) as last_order,
               coalesce(median(gap_before) filter (where gap_before > 0), (select usual_gap from everybody)) as usual_gap
        from days
        group by customer_id
    )
),
spell_starts as (
    select d.customer_id, d.order_date, d.gap_before, t.last_order, t.usual_gap, t.n_days
    from days d join thresholds t using (customer_id)
    where d.gap_before is null or d.gap_before > t.n_days
),
spells as (
    select customer_id, row_number() over w as spell_no, order_date as spell_start, usual_gap, n_days,
           coalesce(lead(order_date - gap_before::integer) over w, last_order) as last_order
    from spell_starts
    window w as (partition by customer_id order by order_date)
)
select customer_id, spell_no, spell_start, last_order, usual_gap, n_days,
       last_order + n_days <= $as_of::date as is_lost,
       if(last_order + n_days <= $as_of::date, last_order + n_days, null) as lost_date
from spells
order by customer_id, spell_no
"""


@pytest.fixture(scope="module")
def demo_snap(tmp_path_factory):
    # a history ending mid-month; every third order line loses its cost, every 17th becomes a refund and every 41st
    #   a guest's (no customer id)
    return demo_with_order_quirks(tmp_path_factory, "churn_marts_demo", seed=7, end_date=dt.date(2026, 9, 13),
                                  guest_every=41)


def same(a, b, keys=None):
    assert_same_frames(a, b, keys)


def newest_order_day(snap) -> dt.date:
    return snap.query("select max(order_date) as d from mart_customer_days").iloc[0]["d"].date()


@pytest.mark.parametrize("days_after, churn_days, multiplier", [
    (0, 90, 3.0), (0, 60, 3.0), (0, 30, 0.0), (0, 120, 1.5), (45, 90, 3.0), (-200, 60, 2.0), (-500, 90, 3.0)])
def test_customer_spells_are_the_former_definition(demo_snap, days_after, churn_days, multiplier):
    as_of = newest_order_day(demo_snap) + dt.timedelta(days=days_after)
    new = demo_snap.query("select * from customer_spells($as_of, $churn_days, $churn_multiplier) "
                          "order by customer_id, spell_no",
                          {"as_of": as_of, "churn_days": churn_days, "churn_multiplier": multiplier})
    old = demo_snap.query(CUSTOMER_SPELLS_BEFORE, {"as_of": as_of, "churn_days": churn_days,
                                                   "churn_multiplier": multiplier})
    assert len(new) > 100
    same(new, old)


def cases(snap):
    start, end = period.default_period(snap)
    return [
        ("default", start, end, {}),
        ("60 days, segment business", start, end, {"churn_days": 60, "segment": ["business"]}),
        ("multiplier 0, two owners", start, end, {"churn_multiplier": 0.0, "owner": ["Li Wei", "Zhang Min"]}),
        ("a quarter to the end, 120 days", end - dt.timedelta(days=91), end, {"churn_days": 120}),
        ("a year back", start - dt.timedelta(days=365), end - dt.timedelta(days=365), {"churn_multiplier": 2.0}),
    ]


QUERIES = {"churn_summary": {}, "churn_drivers": {},
           "churn_at_risk": {"min_value": 0.0, "sort": "value", "limit": 100_000, "offset": 0},
           "churn_bucket": {"grain": "month"}, "churn_survival": {"group": "segment"}}


@pytest.mark.parametrize("case", range(5))
def test_churn_queries_from_the_marts_are_the_live_ones(demo_snap, monkeypatch, case):
    label, start, end, settings = cases(demo_snap)[case]
    params = churn.query_params(start, end, "orders", **settings)
    reads_marts = end >= newest_order_day(demo_snap)
    assert model.use_churn_mart(demo_snap, params) == reads_marts, label
    assert model.use_drivers_mart(demo_snap, params) == (reads_marts and (start, end) == period.default_period(demo_snap))
    for name, more in QUERIES.items():
        new = queries.run(name, {**params, **more}, snap=demo_snap)
        monkeypatch.setattr(model, "USE_CHURN_MART", False)
        old = queries.run(name, {**params, **more}, snap=demo_snap)
        monkeypatch.setattr(model, "USE_CHURN_MART", True)
        assert len(new) > 0, (label, name)
        same(new, old, keys=["customer_id"] if name == "churn_at_risk" else None)


def test_explicit_churn_and_other_periods_do_not_read_the_marts(demo_snap):
    start, end = period.default_period(demo_snap)
    assert model.use_drivers_mart(demo_snap, churn.query_params(start, end, "orders"))
    assert not model.use_churn_mart(demo_snap, churn.query_params(start, end, "explicit"))
    assert not model.use_drivers_mart(demo_snap, churn.query_params(start + dt.timedelta(days=1), end, "orders"))
    day = newest_order_day(demo_snap)
    assert not model.use_churn_mart(demo_snap, churn.query_params(start, day - dt.timedelta(days=1), "orders"))


def test_the_demo_cases_hold_what_the_marts_keep(demo_snap):
    """Guests, refunds and lines without a cost in the year the mart keeps, and order values for the drivers."""
    kept = demo_snap.query("select count(*) filter (where customer_id is null) as n_guest_rows, "
                           "count(*) filter (where amt_no_cost_12m > 0 and has_cost_12m) as n_mixed "
                           "from mart_customer_churn").iloc[0]
    assert (kept["n_guest_rows"], kept["n_mixed"] > 10) == (1, True)
    modes = demo_snap.query("select count(distinct attribute) as n from mart_customer_order_modes").iloc[0]["n"]
    assert modes >= 2
