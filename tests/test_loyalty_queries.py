"""Loyalty queries on hand-made fixtures; every expected number is worked out in the comments.

tests/fixtures/loyalty/ladder, ladder at END = 2024-12-31 with the default rules (client: 2+ purchases;
supporter: client with latest satisfaction >= 4 or NPS >= 7 and no unresolved complaint; advocate:
a client (2+ purchases) with NPS >= 9 or 1+ referral (issue 14: one purchase and a high score is not
enough); partner: is_partner, not a consumer segment; surveys count for 365 days; lost: the churn rule set to 180 days flat
(churn_days 180, multiplier 0: lost once last purchase + 180 days <= the date), LOST_180 below):

  prospect  A1 (listed, no order), A2 (opportunity only, no customer row), A3 (only order cancelled),
            V4 (NPS 10 but no purchase: advocates must have bought)                              = 4
  customer  B1 (1 order, blank status counts), B2 (1 order + 1 refunded), B3 (1 order, no customer
            row), B4 (1 order + a -50 refund line: not a purchase), C3 (2nd order is in 2025),
            R1 (1 order), V1 (1 order, NPS exactly 9: not a client yet), V5 (1 order, NPS 10)       = 8
  client    C1 (2 orders; its satisfaction-5 survey is dated 2025), C2 (3 orders, sat 3, NPS 6),
            S2 (sat 5, complaint K1 open), S4 (sat 5 in March, latest sat 2), S6 (sat 5, K3 resolved
            only on 2025-01-05), V3 (referred R3, who is only known from 2025), L1 (2 orders, lapsed) = 7
  supporter S1 (sat exactly 4), S3 (NPS exactly 7; K2 resolved), S5 (two surveys on the same day,
            sat 3 and 5: average 4), S7 (sat 4; K4 'closed' without a resolved date)              = 4
  advocate  V2 (2 orders, referred R1)                                                       = 1
  partner   P1 (flag, no orders), P2 (flag, 3 orders, NPS 10)                                     = 2
  not known by END: R3 (signs up 2025-02-01), F1 (2025-03-01).  Known: 26.
"""

import datetime as dt
import math

import pytest

from crmlens import loyalty, model, queries, store
from tests.conftest import fixture_snapshot

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
LOST_180 = {"churn_days": 180, "churn_multiplier": 0.0}
LOST_365 = {"churn_days": 365, "churn_multiplier": 0.0}  # keeps the 2023 buyers active a year before END (CLV tests)
NO_FILTERS = {"search": "", "states": [], "abc_classes": [], "rfm_segments": [], "quadrants": [],
              "sort": "customer_id", "limit": 100, "offset": 0}


@pytest.fixture(scope="module")
def ladder_snap(tmp_path_factory):
    return fixture_snapshot(tmp_path_factory, "loyalty/ladder")


@pytest.fixture(scope="module")
def value_snap(tmp_path_factory):
    return fixture_snapshot(tmp_path_factory, "loyalty/value")


@pytest.fixture(params=["mart", "live"])
def inputs(request, monkeypatch):
    """Run a test with the rung inputs read from mart_loyalty_months where it keeps the dates, then live."""
    monkeypatch.setattr(model, "USE_LOYALTY_MART", request.param == "mart")
    return request.param


def summary(snap, start=START, end=END, filters=None, **settings):
    return queries.run("loyalty_summary", loyalty.params(start, end, {**LOST_180, **settings}, filters), snap=snap)


def part(df, kind, column="n_customers"):
    rows = df[df["kind"] == kind]
    return dict(zip(rows["key"], rows[column]))


def rung_counts(snap, **settings):
    counts = part(summary(snap, **settings), "rung")
    return {r: int(counts.get(r, 0)) for r in loyalty.RUNGS}


def customers(snap, end=END, **extra):
    p = {**loyalty.params(START, end, LOST_180), **NO_FILTERS, **extra}
    return queries.run("loyalty_customers", p, snap=snap).set_index("customer_id")


DEFAULT_RUNGS = {"prospect": 4, "customer": 8, "client": 7, "supporter": 4, "advocate": 1, "partner": 2}


def test_every_known_customer_sits_on_exactly_one_rung(ladder_snap):
    assert rung_counts(ladder_snap) == DEFAULT_RUNGS
    table = customers(ladder_snap)
    assert len(table) == 26 and table["n_matching"].iloc[0] == 26
    assert "R3" not in table.index and "F1" not in table.index


@pytest.mark.parametrize("customer_id, rung", [
    ("A2", "prospect"), ("A3", "prospect"), ("V4", "prospect"),
    ("B2", "customer"), ("B3", "customer"), ("B4", "customer"), ("C3", "customer"),
    ("C1", "client"), ("S2", "client"), ("S4", "client"), ("S6", "client"), ("V3", "client"),
    ("S1", "supporter"), ("S3", "supporter"), ("S5", "supporter"), ("S7", "supporter"),
    ("V1", "customer"), ("V2", "advocate"), ("V5", "customer"), ("P1", "partner"), ("P2", "partner"),
])
def test_each_rule_and_tie(ladder_snap, customer_id, rung):
    assert customers(ladder_snap).loc[customer_id, "rung"] == rung


def test_purchases_exclude_cancelled_refunded_and_refund_lines(ladder_snap):
    table = customers(ladder_snap)
    assert table.loc["A3", "n_orders"] == 0  # its only order was cancelled
    assert table.loc["B2", "n_orders"] == 1 and table.loc["B2", "amt_revenue_lifetime"] == 100  # 300 refunded
    assert table.loc["B4", "n_orders"] == 1 and table.loc["B4", "amt_revenue_lifetime"] == 50  # 100 - 50
    assert table.loc["B3", "name"] is None or table.loc["B3", "name"] != table.loc["B3", "name"]  # no row


def test_latest_scores_and_open_complaints_at_the_date(ladder_snap):
    table = customers(ladder_snap)
    assert table.loc["S4", "latest_satisfaction"] == 2
    assert table.loc["S5", "latest_satisfaction"] == 4  # (3 + 5) / 2, same day
    assert math.isnan(table.loc["C1", "latest_satisfaction"])  # survey dated after END
    assert table.loc["S2", "n_unresolved"] == 1 and table.loc["S6", "n_unresolved"] == 1
    assert table.loc["S3", "n_unresolved"] == 0 and table.loc["S7", "n_unresolved"] == 0
    assert table.loc["V2", "n_referrals"] == 1 and table.loc["V3", "n_referrals"] == 0


def test_ladder_figures_per_rung(ladder_snap):
    df = summary(ladder_snap)
    revenue = part(df, "rung", "amt_revenue_period")
    # customer rung in 2024: B1 100 + B2 100 + B3 100 + B4 (100 - 50) + C3 100 (2025 order not counted) + R1 100
    #   + V1 100 + V5 100 (one purchase each: not advocates)
    assert revenue["customer"] == 750
    # partner: P2 100 + 100 + 200; prospects bought nothing
    assert revenue["partner"] == 400 and revenue["prospect"] == 0
    assert part(df, "rung", "share_customers")["client"] == pytest.approx(7 / 26)
    # lapsed (last purchase before 2024-07-04): B1 04-01, B2 04-02, B3 and B4 06-20, R1 07-01, L1 02-10
    assert part(df, "rung", "n_lapsed") == {"prospect": 0, "customer": 5, "client": 1, "supporter": 0,
                                            "advocate": 0, "partner": 0}
    # no cost column: profit unknown
    assert all(v != v for v in part(df, "rung", "amt_profit_period").values())


@pytest.mark.parametrize("settings, moved", [
    # K1 (S2) and K3 (S6) are now tolerated: both become supporters
    ({"max_unresolved": 1}, {"client": 5, "supporter": 6}),
    # satisfaction 5 needed: S1, S5 (avg 4), S7 fall back to client; S3 stays through NPS 7
    ({"satisfaction_min": 5}, {"client": 10, "supporter": 1}),
    # NPS 8 needed for supporters: S3 (7) falls to client
    ({"nps_supporter_min": 8}, {"client": 8, "supporter": 3}),
    # NPS 10 for advocates: V2 stays one through its referral, V1 and V5 were customers already
    ({"nps_advocate_min": 10}, {}),
    # V2 has one referral only: back to client
    ({"min_referrals": 2}, {"client": 8, "advocate": 0}),
    # without the flag, P1 (no orders) is a prospect and P2 (3 orders, NPS 10) an advocate
    ({"use_partner_flag": False}, {"prospect": 5, "advocate": 2, "partner": 0}),
    # 3 purchases for a client: only C2 keeps it (2-purchase clients and supporters become customers,
    # and so does V2: an advocate must be a client first): 8 + 6 + 4 + 1
    ({"min_orders_client": 3}, {"customer": 19, "client": 1, "supporter": 0, "advocate": 0}),
])
def test_each_setting_moves_the_customers_it_should(ladder_snap, settings, moved):
    assert rung_counts(ladder_snap, **settings) == {**DEFAULT_RUNGS, **moved}


def test_filters_keep_matching_customer_rows_only(ladder_snap):
    # business: B4, C2, S2, S6, V5; customers without a row (A2, B3) have no segment
    assert rung_counts(ladder_snap, **{}) == DEFAULT_RUNGS
    df = summary(ladder_snap, filters={"segment": ["business"]})
    assert {k: int(v) for k, v in part(df, "rung").items()} == {"customer": 2, "client": 3}  # V5: one purchase


def test_no_surveys_are_reported_as_a_blind_spot(ladder_snap):
    cov = loyalty.Coverage.from_row(queries.run("loyalty_coverage", snap=ladder_snap).iloc[0])
    assert cov.has_satisfaction and cov.has_nps and cov.has_referrals and not cov.has_cost
    assert cov.blind_spots() == []
    blind = loyalty.Coverage(True, True, True, False, False, False, True, True)
    assert blind.blind_spots() == ["loyalty.blind.no_surveys_referrals"]
    assert blind.merged_rungs() == {"client": "loyalty.merged.client_no_surveys"}


def test_coverage_counts_every_order_line_and_those_with_a_cost(tmp_path_factory):
    """tests/fixtures/churn/orders.csv: 15 lines (B2 cancelled counts as a line too), a cost on A1, A2, A3 only."""
    cov = queries.run("loyalty_coverage", snap=fixture_snapshot(tmp_path_factory, "churn")).iloc[0]
    assert (int(cov["n_orders"]), int(cov["n_orders_with_cost"])) == (15, 3)
    assert loyalty.Coverage.from_row(cov).has_cost


# Movements, monthly from 2024-10-01: period ends 09-30, 10-31, 11-30, 12-31.
# From 11-30 to 12-31 (lost at 11-30: last purchase before 06-03; at 12-31: before 07-04):
EXPECTED_DECEMBER_FLOWS = {
    ("prospect", "prospect", "stayed"): 3,   # A1, A2, A3
    ("lost", "lost", "stayed"): 3,           # B1, B2, L1
    ("customer", "lost", "left"): 3,         # B3, B4 (06-20), R1 (07-01)
    ("client", "client", "stayed"): 4,       # C1, C2, S4, V3
    ("customer", "customer", "stayed"): 3,   # C3, V1 and V5 (NPS on 12-01, but one purchase: no advocates)
    ("supporter", "supporter", "stayed"): 4,  # S1, S3, S5, S7
    ("supporter", "client", "fell"): 2,      # S2 (K1 on 12-01), S6 (K3 on 12-20)
    ("advocate", "advocate", "stayed"): 1,   # V2
    ("new", "prospect", "joined"): 1,        # V4 signs up 12-05
    ("partner", "partner", "stayed"): 2,     # P1, P2
}


def movements(snap, start, end, grain="month"):
    return queries.run("loyalty_movements", {**loyalty.params(start, end, LOST_180), "grain": grain}, snap=snap)


def test_movements_between_month_ends(ladder_snap, inputs):
    p = {**loyalty.params(dt.date(2024, 10, 1), END, LOST_180), "grain": "month"}
    assert model.use_loyalty_mart(ladder_snap, "loyalty_movements", p) == (inputs == "mart")
    df = movements(ladder_snap, dt.date(2024, 10, 1), END)
    pairs = sorted({(a.date(), b.date()) for a, b in zip(df["from_date"], df["to_date"])})
    assert pairs == [(dt.date(2024, 9, 30), dt.date(2024, 10, 31)), (dt.date(2024, 10, 31), dt.date(2024, 11, 30)),
                     (dt.date(2024, 11, 30), dt.date(2024, 12, 31))]
    december = df[df["to_date"].dt.date == END]
    flows = {(r.from_state, r.to_state, r.direction): r.n_customers for r in december.itertuples()}
    assert flows == EXPECTED_DECEMBER_FLOWS
    # revenue after 11-30: P2's 200 on 12-10
    assert december["amt_revenue"].sum() == 200
    assert december.set_index(["from_state", "to_state"]).loc[("partner", "partner"), "amt_revenue"] == 200


def test_movement_dates_by_quarter_and_for_a_partial_last_month(ladder_snap, inputs):
    df = movements(ladder_snap, START, END, grain="quarter")
    assert sorted({d.date() for d in df["to_date"]}) == [dt.date(2024, 3, 31), dt.date(2024, 6, 30),
                                                         dt.date(2024, 9, 30), END]
    assert df["from_date"].min().date() == dt.date(2023, 12, 31)
    df = movements(ladder_snap, dt.date(2024, 10, 1), dt.date(2024, 12, 15))
    assert df["to_date"].max().date() == dt.date(2024, 12, 15)


def test_flow_customers_are_listed_a_page_at_a_time(ladder_snap, inputs):
    p = {**loyalty.params(START, END, LOST_180), "from_date": dt.date(2024, 11, 30), "to_date": END,
         "from_state": "customer", "to_state": "lost", "limit": 2, "offset": 0}
    assert model.use_loyalty_mart(ladder_snap, "loyalty_flow_customers", p) == (inputs == "mart")
    first = queries.run("loyalty_flow_customers", p, snap=ladder_snap)
    second = queries.run("loyalty_flow_customers", {**p, "offset": 2}, snap=ladder_snap)
    assert first["n_matching"].iloc[0] == 3
    # ordered by revenue between the dates (all 0), then id
    assert list(first["customer_id"]) + list(second["customer_id"]) == ["B3", "B4", "R1"]
    assert set(first["from_rung"]) == {"customer"}
    stayed = queries.run("loyalty_flow_customers", {**p, "to_state": "customer", "limit": 10}, snap=ladder_snap)
    assert list(stayed["customer_id"]) == ["C3", "V1", "V5"]  # V1 and V5: a high NPS after one purchase


def test_customer_table_search_filter_sort_and_paging(ladder_snap):
    assert list(customers(ladder_snap, search="sierra").index) == ["S1", "S2", "S3", "S4", "S5", "S6", "S7"]
    assert list(customers(ladder_snap, search="b3").index) == ["B3"]  # by id, without a customer row
    assert list(customers(ladder_snap, states=["lost"]).index) == ["B1", "B2", "B3", "B4", "L1", "R1"]
    assert list(customers(ladder_snap, states=["partner", "advocate"]).index) == ["P1", "P2", "V2"]
    page = customers(ladder_snap, limit=5, offset=5, sort="customer_id")
    assert list(page.index) == ["B3", "B4", "C1", "C2", "C3"]
    assert page["n_matching"].iloc[0] == 26


# tests/fixtures/loyalty/value, period 2024 (revenue in the period; no costs, so the margin is the default 30% of
# revenue, margin.FALLBACK, unless a margin is typed):
#   X1 5 x 100 (last 12-01) = 500 | X2 100 + 100 (last 12-20) = 200 | X3 100 (06-01) | X4 100 (03-01)
#   X5 50 (12-31) | X6 3 x 10 (last 11-01) = 30 | X7 20 (01-15) | X8 100 (07-01) - 150 refund = -50
#   X9 only a cancelled order. 2023-06-01: 100 each for X1, X2, X3, X7 and Y1 (nothing since).


def test_abc_classes_with_ties_and_exact_boundaries(value_snap):
    # Positive values: 500, 200, 100, 100, 50, 30, 20 (total 1000). Share held by customers worth more:
    # X1 0%, X2 50%, X3 and X4 70% (tied: same class), X5 90%, X6 95% (exactly: not below 95), X7 98%.
    df = summary(value_snap)
    assert part(df, "abc") == {"A": 4, "B": 1, "C": 2}
    assert part(df, "abc", "amt_value_period") == {"A": 900, "B": 50, "C": 50}
    table = customers(value_snap)
    assert list(table["abc_class"].fillna("-")) == ["A", "A", "A", "A", "B", "C", "C", "-", "-", "-"]
    # A up to 70%: X3 and X4 sit exactly on the line -> B; B up to 85%: X5 (90%) -> C
    assert part(summary(value_snap, abc_a=70), "abc") == {"A": 2, "B": 2, "C": 3}


def test_top_20_percent_share(value_snap):
    # 7 customers with revenue: the top ceil(1.4) = 2 (X1, X2) hold 700 of 1000
    total = summary(value_snap).query("kind == 'total'").iloc[0]
    assert total["n_top"] == 2
    assert total["share_value_top"] == pytest.approx(0.7)


def test_pareto_curve_percentiles(value_snap):
    df = summary(value_snap)
    curve = dict(zip(df.loc[df["kind"] == "pareto", "key"].astype(int), df.loc[df["kind"] == "pareto", "share_value_cumulative"]))
    # rank r of 7 lands in percentile ceil(100 r / 7): 15, 29, 43, 58, 72, 86, 100
    assert sorted(curve) == [15, 29, 43, 58, 72, 86, 100]
    assert curve[15] == pytest.approx(0.5) and curve[29] == pytest.approx(0.7) and curve[100] == pytest.approx(1.0)


def test_rfm_scores_and_segments(value_snap):
    # Recency at 2024-12-31: X7 351, X4 305, X3 213, X8 183, X6 60, X1 30, X2 11, X5 0 days (8 scored).
    # score = 1 + floor(5 (rank - 1) / 8), ranks by older first / fewer / less; ties share the lower rank.
    # R: X7 1, X4 1, X3 2, X8 2, X6 3, X1 4, X2 4, X5 5
    # F: 1 order (X3, X4, X5, X7, X8) rank 1 -> 1; X2 (2) rank 6 -> 4; X6 (3) rank 7 -> 4; X1 (5) -> 5
    # M: X8 -50 -> 1, X7 20 -> 1, X6 30 -> 2, X5 50 -> 2, X3 = X4 = 100 rank 5 -> 3, X2 200 -> 4, X1 500 -> 5
    # FM = (F + M + 1) // 2: X1 5, X2 4, X3 2, X4 2, X5 2, X6 3, X7 1, X8 1
    table = customers(value_snap)
    scores = {c: (r.r_score, r.f_score, r.m_score, r.rfm_segment) for c, r in table.dropna(subset=["r_score"]).iterrows()}
    assert scores == {
        "X1": (4, 5, 5, "loyal"), "X2": (4, 4, 4, "loyal"), "X3": (2, 1, 3, "hibernating"),
        "X4": (1, 1, 3, "lost"), "X5": (5, 1, 2, "potential"), "X6": (3, 4, 2, "potential"),
        "X7": (1, 1, 1, "lost"), "X8": (2, 1, 1, "hibernating"),
    }
    assert part(summary(value_snap), "rfm") == {"hibernating": 2, "lost": 2, "loyal": 2, "potential": 2}
    grid = summary(value_snap).query("kind == 'rfm_grid'")
    cells = {(int(k), int(k2)): n for k, k2, n in zip(grid["key"], grid["key2"], grid["n_customers"])}
    assert cells == {(4, 5): 1, (4, 4): 1, (2, 2): 1, (1, 2): 1, (5, 2): 1, (3, 3): 1, (1, 1): 1, (2, 1): 1}


def discounted_years(retention, rate, years):
    """By hand: the sum over each future year of survival (retention^t) discounted ((1 + rate)^t)."""
    return sum(retention ** t / (1 + rate) ** t for t in range(1, years + 1))


def test_clv_hand_calculation(value_snap):
    # Yearly retention = 1 - the 12-month churn rate, by the lost rule: with a year-long rule, active on 2024-01-01
    # (END - 365): X1, X2, X3, X7, Y1 (last order 2023-06-01, lost on 2024-05-31 unless they ordered again); still
    # active on END: X1, X2, X3 (new lifetimes from their 2024 orders), X7 (2024-01-15, lost 2025-01-14); Y1 was lost
    # -> retention 4 / 5. (A 180-day rule had lost them all by 2024-01-01: no retention to observe.) Bought in the
    # last 365 days: X1..X8 (8); their revenue 500 + 200 + 100 + 100 + 50 + 30 + 20 - 50 = 950 -> 118.75 per
    # customer. No costs: the margin typed here (100%) is the whole revenue; the default (30%) is tested in
    # test_value_definitions.
    total = summary(value_snap, margin_pct=100, **LOST_365).query("kind == 'total'").iloc[0]
    assert total["n_prev_active"] == 5 and total["n_retained"] == 4
    assert total["rate_retention"] == pytest.approx(0.8)
    assert total["amt_margin_year_per_active"] == pytest.approx(118.75)
    years = discounted_years(0.8, 0.10, 10)  # 2.5563
    assert years == pytest.approx(2.5563, abs=1e-4)
    assert total["factor_discounted_years"] == pytest.approx(years)
    assert total["amt_clv_forward"] == pytest.approx(118.75 * years)  # about 303.56
    # undiscounted expected years over the horizon: 0.8 + 0.64 + ... + 0.8^10
    assert total["years_expected"] == pytest.approx(sum(0.8 ** t for t in range(1, 11)))
    # marketing 10 a year and a 5% risk cost: (118.75 x 0.95 - 10) x years
    costly = summary(value_snap, marketing_cost=10, risk_cost_pct=5, margin_pct=100, **LOST_365).query("kind == 'total'").iloc[0]
    assert costly["amt_clv_forward"] == pytest.approx(102.8125 * years)
    # per customer: own margin of the last 365 days x the same factor; Y1 bought nothing that year
    table = customers(value_snap, **loyalty.params(START, END, {**LOST_365, "margin_pct": 100}))
    assert table.loc["X1", "amt_clv_forward"] == pytest.approx(500 * years)
    assert table.loc["Y1", "amt_clv_forward"] == 0
    assert table.loc["X1", "amt_margin_lifetime"] == 600  # historical value: 2023 and 2024


def test_clv_by_channel_uses_each_groups_retention(value_snap):
    df = summary(value_snap, margin_pct=100, **LOST_365)
    rate = part(df, "channel", "rate_retention")
    # online: X1, X2, Y1 active a year before, X1 and X2 still -> 2/3; store: X3, X7 both still -> 1
    assert rate["online"] == pytest.approx(2 / 3) and rate["store"] == pytest.approx(1.0)
    # store margin: X3..X8 = 100 + 100 + 50 + 30 + 20 - 50 = 250 over 6 -> 41.667 a year; r = 1: 1/1.1 ...
    clv = part(df, "channel", "amt_clv_forward")
    assert clv["store"] == pytest.approx(250 / 6 * discounted_years(1.0, 0.10, 10))


def test_value_quadrants_by_recency_and_by_complaints(value_snap):
    # lifetime revenue of the 9 buyers: -50, 30, 50, 100 (X4), 100 (Y1), 120 (X7), 200 (X3), 300, 600;
    # median 100 -> high value: X1, X2, X3, X4, X7, Y1. Risk: more than 90 days without a purchase:
    # X3 213, X4 305, X7 351, X8 183, Y1 579 days.
    table = customers(value_snap)
    quad = table["quadrant"].dropna().to_dict()
    assert quad == {"X1": "key", "X2": "key", "X3": "risky", "X4": "risky", "X7": "risky", "Y1": "risky",
                    "X5": "marginal", "X6": "marginal", "X8": "dog"}
    assert part(summary(value_snap), "quadrant") == {"dog": 1, "key": 2, "marginal": 2, "risky": 4}
    # risk = 1+ complaint in the period: X1 (K1) and X5 (K2, K3)
    by_complaints = part(summary(value_snap, risk_measure="complaints"), "quadrant")
    assert by_complaints == {"dog": 1, "key": 5, "marginal": 2, "risky": 1}


def test_headline_for_metrics(value_snap):
    out = loyalty.headline(value_snap, START, END)
    assert set(out) == {"rungs", "abc", "top20_revenue_share", "rfm_segments"}
    assert out["abc"] == {"A": 4, "B": 1, "C": 2}
    assert out["top20_revenue_share"] == 0.7
    assert out["rfm_segments"]["loyal"] == 2 and out["rfm_segments"]["champions"] == 0
    # X1..X8 and Y1 bought (X2 with two orders in 2024 and one in 2023 ...), X9 only cancelled: prospect
    assert out["rungs"]["prospect"] == 1
    assert sum(out["rungs"].values()) == 10


def test_the_rung_rules_and_measures_are_written_once_and_shared():
    text = {n: (queries.QUERY_DIR / f"{n}.sql").read_text() for n in queries.names() if n.startswith("loyalty_")}
    assert sorted(n for n, t in text.items() if "-- include: loyalty_rung_rules" in t) == [
        "loyalty_climb", "loyalty_customers", "loyalty_flow_customers", "loyalty_movements", "loyalty_summary",
        "loyalty_triage"]
    assert sorted(n for n, t in text.items() if "-- include: loyalty_customer_measures" in t) == [
        "loyalty_customers", "loyalty_summary", "loyalty_triage"]


# --- a real export: UCI Online Retail invoice lines (../shared/data/public) --------------------------


def retail_invoices() -> list[tuple[str, str, dt.date, float]]:
    """Adapter: one order per invoice (sum of quantity x unit price), skipping lines without a customer and
    cancellation invoices ('C...'). Dates are US style, with 4- or 2-digit years."""
    import csv
    from tests.conftest import PUBLIC_DATA

    invoices: dict[str, list] = {}
    with open(PUBLIC_DATA / "online_retail_semicolon.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            if row["CustomerID"] in ("", "NA") or row["InvoiceNo"].startswith("C"):
                continue
            day = row["InvoiceDate"].split()[0]
            month, mday, year = (int(x) for x in day.split("/"))
            date = dt.date(year + 2000 if year < 100 else year, month, mday)
            cents = round(float(row["Quantity"]) * float(row["UnitPrice"]) * 100)
            inv = invoices.setdefault(row["InvoiceNo"], [row["CustomerID"], date, 0])
            inv[1] = min(inv[1], date)
            inv[2] += cents
    return [(no, c, d, cents / 100) for no, (c, d, cents) in invoices.items()]


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    from crmlens import ingest

    folder = tmp_path_factory.mktemp("retail")
    rows = retail_invoices()
    path = folder / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount\n"
                    + "".join(f"{no},{c},{d.isoformat()},{a:.2f}\n" for no, c, d, a in rows), encoding="utf-8")
    ingest.load_files([path], db=folder / "retail.duckdb")
    return store.snapshot(folder / "retail.duckdb"), rows


def test_real_export_rungs_abc_and_top_share_match_an_independent_count(retail):
    snap, rows = retail
    start, end = min(r[2] for r in rows), max(r[2] for r in rows)
    # independently: purchases (invoices with a positive total) and revenue per customer, in cents
    purchases, revenue = {}, {}
    for _, customer, _, amount in rows:
        purchases[customer] = purchases.get(customer, 0) + (amount > 0)
        revenue[customer] = revenue.get(customer, 0) + round(amount * 100)
    expected_rungs = {"prospect": sum(n == 0 for n in purchases.values()),
                      "customer": sum(n == 1 for n in purchases.values()),
                      "client": sum(n >= 2 for n in purchases.values())}
    # ABC: largest first; class from the share held by customers worth strictly more
    values = sorted((v for v in revenue.values() if v > 0), reverse=True)
    total = sum(values)
    classes = {"A": 0, "B": 0, "C": 0}
    for v in values:
        before = sum(x for x in values if x > v)
        classes["A" if before * 100 < 80 * total else "B" if before * 100 < 95 * total else "C"] += 1
    top = sum(values[:math.ceil(len(values) * 0.2)]) / total

    out = loyalty.headline(snap, start, end)
    assert {k: v for k, v in out["rungs"].items() if v} == {k: v for k, v in expected_rungs.items() if v}
    assert sum(out["rungs"].values()) == len(purchases)
    assert out["abc"] == classes
    assert out["top20_revenue_share"] == pytest.approx(top, abs=1e-4)
    assert expected_rungs["customer"] > 100 and expected_rungs["client"] > 100  # a real mix, not a degenerate file


def flow(snap, from_date, to_date, a, b, **settings):
    p = {**loyalty.params(START, END, {**LOST_180, **settings}), "from_date": from_date, "to_date": to_date,
         "from_state": a, "to_state": b, "limit": 10, "offset": 0}
    return queries.run("loyalty_flow_customers", p, snap=snap).set_index("customer_id")


def test_flow_customers_name_where_they_stand_lost_included_and_what_they_spent_between(ladder_snap):
    """Step 2024-07-31 -> 2024-08-31 with the 180-day rule:
    L1 (orders 01-10, 02-10: a client) is lost from 02-10 + 180 = 08-08: client -> lost, nothing bought
      between the dates (0), still 2 purchases, last 02-10; "Rung after" says lost, not the client rung the
      rules would give.
    C1 (orders 07-01, 08-01): customer at 07-31, client at 08-31; revenue between the dates: the 100 of 08-01.
    With a 20-day rule (multiplier 0) C1 is lost at 07-31 (07-01 + 20 = 07-21) and again at 08-31 (08-01 + 20 =
    08-21), yet bought 100 in between: lost -> lost with 100."""
    jul, aug = dt.date(2024, 7, 31), dt.date(2024, 8, 31)
    left = flow(ladder_snap, jul, aug, "client", "lost")
    assert list(left.index) == ["L1"]
    assert left.loc["L1", ["from_rung", "to_rung", "n_orders", "amt_revenue_between"]].tolist() == ["client", "lost", 2, 0]
    assert left.loc["L1", "last_ordered_at"].date() == dt.date(2024, 2, 10)
    climbed = flow(ladder_snap, jul, aug, "customer", "client")
    assert climbed.loc["C1", ["from_rung", "to_rung", "amt_revenue_between"]].tolist() == ["customer", "client", 100]
    short = flow(ladder_snap, jul, aug, "lost", "lost", churn_days=20, churn_multiplier=0.0)
    assert short.loc["C1", ["from_rung", "to_rung", "amt_revenue_between"]].tolist() == ["lost", "lost", 100]
    # the revenue between the dates comes first among the figures, so a wide table does not hide it off screen
    assert list(left.columns[:4]) == ["name", "from_rung", "to_rung", "amt_revenue_between"]


def test_flow_customers_not_known_at_the_first_date_are_new(ladder_snap):
    """V4 signs up 2024-12-05 (no order): between 11-30 and 12-31 it joins as a prospect."""
    joined = flow(ladder_snap, dt.date(2024, 11, 30), END, "new", "prospect")
    assert joined.loc["V4", ["from_rung", "to_rung", "amt_revenue_between"]].tolist() == ["new", "prospect", 0]


def test_clv_basis_by_hand(value_snap):
    """clv_basis, what the lifetime value reckons with (test_clv_hand_calculation): with a year-long rule, of X1, X2,
    X3, X7, Y1 (active on 2024-01-01) all but Y1 are still active on 2024-12-31 -> 4 / 5; X1..X8 bought in 2024,
    margin 100% of 950 -> 118.75 each. Online only: X1, X2, Y1 a year before, X1 and X2 still -> 2 / 3; X1 500 + X2
    200 -> 350 each. With a 180-day rule nobody was active on 2024-01-01 (lost on 2023-11-28): no retention."""
    def basis(rule=LOST_365, **filters):
        p = loyalty.params(START, END, {**rule, "margin_pct": 100}, filters)
        return queries.run("clv_basis", p, snap=value_snap).iloc[0]

    total = basis()
    assert (total["n_prev_active"], total["n_retained"], total["n_active_year"]) == (5, 4, 8)
    assert total["rate_retention"] == pytest.approx(0.8) and total["amt_margin_year_per_active"] == pytest.approx(118.75)
    online = basis(channel=["online"])
    assert (online["n_prev_active"], online["n_retained"]) == (3, 2)
    assert online["rate_retention"] == pytest.approx(2 / 3)
    assert online["n_active_year"] == 2 and online["amt_margin_year_per_active"] == pytest.approx(350)
    short = basis(LOST_180)
    assert short["n_prev_active"] == 0 and math.isnan(short["rate_retention"])
    assert short["amt_margin_year_per_active"] == pytest.approx(118.75)
