"""churn_* queries and crmlens.churn on hand-made fixtures; every expected number is worked out here.

tests/fixtures/churn (orders; lost after N days without an order; most tests use N = 30 and
multiplier 0, i.e. the same 30 days for everyone). Completed order days per customer:
  A 2024-01-01, 01-31 (gap 30 = exactly N: still a customer), 03-31 (gap 60: lost on 01-31 + 30 = 03-01,
    back on 03-31 = reactivated)                       amounts 100 each, cost 60 each
  B 2023-12-20 (one order; its 2024-01-10 order is cancelled): lost 2024-01-19          50
  C 2023-12-01, 2024-01-01 (gap 31: lost 12-31, back 01-01), 01-15: lost 02-14      10, 20, 30
  D 2024-02-10: lost 03-11                                                                40
  E 2024-03-20: active at the end                                                         60
  F 2022-03-15, 2023-03-10 (gap 360), 2024-03-05 (gap 361): back in March 2024   100, 150, 300
  G 2024-02-01, 02-11: lost 03-12                                                     70, 80
The newest order is 2024-03-31, so with $end = 2024-03-31 the figures are as of that day.
"""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import survdiff

from crmlens import churn, queries, store
from tests.conftest import load_fixture

START, END = dt.date(2024, 1, 1), dt.date(2024, 3, 31)


@pytest.fixture
def churn_db(tmp_path):
    return load_fixture(tmp_path / "churn.duckdb", "churn")


@pytest.fixture
def subscription_db(tmp_path):
    return load_fixture(tmp_path / "subscription.duckdb", "churn_subscription")


def run(db, name, definition="orders", start=START, end=END, days=30, multiplier=0.0, **more):
    params = churn.query_params(start, end, definition, days, multiplier, **more)
    return queries.run(name, params, snap=store.snapshot(db))


# --- the leaky bucket ----------------------------------------------------------------------

def test_bucket_months_with_reactivation_and_revenue(churn_db):
    df = run(churn_db, "churn_bucket", grain="month").set_index(
        pd.Index(["jan", "feb", "mar"]))
    # Jan: at start (active on 12-31) only B (C's first lifetime ended on 12-31). New: A. Reactivated: C (01-01).
    #   Lost: B (01-19). End: A, C.
    # Feb: start A, C. New: D, G. Lost: C (02-14). End: A, D, G.
    # Mar: start A, D, G. New: E. Reactivated: A (03-31), F (03-05). Lost: A (03-01), D (03-11), G (03-12).
    #   End: A, E, F.
    assert list(df["n_start"]) == [1, 2, 3]
    assert list(df["n_new"]) == [1, 2, 1]
    assert list(df["n_reactivated"]) == [1, 0, 2]
    assert list(df["n_lost"]) == [1, 1, 3]
    assert list(df["n_lost_from_start"]) == [1, 1, 3]
    assert list(df["n_end"]) == [2, 3, 3]
    assert list(df["rate_churn"]) == [1.0, 0.5, 1.0]
    assert list(df["is_complete"]) == [True, True, True]
    # Revenue lost: their revenue in the 365 days before the lost day. Jan: B 50. Feb: C 10 + 20 + 30.
    # Mar: A 200 (01-01, 01-31) + D 40 + G 150.
    assert list(df["amt_revenue_lost"]) == [50, 60, 390]
    # Base: all revenue in the 365 days before the month. Jan (2023-01-01..12-31): B 50 + C 10 + F 150.
    # Feb (2023-02-01..2024-01-31): 50 + 60 + A 200 + F 150. Mar (2023-03-02..2024-02-29): 460 + D 40 + G 150.
    assert list(df["amt_revenue_base"]) == [210, 460, 650]
    assert df["rate_revenue_churn"].tolist() == pytest.approx([50 / 210, 60 / 460, 390 / 650])
    # NRR: 12 months to the period end vs the 12 before, same customers; needs 24 months from 2022-03.
    # Jan: not enough history. Feb: F spent 100 (2022-03..2023-02), then 150 (2023-03..2024-02): 1.5.
    # Mar: F spent 150 (2022-04..2023-03), then 300: 2.0.
    assert pd.isna(df.loc["jan", "rate_nrr"])
    assert df.loc["feb", "rate_nrr"] == pytest.approx(1.5)
    assert df.loc["mar", "rate_nrr"] == pytest.approx(2.0)


def test_gap_of_exactly_n_days_keeps_the_customer_one_more_day_loses_them(churn_db):
    # A's second order came exactly 30 days after the first. With N = 29 that gap is too long:
    # A is lost on 01-01 + 29 = 01-30 and reactivated on 01-31 (both in January).
    jan_30 = run(churn_db, "churn_bucket", grain="month", days=30).iloc[0]
    jan_29 = run(churn_db, "churn_bucket", grain="month", days=29).iloc[0]
    assert (jan_30["n_lost"], jan_30["n_reactivated"]) == (1, 1)  # B lost; C back
    # N = 29: B (12-20) is lost on 01-18, A lost 01-30; back: C (gap 31 > 29) and A.
    assert (jan_29["n_lost"], jan_29["n_reactivated"]) == (2, 2)
    assert jan_29["n_lost_from_start"] == 1  # A started in January: not among those at the start


def test_last_incomplete_period_is_marked_and_cut_at_the_as_of_day(churn_db):
    # Period end 03-25: A's 03-31 order is not seen yet. March runs 03-01..03-25: new E; lost A (03-01),
    # D (03-11), G (03-12); back F (03-05). End: E, F.
    df = run(churn_db, "churn_bucket", end=dt.date(2024, 3, 25), grain="month")
    mar = df.iloc[-1]
    assert not mar["is_complete"]
    assert mar["last_day"].date() == dt.date(2024, 3, 25)
    assert (mar["n_new"], mar["n_reactivated"], mar["n_lost"], mar["n_end"]) == (1, 1, 3, 2)


def test_quarter_grain_adds_up_the_months(churn_db):
    q1 = run(churn_db, "churn_bucket", grain="quarter").iloc[0]
    # Start: B. New: A, D, G, E. Reactivated: C (01-01), F, A (03-31). Lost: B, C, A, D, G. End: A, E, F.
    assert (q1["n_start"], q1["n_new"], q1["n_reactivated"], q1["n_lost"], q1["n_end"]) == (1, 4, 3, 5, 3)
    assert q1["n_lost_from_start"] == 1 and q1["rate_churn"] == 1.0


def test_multiplier_uses_each_customers_median_gap(churn_db):
    # Minimum 10 days, 3 x median gap. Gaps between order days: A 30, 60 (median 45 -> 135 days);
    # C 31, 14 (22.5 -> 67); F 360, 361 (360.5 -> 1081); G 10 (-> 30). One-day customers B, D, E take
    # everybody's median gap: 14, 10, 30, 31, 60, 360, 361 -> 31 -> 93 days.
    # No gap is longer than its customer's limit, so nobody comes back. Lost in March: B (12-20 + 93 = 03-22),
    # C (01-15 + 67 = 03-22) and G (02-11 + 30 = 03-12); D (02-10 + 93), A, E, F are still active.
    df = run(churn_db, "churn_bucket", grain="month", days=10, multiplier=3.0)
    assert list(df["n_lost"]) == [0, 0, 3]
    assert list(df["n_reactivated"]) == [0, 0, 0]
    summary = run(churn_db, "churn_summary", days=10, multiplier=3.0).iloc[0]
    assert summary["usual_gap_all"] == 31


# --- the period's churn rate, active and at-risk customers, the what-if inputs ---------------

def test_summary(churn_db):
    s = run(churn_db, "churn_summary").iloc[0]
    # In the period: A, B, C, D, E, F, G (all active at some time in Q1). Lost at the end: B, C, D, G.
    assert (s["n_customers"], s["n_churned"]) == (7, 4)
    assert s["rate_churn_any"] == pytest.approx(4 / 7)
    # The period churn rate (textbook): active at the start (on 01-01) only B, lost 01-19: 1 / 1. Departures in
    # the period: B, C, A, D, G = 5, the leaky bucket's 1 + 1 + 3 (test_bucket_months_with_reactivation_and_revenue).
    assert (s["n_start"], s["n_lost_from_start"], s["n_lost"], s["rate_churn"]) == (1, 1, 5, 1.0)
    assert s["n_active"] == 3  # A, E, F
    # At risk: past their usual gap. A 0 days since; E 11 < 31 (everybody's median); F 26 < 360.5.
    assert s["n_at_risk"] == 0
    # Active 365 days earlier (2023-04-01): F (its 2023-03-10 lifetime runs to 04-09); F is active now.
    assert (s["n_base_12m"], s["n_kept_12m"], s["rate_churn_12m"]) == (1, 1, 0)
    # Revenue of A, E, F after 2023-04-01: 300 + 60 + 300.
    assert s["amt_revenue_12m"] == 660
    # Margin over every order of those 365 days (order_margin): A's 300 less its costs 180 = 120; the 660 of
    # orders without a cost (B1 50, C 60, D1 40, E1 60, F3 300, G 150; B2 is cancelled) at the 30% fallback = 198.
    assert s["rate_margin"] == pytest.approx((120 + 0.3 * 660) / 960)


def test_at_risk_list_scores_sorts_and_pages(churn_db):
    # N = 60: A (gaps 30, 60: 60 is not more than 60) is one lifetime, active. D (02-10, 50 days ago,
    # usual gap = everybody's median 31) and G (02-11, 49 days ago, usual gap 10) are active and past
    # their usual gap. Score = days since / 60: D 83, G 82. Value at stake: D 40, G 150.
    common = dict(days=60, min_value=0.0, limit=10, offset=0)
    by_value = run(churn_db, "churn_at_risk", sort="value", **common)
    assert list(by_value["customer_id"]) == ["G", "D"]
    assert list(by_value["score"]) == [82, 83]
    assert list(by_value["amt_at_stake"]) == [150, 40]
    assert list(by_value["days_since"]) == [49, 50]
    assert by_value["lost_on"].iloc[0].date() == dt.date(2024, 4, 11)  # 02-11 + 60
    assert by_value["last_complaint_category"].iloc[0] == "service attitude"
    assert set(by_value["n_total"]) == {2} and set(by_value["amt_total_at_stake"]) == {190}
    assert list(run(churn_db, "churn_at_risk", sort="score", **common)["customer_id"]) == ["D", "G"]
    page_2 = run(churn_db, "churn_at_risk", sort="score", **{**common, "limit": 1, "offset": 1})
    assert list(page_2["customer_id"]) == ["G"]
    rich = run(churn_db, "churn_at_risk", sort="value", **{**common, "min_value": 100.0})
    assert list(rich["customer_id"]) == ["G"]
    assert run(churn_db, "churn_summary", days=60).iloc[0]["n_at_risk"] == 2


def test_filters_restrict_every_figure(churn_db):
    # Owner Li: A, B, C. Lost in Q1: B, C.
    s = run(churn_db, "churn_summary", owner=["Li"]).iloc[0]
    assert (s["n_customers"], s["n_churned"]) == (3, 2)
    assert list(run(churn_db, "churn_bucket", owner=["Li"], grain="month")["n_lost"]) == [1, 1, 1]


# --- drivers -------------------------------------------------------------------------------

def test_drivers_by_every_attribute_with_extra_columns(churn_db):
    df = run(churn_db, "churn_drivers")
    cell = df.set_index(["attribute", "value"])
    assert df["rate_overall"].tolist() == pytest.approx([4 / 7] * len(df))
    # segment: consumer A, B, E, G (lost B, G); business C, D, F (lost C, D).
    assert tuple(cell.loc[("segment", "consumer"), ["n_customers", "n_churned"]]) == (4, 2)
    assert tuple(cell.loc[("segment", "business"), ["n_customers", "n_churned"]]) == (3, 2)
    # extra customer column `tier`: gold A 0/1; silver 4/6.
    assert tuple(cell.loc[("tier", "silver"), ["n_customers", "n_churned"]]) == (6, 4)
    # extra order column `payment_method`, the customer's most frequent completed order value:
    # alipay A, E, G (1 lost); card B, D (2); wechat C, F (1).
    assert tuple(cell.loc[("payment_method", "card"), ["n_customers", "n_churned"]]) == (2, 2)
    assert tuple(cell.loc[("payment_method", "alipay"), ["n_customers", "n_churned"]]) == (3, 1)
    # latest complaint by 03-31: B price, C price (after delivery), G service attitude; A's is in April.
    complaints = df[df["attribute"] == "complaint_category"].set_index("value", drop=False)
    assert tuple(complaints.loc["price", ["n_customers", "n_churned"]]) == (2, 2)
    none = complaints[complaints["value"].isna()].iloc[0]
    assert (none["n_customers"], none["n_churned"]) == (4, 1)  # A, D, E, F
    # Attributes with no values at all (region, channel, contract_type, product) are left out.
    assert not {"region", "channel", "contract_type", "product", "name"} & set(df["attribute"])
    # the model's own columns (stg_orders' is_order, ...) are rules, not attributes of a customer
    assert not {"is_void", "is_order", "is_refund", "amt_revenue"} & set(df["attribute"])
    # Sorted by the difference from the overall rate, highest first: 100% groups first.
    assert df["rate_diff"].is_monotonic_decreasing
    assert df.iloc[0]["rate_churn"] == 1.0


def test_attribute_test_flags_the_attribute_that_differs():
    counts = pd.DataFrame({"attribute": ["x", "x", "y", "y"], "source": "customers", "value": ["a", "b", "a", "b"],
                           "n_customers": [100, 100, 100, 100], "n_churned": [10, 50, 30, 31],
                           "rate_churn": [0.1, 0.5, 0.3, 0.31]})
    tests = churn.attribute_tests(counts).set_index("attribute")
    assert list(tests.index) == ["x", "y"]  # by spread: 40 points, then 1 point
    assert tests.loc["x", "p_value"] < 1e-6 and tests.loc["y", "p_value"] > 0.5


# --- cohorts -------------------------------------------------------------------------------

def cohort_cells(db, mode, end=END, days=30):
    df = run(db, "churn_cohorts", mode=mode, end=end, days=days)
    return df.assign(month=df["cohort_month"].dt.strftime("%Y-%m")).set_index(["month", "k"])


def test_cohorts_active_in_month_k(churn_db):
    # First orders from January 2024 on: A (Jan, first-month revenue 200), D and G (Feb, 40 + 150), E (Mar, 60).
    c = cohort_cells(churn_db, "in")
    assert list(c.index) == [("2024-01", 0), ("2024-01", 1), ("2024-01", 2), ("2024-02", 0), ("2024-02", 1),
                             ("2024-03", 0)]
    assert list(c["n_active"]) == [1, 0, 1, 2, 0, 1]  # A buys in Jan and Mar, not Feb
    assert list(c["rate_customers"]) == [1, 0, 1, 1, 0, 1]
    assert c.loc[("2024-02", 0), "amt_cohort"] == 190
    assert not c["is_unfinished"].any()  # the data runs to 03-31, the end of March


def test_cohorts_active_in_month_k_or_later_and_unfinished_cells(churn_db):
    c = cohort_cells(churn_db, "or_later", days=45)
    # A's January cohort: active in Feb "or later" (A buys in March).
    assert c.loc[("2024-01", 1), "n_active"] == 1
    # 'or later' cells in the last 45 days (from 2024-02-15) are unfinished: the March cells.
    assert list(c["is_unfinished"]) == [False, False, True, False, True, True]
    # Cut at 03-25: March is not over, so every March cell is unfinished in 'in' mode too; A's March
    # order is not seen yet.
    cut = cohort_cells(churn_db, "in", end=dt.date(2024, 3, 25))
    assert cut.loc[("2024-01", 2), "n_active"] == 0
    assert list(cut["is_unfinished"]) == [False, False, True, False, True, True]


def test_cohort_revenue_share_weights_by_first_month_revenue(churn_db):
    # Feb cohort: D (40) and G (150); in 'or later' mode at k = 1 nobody: 0; k = 0 all: 1.
    c = cohort_cells(churn_db, "or_later")
    assert c.loc[("2024-02", 0), "rate_revenue"] == 1 and c.loc[("2024-02", 1), "rate_revenue"] == 0


# --- survival ------------------------------------------------------------------------------

def test_kaplan_meier_matches_a_hand_worked_example():
    # Times 1, 2, 2+, 3, 4+, 5 (+ = still active).
    # t=1: 6 at risk, 1 lost: S = 5/6. t=2: 5 at risk, 1 lost: S = 5/6 * 4/5 = 2/3.
    # t=3: 3 at risk (3, 4+, 5): S = 2/3 * 2/3 = 4/9. t=5: 1 at risk: S = 0.
    # Greenwood: var S(1) = (5/6)^2 * 1/(6*5): se 0.15215; var S(2) = (2/3)^2 (1/30 + 1/20): se 0.19245.
    # Log-log band at t=1: se' = sqrt(1/30) / |ln(5/6)| = 1.001383; lower = (5/6)^exp(1.959964 * 1.001383)
    # = (5/6)^7.1173 = 0.2732; upper = (5/6)^exp(-1.962675) = (5/6)^0.14050 = 0.9747.
    days = np.array([1, 2, 2, 3, 4, 5])
    lost = np.array([1, 1, 0, 1, 0, 1], bool)
    curve = churn.kaplan_meier(days, lost, np.ones(6))
    assert list(curve["n_days"]) == [0, 1, 2, 3, 5]
    assert curve["survival"].tolist() == pytest.approx([1, 5 / 6, 2 / 3, 4 / 9, 0])
    assert list(curve["n_at_risk"]) == [6, 6, 5, 3, 1]
    assert curve.loc[1, "lower"] == pytest.approx(0.2732, abs=1e-4)
    assert curve.loc[1, "upper"] == pytest.approx(0.9747, abs=1e-4)
    assert churn.median_lifetime_days(curve) == 3
    # Counts as frequency weights give the same curve as repeated rows.
    weighted = churn.kaplan_meier(np.array([1, 2, 2, 3, 4, 5]), lost, np.array([1, 1, 1, 1, 1, 1]))
    assert weighted["survival"].tolist() == pytest.approx(curve["survival"].tolist())


def test_survival_frame_and_curves_by_segment(churn_db):
    df = run(churn_db, "churn_survival", group="segment")
    # First lifetimes (N = 30): consumer A 60 lost, B 30 lost, E 11 active, G 40 lost;
    # business C 30, D 30, F 30, all lost.
    consumer = df[df["grp"] == "consumer"]
    assert sorted(zip(consumer["n_days"], consumer["is_lost"], consumer["n_customers"])) == [
        (11, False, 1), (30, True, 1), (40, True, 1), (60, True, 1)]
    business = df[df["grp"] == "business"]
    assert list(zip(business["n_days"], business["is_lost"], business["n_customers"])) == [(30, True, 3)]
    curves = churn.survival_curves(df)
    # consumer: t=30: 3 at risk (A, B, G), 1 lost: 2/3; t=40: 1/3; t=60: 0. business: t=30: 0.
    assert curves["consumer"]["survival"].tolist() == pytest.approx([1, 2 / 3, 1 / 3, 0])
    assert curves["business"]["survival"].tolist() == pytest.approx([1, 0])
    assert churn.median_lifetime_days(curves["consumer"]) == 40


def test_logrank_on_counts_matches_statsmodels_on_rows(churn_db):
    df = run(churn_db, "churn_survival", group="segment")
    ours = churn.logrank(df)
    rows = df.loc[df.index.repeat(df["n_customers"])]
    chi2, p = survdiff(rows["n_days"].to_numpy(float), rows["is_lost"].to_numpy(float), rows["grp"].to_numpy())
    assert ours["df"] == 1
    assert ours["chi2"] == pytest.approx(chi2)
    assert ours["p_value"] == pytest.approx(p)


def test_survival_by_complaint_history(churn_db):
    df = run(churn_db, "churn_survival", group="complaint", landmark_days=20)
    # A landmark 20 days after the first order (tests/test_definitions.py works it out): B and G complained by
    # theirs; C's complaints came after its landmark (12-21), E's landmark (04-09) is after the as-of day.
    sizes = df.groupby("grp")["n_customers"].sum()
    assert sizes.to_dict() == {"complained": 2, "no complaint": 4}


def test_at_risk_counts_under_the_curve():
    frame = pd.DataFrame({"grp": ["a", "a", "a"], "n_days": [10, 40, 100], "is_lost": [True, False, True],
                          "n_customers": [2, 1, 3]})
    counts = churn.at_risk_counts(frame, ticks_months=(0, 1, 3))
    # month 1 = 30.4 days: those with 40 and 100 days (1 + 3); month 3 = 91.3 days: 100 days (3).
    assert list(counts["n_at_risk"]) == [6, 4, 3]


# --- explicit churn: a subscription export -------------------------------------------------

def test_subscription_export_uses_explicit_definition(subscription_db):
    source = queries.run("churn_source", snap=store.snapshot(subscription_db)).iloc[0]
    assert (source["n_churn_flag"], source["n_churned"], source["n_tenure"], source["n_orders"]) == (8, 3, 8, 0)
    assert churn.choose_definition(source) == "explicit"
    assert churn.choose_definition(source, "orders") == "explicit"  # no orders to fall back on


def test_subscription_summary_drivers_and_survival(subscription_db):
    s = run(subscription_db, "churn_summary", definition="explicit").iloc[0]
    # Churn = Yes: S1, S2, S5 of 8. Active: 5; their monthly charges 50 + 60 + 100 + 40 + 20 = 270 a month.
    assert (s["n_customers"], s["n_churned"], s["n_active"]) == (8, 3, 5)
    assert s["rate_churn"] == 3 / 8
    assert s["amt_revenue_12m"] == 12 * 270
    assert pd.isna(s["rate_churn_12m"])  # no dates: no 12-month window
    drivers = run(subscription_db, "churn_drivers", definition="explicit").set_index(["attribute", "value"])
    # Contract: month-to-month S1, S2, S3, S8 (2 lost); one year S4, S5 (1); two year S6, S7 (0).
    assert tuple(drivers.loc[("contract_type", "Month-to-month"), ["n_customers", "n_churned"]]) == (4, 2)
    assert drivers.loc[("contract_type", "Two year"), "rate_churn"] == 0
    # Extra column PaymentMethod: electronic check S1, S2, S5, S8 (3 lost).
    assert tuple(drivers.loc[("paymentmethod", "Electronic check"), ["n_customers", "n_churned"]]) == (4, 3)
    # No dates: nothing can be placed in a month.
    assert run(subscription_db, "churn_bucket", definition="explicit", grain="month").empty
    # Survival on tenure (months x 30.4375, rounded): 1 -> 30 lost, 2 -> 61 lost, 3 -> 91, 5 -> 152,
    # 12 -> 365 (one lost, one not), 24 -> 731, 30 -> 913.
    # t=30: 8 at risk, 1 lost: 7/8; t=61: 7 at risk: 6/8; t=365: 4 at risk (S4-S7), 1 lost: 0.75 * 3/4.
    frame = run(subscription_db, "churn_survival", definition="explicit", group="none")
    assert frame["n_customers"].sum() == 8
    curve = churn.kaplan_meier(frame["n_days"], frame["is_lost"], frame["n_customers"])
    assert curve["survival"].tolist() == pytest.approx([1, 7 / 8, 6 / 8, 0.5625])
    assert list(curve["n_days"]) == [0, 30, 61, 365]
    assert churn.median_lifetime_days(curve) is None  # never falls to 50%


def test_explicit_churn_with_dates_fills_the_bucket(tmp_path):
    csv = tmp_path / "customers.csv"
    # Signed up / churn date: X 2024-01-10 (churned 2024-02-20), Y 2023-12-01 (no churn), Z 2024-02-05
    # (contract ends 2024-06-30: after the as-of day 03-31, so not yet lost).
    csv.write_text("customer_id,signup_date,churn_date,churned\nX,2024-01-10,2024-02-20,yes\n"
                   "Y,2023-12-01,,no\nZ,2024-02-05,2024-06-30,\n", encoding="utf-8")
    from crmlens import ingest
    db = tmp_path / "dated.duckdb"
    ingest.load_files([csv], db=db)
    df = run(db, "churn_bucket", definition="explicit", grain="month")
    # as of 03-31 (the period end; the newest date, 06-30, is later). Jan: start Y; new X. Feb: new Z, lost X.
    assert list(df["n_start"]) == [1, 2, 2]
    assert list(df["n_new"]) == [1, 1, 0]
    assert list(df["n_lost"]) == [0, 1, 0]
    assert list(df["n_end"]) == [2, 2, 2]


# --- metrics --json ------------------------------------------------------------------------

def test_headline_has_the_fields_the_metrics_contract_asks_for(churn_db):
    out = churn.headline(store.snapshot(churn_db), START, END)
    assert set(out) == {"definition", "periods", "overall_churn_rate", "at_risk_count"}
    assert out["definition"] == "orders"
    # Default settings: at least 90 days or 3 x the median gap. Lost by 03-31: B (12-20 + 93 = 03-22) and
    # nobody else (C: 01-15 + 90 = 04-14; G: 02-11 + 90). Jan start: B, C (gap 31 < 90: one lifetime) and F
    # (gaps 360, 361 < 3 x 360.5: one lifetime since 2022).
    assert [p["period"] for p in out["periods"]] == ["2024-01", "2024-02", "2024-03"]
    assert set(out["periods"][0]) == {"period", "start", "new", "reactivated", "lost", "end", "churn_rate"}
    assert [p["lost"] for p in out["periods"]] == [0, 0, 1]
    assert out["periods"][0]["start"] == 3
    # The period churn rate: lost in the period / active at its start (B, C, F on 01-01; B lost) = 1 / 3, the
    # leaky bucket's first start and its lost summed (0 + 0 + 1). (Over everybody active in the period it was 1 / 7.)
    assert out["overall_churn_rate"] == pytest.approx(round(1 / 3, 4))
    assert out["at_risk_count"] == 3  # C (76 days > 22.5), D (50 > 31), G (49 > 10)


def test_the_lifetime_block_is_written_once_and_shared():
    """The spells (who is active, lost, back) live in queries/shared/churn_spells.sql, used by each query."""
    for name in ("churn_bucket", "churn_summary", "churn_drivers", "churn_survival", "churn_at_risk"):
        assert "-- include: churn_spells" in (queries.QUERY_DIR / f"{name}.sql").read_text()
        assert "spell_no" in queries.sql_text(name)

# --- the real public export (online_retail_semicolon.csv), checked against plain Python ------

def _retail_orders(path):
    """Completed orders of the retail export, read with the csv module: {customer: {day: amount}}.

    One order per InvoiceNo with a CustomerID (not NA); its day is the InvoiceDate (US month-first,
    2- or 4-digit years); its amount is the sum of quantity x unit price. Invoices starting with C or
    lines with a negative quantity would be cancellations (the file has none; checked below).
    """
    import csv
    import collections

    def day(text):
        month, dom, year = text.split()[0].split("/")
        year = int(year) + (2000 if len(year) == 2 else 0)
        return dt.date(year, int(month), int(dom))

    invoices = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter=";"):
            if row["CustomerID"] == "NA":
                continue
            assert not row["InvoiceNo"].upper().startswith("C") and float(row["Quantity"]) >= 0
            inv = invoices.setdefault(row["InvoiceNo"], {"customer": row["CustomerID"], "day": day(row["InvoiceDate"]),
                                                         "amount": 0.0})
            inv["day"] = min(inv["day"], day(row["InvoiceDate"]))
            inv["amount"] += float(row["Quantity"]) * float(row["UnitPrice"])
    assert len(invoices) == 1588
    by_customer = collections.defaultdict(lambda: collections.defaultdict(float))
    for inv in invoices.values():
        by_customer[inv["customer"]][inv["day"]] += inv["amount"]
    return by_customer


def _retail_expected(orders, start, end, n_days, multiplier):
    """The churn figures worked out from the rule itself, with only the orders up to the as-of day."""
    import statistics

    as_of = min(end, max(d for days in orders.values() for d in days))
    seen = {c: {d: a for d, a in days.items() if d <= as_of} for c, days in orders.items()}
    seen = {c: days for c, days in seen.items() if days}
    gaps = {c: [(b - a).days for a, b in zip(sorted(days), sorted(days)[1:])] for c, days in seen.items()}
    everybody = statistics.median([g for gs in gaps.values() for g in gs])
    spells = []  # (customer, number, start, last order, lost day or None)
    usual, last = {}, {}
    for c, days in seen.items():
        usual[c] = statistics.median(gaps[c]) if gaps[c] else everybody
        limit = max(n_days, math.floor(multiplier * usual[c]))
        ordered = sorted(days)
        last[c] = ordered[-1]
        runs = [[ordered[0]]]
        for a, b in zip(ordered, ordered[1:]):
            if (b - a).days > limit:
                runs.append([b])
            else:
                runs[-1].append(b)
        for i, run_days in enumerate(runs, 1):
            lost_on = run_days[-1] + dt.timedelta(days=limit)
            spells.append((c, i, run_days[0], run_days[-1], lost_on if lost_on <= as_of else None))

    def revenue(c, lo, hi):  # the customer's revenue on days lo..hi
        return sum(a for d, a in seen[c].items() if lo <= d <= hi)

    months, first = [], start
    while first <= as_of:
        nxt = (first.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        lastd = min(nxt - dt.timedelta(days=1), as_of)
        alive_at = lambda s, day: s[2] < day and (s[4] is None or s[4] >= day)  # noqa: E731
        n_start = sum(alive_at(s, first) for s in spells)
        lost = [s for s in spells if s[4] is not None and first <= s[4] <= lastd]
        row = {"n_start": n_start,
               "n_new": sum(s[1] == 1 and first <= s[2] <= lastd for s in spells),
               "n_reactivated": sum(s[1] > 1 and first <= s[2] <= lastd for s in spells),
               "n_lost": len(lost), "n_lost_from_start": sum(s[2] < first for s in lost),
               "n_end": sum(s[2] <= lastd and (s[4] is None or s[4] > lastd) for s in spells),
               "amt_revenue_lost": sum(revenue(s[0], s[4] - dt.timedelta(days=365), s[4] - dt.timedelta(days=1))
                                       for s in lost),
               "amt_revenue_base": sum(revenue(c, first - dt.timedelta(days=365), first - dt.timedelta(days=1))
                                       for c in seen),
               "is_complete": first.day == 1 and lastd == nxt - dt.timedelta(days=1)}
        assert row["n_end"] == row["n_start"] + row["n_new"] + row["n_reactivated"] - row["n_lost"]
        months.append(row)
        first = nxt

    latest = {}
    for s in sorted(spells, key=lambda s: s[1]):
        if s[4] is None or s[4] >= start:  # active at some time from start to the as-of day
            latest[s[0]] = s
    active = [c for c, s in latest.items() if s[4] is None]
    at_start = [s for s in spells if s[2] < start and (s[4] is None or s[4] >= start)]
    summary = {"as_of": as_of, "n_customers": len(latest), "n_churned": sum(s[4] is not None for s in latest.values()),
               "n_start": len(at_start), "n_lost_from_start": sum(s[4] is not None for s in at_start),
               "n_lost": sum(s[4] is not None and s[4] >= start for s in spells),
               "n_active": len(active),
               "n_at_risk": sum((as_of - last[c]).days > usual[c] for c in active),
               "amt_revenue_12m": sum(revenue(c, as_of - dt.timedelta(days=364), as_of) for c in active),
               "usual_gap_all": everybody}
    return summary, months


def _check_retail(db, orders, start, end, n_days, multiplier):
    summary, months = _retail_expected(orders, start, end, n_days, multiplier)
    s = run(db, "churn_summary", start=start, end=end, days=n_days, multiplier=multiplier).iloc[0]
    assert s["as_of_date"].date() == summary["as_of"]
    for key in ("n_customers", "n_churned", "n_active", "n_at_risk"):
        assert (key, s[key]) == (key, summary[key])
    for key in ("n_start", "n_lost_from_start", "n_lost"):
        assert (key, s[key]) == (key, summary[key])
    # the period churn rate: lost in the period / active at its start; the share of everybody active in the period
    # that was lost has its own name
    assert s["rate_churn"] == pytest.approx(summary["n_lost_from_start"] / summary["n_start"])
    assert s["rate_churn_any"] == pytest.approx(summary["n_churned"] / summary["n_customers"])
    assert s["usual_gap_all"] == pytest.approx(summary["usual_gap_all"])
    assert s["amt_revenue_12m"] == pytest.approx(summary["amt_revenue_12m"])
    assert s["n_base_12m"] == 0 and pd.isna(s["rate_churn_12m"])  # the data starts 2010-12-01: no year back
    df = run(db, "churn_bucket", start=start, end=end, days=n_days, multiplier=multiplier, grain="month")
    assert len(df) == len(months)
    for key in ("n_start", "n_new", "n_reactivated", "n_lost", "n_lost_from_start", "n_end", "is_complete"):
        assert (key, df[key].tolist()) == (key, [m[key] for m in months])
    for key in ("amt_revenue_lost", "amt_revenue_base"):
        assert (key, df[key].tolist()) == (key, pytest.approx([m[key] for m in months]))
    assert df["rate_churn"].tolist() == pytest.approx([m["n_lost_from_start"] / m["n_start"] for m in months])
    # the headline reconciles with the bucket: the same start, its lost added up
    assert (df["n_start"].iloc[0], df["n_lost"].sum()) == (s["n_start"], s["n_lost"])
    return summary, months


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    from crmlens import ingest
    from tests.conftest import PUBLIC_DATA
    path = PUBLIC_DATA / "online_retail_semicolon.csv"
    db = tmp_path_factory.mktemp("retail") / "r.duckdb"
    ingest.load_files([path], db=db, max_reject_share=0.5)
    return db, _retail_orders(path)


def test_public_retail_export_fixed_days(retail):
    db, orders = retail
    # N = 30, k = 0; the newest order is 2011-02-23, so the figures are as of that day.
    summary, months = _check_retail(db, orders, dt.date(2011, 1, 1), dt.date(2011, 2, 23), 30, 0.0)
    assert summary["as_of"] == dt.date(2011, 2, 23)
    assert months[0]["n_lost"] > 0 and months[1]["n_reactivated"] > 0 and not months[1]["is_complete"]


def test_public_retail_export_median_gap_cut_at_the_period_end(retail):
    db, orders = retail
    # N = 14, k = 3, period ending 2011-02-10: medians and lifetimes only from orders up to that day.
    summary, months = _check_retail(db, orders, dt.date(2011, 1, 1), dt.date(2011, 2, 10), 14, 3.0)
    assert summary["as_of"] == dt.date(2011, 2, 10)
    assert sum(m["n_lost"] for m in months) > 0


def test_a_tie_between_order_values_goes_to_the_latest_order(tmp_path):
    from crmlens import ingest
    orders = tmp_path / "orders.csv"
    # X paid by card, then by wechat; Y the other way round: one order each way, so the latest decides.
    orders.write_text("order_id,customer_id,order_date,amount,payment_method\n"
                      "X1,X,2024-01-05,10,card\nX2,X,2024-02-05,10,wechat\n"
                      "Y1,Y,2024-01-06,10,wechat\nY2,Y,2024-02-06,10,card\n")
    db = tmp_path / "tie.duckdb"
    ingest.load_files([orders], db=db)
    df = run(db, "churn_drivers", days=90)
    paid = df[df["attribute"] == "payment_method"].set_index("value")["n_customers"].to_dict()
    assert paid == {"wechat": 1, "card": 1}  # X: wechat, Y: card (not card twice, as sorting by name would give)


def test_subscribers_ranked_by_their_chance_of_leaving_within_three_months(subscription_db):
    lifetimes = run(subscription_db, "churn_survival", definition="explicit", group="contract")
    chances = churn.leave_chances(lifetimes, churn.survival_curves(lifetimes), horizon_months=3)
    p = chances.set_index(["grp", "tenure_month"])["p_leave"]
    # Month-to-month: S1 lost at 1, S2 at 2, S8 still there at 3, S3 at 5: S(1) = 3/4, S(2) = 1/2, then flat.
    # Followed for 5 months, so tenures 0..2 have a 3-month horizon inside the data.
    assert p["Month-to-month"].tolist() == pytest.approx([1 - 0.5, 1 - 0.5 / 0.75, 0.0])
    # One year: S4 still there and S5 lost at 12: S(12) = 1/2; months 0..9; from month 9 the horizon reaches 12.
    assert p["One year"].tolist() == pytest.approx([0.0] * 9 + [0.5])
    assert set(p["Two year"]) == {0.0}  # nobody left: S6 24, S7 30 months
    listed = run(subscription_db, "churn_subscription_risk", definition="explicit", by_contract=True,
                 sort="expected", limit=10, offset=0, **churn.risk_params(chances))
    # active: S3 (5 months, 50/month), S4 (12, 60), S6 (24, 100), S7 (30, 40), S8 (3, 20); tenures past a group's
    # last month take its last chance: S3 and S8 month 2 (0), S4 month 9 (0.5), S6 and S7 month 27 (0)
    assert listed["customer_id"].tolist() == ["S4", "S6", "S3", "S7", "S8"]  # then by value at stake
    assert listed["p_leave"].tolist() == pytest.approx([0.5, 0, 0, 0, 0])
    assert listed["amt_expected_loss"].tolist() == pytest.approx([0.5 * 720, 0, 0, 0, 0])
    assert (listed["n_total"].iloc[0], listed["amt_total_expected_loss"].iloc[0]) == (5, pytest.approx(360))
    by_value = run(subscription_db, "churn_subscription_risk", definition="explicit", by_contract=True,
                   sort="value", limit=2, offset=1, **churn.risk_params(chances))
    assert by_value["customer_id"].tolist() == ["S4", "S3"]  # 1,200 (S6), 720, 600, ...: the second page of two
