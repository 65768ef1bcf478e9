"""One definition of revenue (issue 13): refunds lower it on every page. The churn page's 12-month revenue, at-risk
value, what-if gain and lost revenue are the revenue the loyalty and overview pages show for the same customers over
the same days (customer_revenue: mart_order_days.amt_revenue, i.e. stg_orders.amt_revenue), and a refund is never an
order. Every number worked out by hand below.

tests/fixtures/revenue (amount, cost, status; R and L are in segment retail, S in business; G1 has no customer id):
  R1 R 2023-11-30  100  60         R2 R 2024-02-01 100  -        R3 R 2024-04-01 200 120
  R4 R 2024-06-01  100   -         R5 R 2024-08-01 150 90        R6 R 2024-08-10 -50   -  (a refund)
  R7 R 2024-09-01  500   -  cancelled
  L1 L 2023-10-01  100   -         L2 L 2023-11-01 100  -        L3 L 2023-11-10 -30   -  (a refund)
  L4 L 2023-12-05  -20   -  (a refund in a month without an order)
  S1 S 2024-12-01   80   -         S2 S 2024-12-31  40 20        G1 - 2024-12-10  30   -  (a guest)
and one complaint: K1 from L on 2023-11-20 (delivery).

The newest order day (the as-of day of a period ending 2024-12-31) is 2024-12-31; its 365 days run from 2024-01-02
(2024 has 366 days). Churn rule: lost after max(90, 3 x the usual gap) days without an order.
  R: order days 2023-11-30, 02-01, 04-01, 06-01, 08-01 (the refund and the cancelled line are no order days): gaps
     63, 60, 61, 61, usual gap 61, lost after 183 days: one lifetime since 2023-11-30, last order 08-01, 152 days
     before the as-of day: active and past its usual gap (at risk), score round(100 x 152 / 183) = 83, lost on
     2025-01-31. Revenue in the year: 100 + 200 + 100 + 150 - 50 = 500 (gross of the refund it was 550), from 4
     orders; of it amount - cost (200 - 120) + (150 - 90) = 140 and 100 + 100 - 50 = 150 without a cost.
  L: order days 2023-10-01, 11-01 (gap 31): lost after 93 days, on 2024-02-02; revenue in the 365 days before that
     (2023-02-02 .. 2024-02-01): 100 + 100 - 30 - 20 = 150. December 2023 holds L's refund L4 and no order.
  S: order days 12-01 and 12-31 (gap 30, lost after 90 days): active, not at risk; revenue 80 + 40 = 120, 40 - 20 = 20
     with a cost, 80 without.
"""

import datetime as dt

import pytest

from crmlens import churn, loyalty, model, queries
from crmlens import complaints as cx
from tests.conftest import fixture_snapshot

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
YEAR_START = dt.date(2024, 1, 2)  # the first of the 365 days to the as-of day 2024-12-31
RETAIL = {"segment": ["retail"]}


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    return fixture_snapshot(tmp_path_factory, "revenue")


@pytest.fixture(params=["mart", "live"])
def way(request, monkeypatch):
    """Both ways the churn queries get the 12-month figures: mart_customer_churn, or worked out per query."""
    if request.param == "live":
        monkeypatch.setattr(model, "USE_CHURN_MART", False)
    return request.param


def churn_run(snap, name, end=END, filters=None, **more):
    return queries.run(name, churn.query_params(START, end, "orders", **(filters or {}), **more), snap=snap)


def loyalty_revenue(snap, customer_id, start=YEAR_START, end=END):
    """The loyalty page's customer table: the customer's revenue in the period start .. end."""
    p = {**loyalty.params(start, end), "search": "", "states": [], "abc_classes": [], "rfm_segments": [],
         "quadrants": [], "sort": "customer_id", "limit": 100, "offset": 0}
    table = queries.run("loyalty_customers", p, snap=snap).set_index("customer_id")
    return float(table.loc[customer_id, "amt_revenue_period"])


def test_the_refund_lowers_the_customers_revenue_on_the_loyalty_page(snap):
    assert loyalty_revenue(snap, "R") == 500
    assert loyalty_revenue(snap, "S") == 120


def test_twelve_month_revenue_and_at_risk_value_equal_the_loyalty_revenue(snap, way):
    """Segment retail (R and L): active on 2024-12-31 is R alone, so the churn summary's 12-month revenue is R's 500,
    the loyalty page's revenue of R over the same 365 days; the at-risk list values R at the same 500 (4 orders: the
    refund is none)."""
    summary = churn_run(snap, "churn_summary", filters=RETAIL).iloc[0]
    assert (summary["n_active"], summary["amt_revenue_12m"]) == (1, 500) == (1, loyalty_revenue(snap, "R"))
    # margin: (140 + 0.3 x 150) / 500 = 185 / 500, the refund lowering the revenue without a cost
    assert summary["rate_margin"] == pytest.approx(185 / 500)
    at_risk = churn_run(snap, "churn_at_risk", filters=RETAIL, min_value=0.0, sort="value", limit=10, offset=0)
    assert at_risk[["customer_id", "amt_at_stake", "n_orders_12m", "days_since", "score"]].values.tolist() == [
        ["R", 500, 4, 152, 83]]
    assert at_risk["lost_on"].iloc[0].date() == dt.date(2025, 1, 31)
    assert at_risk["amt_total_at_stake"].iloc[0] == loyalty_revenue(snap, "R")


def test_the_what_if_gain_is_half_a_year_of_the_same_revenue(snap, way):
    """Retail: active a year ago R and L (L lost 2024-02-02), kept R: 12-month churn 1/2. Cutting it by 10 points keeps
    1 x 0.10 customers, each worth R's 500 a year (the loyalty revenue), half a year of it: 0.1 x 500 x 0.5 = 25
    (gross of the refund it was 27.5); at the data's margin 185 / 500: 25 x 0.37 = 9.25 profit."""
    summary = churn_run(snap, "churn_summary", filters=RETAIL).iloc[0]
    assert summary["rate_churn_12m"] == 0.5
    result = churn.what_if(summary, 10, float(summary["rate_margin"]))
    assert result["amt_revenue_per_customer"] == loyalty_revenue(snap, "R")
    assert result["amt_revenue_gained"] == pytest.approx(25)
    assert result["amt_profit_gained"] == pytest.approx(9.25)


def test_every_customers_revenue_is_the_overviews_revenue_less_the_guests(snap, way):
    """Unfiltered: R and S are active, 500 + 120 = 620; the overview's revenue of the same 365 days is 620 and the
    guest's 30 = 650 (7 orders: R's 4, S's 2, the guest's 1). The data's margin counts the guest's line as well:
    (140 + 20 + 0.3 x (150 + 80 + 30)) / 650 = 238 / 650."""
    summary = churn_run(snap, "churn_summary").iloc[0]
    kpis = queries.run("overview_kpis", {"start": YEAR_START, "end": END}, snap=snap).set_index("period")
    current = kpis.loc["current"]
    assert (current["amt_revenue"], current["amt_revenue_no_customer"], current["n_orders"]) == (650, 30, 7)
    assert summary["amt_revenue_12m"] == 620 == current["amt_revenue"] - current["amt_revenue_no_customer"]
    assert summary["rate_margin"] == pytest.approx(238 / 650)


def test_an_earlier_as_of_day_reads_the_same_definition(snap, way):
    """Period ending 2024-09-30 (as-of day 2024-09-30; 365 days from 2023-10-02): R is active (60 days since its last
    order, under its usual gap of 61: not at risk), L lost since 2024-02-02; R's revenue then: R1 100 + 500 = 600, the
    loyalty revenue of R over 2023-10-02 .. 2024-09-30."""
    end = dt.date(2024, 9, 30)
    summary = churn_run(snap, "churn_summary", end=end, filters=RETAIL).iloc[0]
    assert (summary["n_active"], summary["n_at_risk"], summary["amt_revenue_12m"]) == (1, 0, 600)
    assert summary["amt_revenue_12m"] == loyalty_revenue(snap, "R", dt.date(2023, 10, 2), end)


def test_lost_revenue_in_the_bucket_is_net_of_refunds(snap, way):
    """L, lost 2024-02-02, leaves with its revenue of the 365 days before: 100 + 100 - 30 - 20 = 150 (gross: 200).
    February's revenue base is the year before 2024-02-01: R1 100 and L's 150 = 250, revenue churn 150 / 250."""
    bucket = churn_run(snap, "churn_bucket", filters=RETAIL, grain="month").set_index("period_start")
    february = bucket.loc["2024-02-01"]
    assert (february["n_lost"], february["amt_revenue_lost"], february["amt_revenue_base"]) == (1, 150, 250)
    assert february["rate_revenue_churn"] == pytest.approx(150 / 250)
    assert bucket["amt_revenue_lost"].sum() == 150


def test_a_month_with_a_refund_only_lowers_revenue_and_makes_nobody_active(snap):
    """December 2023: only L's refund L4. The overview: revenue -20, no order, no active customer (the whole month is
    read from mart_customer_months). Cohorts from 2023-10 (a customer's first month with an order, its revenue that
    month): L 2023-10 (100), R 2023-11 (100); L bought in month 1 (November: L2) but not in month 2 (December: the
    refund only), R bought in month 3 of its cohort (2024-02: R2)."""
    kpis = queries.run("overview_kpis", {"start": dt.date(2023, 12, 1), "end": dt.date(2023, 12, 31)}, snap=snap)
    december = kpis.set_index("period").loc["current"]
    assert (december["amt_revenue"], december["n_orders"], december["n_active_customers"]) == (-20, 0, 0)
    cohorts = queries.run("churn_cohorts", churn.query_params(dt.date(2023, 10, 1), END, "orders", mode="in", **RETAIL),
                          snap=snap)
    got = {(str(r.cohort_month.date()), r.k): (r.n_cohort, r.amt_cohort, r.n_active) for r in cohorts.itertuples()}
    assert got[("2023-10-01", 0)] == (1, 100, 1) and got[("2023-10-01", 1)] == (1, 100, 1)
    assert got[("2023-10-01", 2)] == (1, 100, 0)
    assert got[("2023-11-01", 0)] == (1, 100, 1) and got[("2023-11-01", 1)] == (1, 100, 0)
    assert got[("2023-11-01", 3)] == (1, 100, 1)
    assert {month for month, _ in got} == {"2023-10-01", "2023-11-01"}


def test_the_complaints_pages_revenue_lost_is_net_of_refunds(snap):
    """Complaints of 2023-10-01 .. 2023-12-31: L complained (K1, 2023-11-20) and is lost by the churn rule (2024-02-02);
    its revenue in the 365 days before the complaint: L1 100 + L2 100 - L3 30 = 170 (gross: 200; L4 comes after)."""
    p = cx.params(snap, dt.date(2023, 10, 1), dt.date(2023, 12, 31), revenue_days=365)
    overall = queries.run("complaints_churn", p, snap=snap).query("kind == 'all'").set_index("grp")
    assert overall.loc["complainers", ["n_customers", "n_churned"]].tolist() == [1, 1]
    assert overall.loc["complainers", "amt_revenue_lost"] == 170
