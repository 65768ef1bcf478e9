"""Issue 14, items 1-4 and 9: the definitions behind the lifetime value, the margin, the ladder rules, the value
quadrants' treatments and the churn what-if. Every expected number is worked out by hand in the docstrings.
"""

import datetime as dt
import functools

import pandas as pd
import pytest

from crmlens import churn, climb, i18n, loyalty, margin, queries
from tests.conftest import fixture_snapshot

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
LOST_180 = {"churn_days": 180, "churn_multiplier": 0.0}
# The CLV's retention counts the customers active a year before the end by the lost rule: the fixture's 2023 buyers
# ordered on 2023-06-01, so a 180-day rule has lost them all by 2024-01-01; a year-long rule keeps them until
# 2024-05-31 (test_loyalty_queries.test_clv_hand_calculation).
LOST_365 = {"churn_days": 365, "churn_multiplier": 0.0}


def discounted_years(retention, rate=0.10, years=10):
    """By hand: the sum over each future year of survival (retention^t) discounted ((1 + rate)^t)."""
    return sum(retention ** t / (1 + rate) ** t for t in range(1, years + 1))


@pytest.fixture(scope="module")
def rules_snap(tmp_path_factory):
    return fixture_snapshot(tmp_path_factory, "loyalty/rules")


@pytest.fixture(scope="module")
def value_snap(tmp_path_factory):
    return fixture_snapshot(tmp_path_factory, "loyalty/value")


def summary(snap, **settings):
    return queries.run("loyalty_summary", loyalty.params(START, END, {**LOST_180, **settings}), snap=snap)


def part(df, kind, column="n_customers"):
    rows = df[df["kind"] == kind]
    return dict(zip(rows["key"], rows[column]))


# --- item 3: ladder rules -----------------------------------------------------------------------------

def rungs(snap, **settings):
    counts = part(summary(snap, **settings), "rung")
    return {r: int(counts[r]) for r in loyalty.RUNGS if counts.get(r)}


def test_advocates_are_clients_first_surveys_expire_and_partners_are_businesses(rules_snap):
    """tests/fixtures/loyalty/rules at END 2024-12-31, default rules (client: 2+ purchases; surveys count for
    365 days; every order 100, all in Sept-Nov 2024, so nobody is lost):

      K1 consumer, flagged partner, 2 orders, no survey: a consumer is no partner -> client
      K2 business, flagged, 1 order -> partner
      K3 no segment, flagged, no orders: segment unknown, the flag holds -> partner
      K4 个人 (a consumer word), flagged, 3 orders, NPS 10 on 2024-06-01 (213 days old) -> advocate
      A1 1 order, NPS 10 on 2024-12-01: one purchase is not yet a client, so no advocate -> customer
      A2 2 orders, NPS 9 on 2024-12-01 -> advocate
      A3 2 orders, NPS 10 on 2023-06-01: 579 days old, outside the window -> client
      A4 2 orders, satisfaction 5 on 2024-01-01: exactly 365 days old, inside -> supporter
      A5 2 orders, satisfaction 5 on 2023-12-31: 366 days old, outside -> client
    """
    assert rungs(rules_snap) == {"customer": 1, "client": 3, "supporter": 1, "advocate": 2, "partner": 2}
    table = queries.run("loyalty_customers", {**loyalty.params(START, END, LOST_180), "search": "", "states": [],
                                              "abc_classes": [], "rfm_segments": [], "quadrants": [],
                                              "sort": "customer_id", "limit": 100, "offset": 0},
                        snap=rules_snap).set_index("customer_id")
    assert table["rung"].to_dict() == {"A1": "customer", "A2": "advocate", "A3": "client", "A4": "supporter",
                                       "A5": "client", "K1": "client", "K2": "partner", "K3": "partner", "K4": "advocate"}
    # the expired answers are no answers: A3's NPS and A5's satisfaction are not shown as current
    assert pd.isna(table.loc["A3", "latest_nps"]) and pd.isna(table.loc["A5", "latest_satisfaction"])
    assert table.loc["A4", "latest_satisfaction"] == 5


def test_the_survey_window_is_a_setting(rules_snap):
    """730 days: A3's NPS (579 days) makes it an advocate, A5's satisfaction (366) a supporter.
    364 days: A4's answer (365 days) expires too: client."""
    assert rungs(rules_snap, survey_days=730) == {"customer": 1, "client": 1, "supporter": 2, "advocate": 3,
                                                  "partner": 2}
    assert rungs(rules_snap, survey_days=364) == {"customer": 1, "client": 4, "advocate": 2, "partner": 2}


def test_without_the_partner_flag_businesses_fall_to_their_purchases(rules_snap):
    """K2 (1 order) -> customer, K3 (no order) -> prospect; K1 and K4 were never partners."""
    assert rungs(rules_snap, use_partner_flag=False) == {"prospect": 1, "customer": 2, "client": 3, "supporter": 1,
                                                         "advocate": 2}


# --- item 2: one margin ------------------------------------------------------------------------------

def test_order_margin_and_clv_factor_are_one_definition_each(rules_snap):
    """order_margin: typed rate x amount wins; else amount - cost; else the fallback x amount.
    clv_factor(0.8, 10%, 10 years) = sum (0.8 / 1.1)^t = 2.55627; q = 1.1 / 1.1 = 1: the horizon, 10."""
    row = rules_snap.query(
        "select order_margin(100, 60, null, 0.3) as by_cost, order_margin(100, null, null, 0.3) as by_fallback, "
        "order_margin(100, 60, 0.5, 0.3) as typed, clv_factor(0.8, 10, 10) as f, clv_factor(1.1, 10, 10) as f_one, "
        "clv_factor(null, 10, 10) as f_none").iloc[0]
    assert (row["by_cost"], row["by_fallback"], row["typed"]) == (40, 30, 50)
    assert row["f"] == pytest.approx(discounted_years(0.8)) == pytest.approx(2.55627, abs=1e-5)
    assert row["f_one"] == 10 and pd.isna(row["f_none"])
    assert margin.params(None) == {"margin_rate": None, "margin_fallback": 0.3}
    assert margin.params(25) == {"margin_rate": 0.25, "margin_fallback": 0.3}
    assert [margin.source(None, False), margin.source(None, True), margin.source(40.0, True)] == \
        ["fallback", "costs", "typed"]


def test_clv_without_costs_uses_the_margin_setting_not_the_revenue(value_snap):
    """tests/fixtures/loyalty/value has no cost column. The last 365 days' revenue of the 8 active customers is
    950 (see test_loyalty_queries). Default margin 30%: 950 x 0.3 / 8 = 35.625 a customer, CLV 35.625 x 2.55627
    = 91.07 (before: the whole revenue, 118.75, called profit). Typed 50%: 59.375, CLV 151.78."""
    total = summary(value_snap, **LOST_365).query("kind == 'total'").iloc[0]
    assert total["amt_margin_year_per_active"] == pytest.approx(35.625)
    assert total["amt_clv_forward"] == pytest.approx(91.0672, abs=1e-3)
    typed = summary(value_snap, margin_pct=50, **LOST_365).query("kind == 'total'").iloc[0]
    assert typed["amt_margin_year_per_active"] == pytest.approx(59.375)
    assert typed["amt_clv_forward"] == pytest.approx(151.7787, abs=1e-3)


# --- item 1: a retention the grouping does not decide ---------------------------------------------------

def test_clv_of_outcome_groups_uses_the_overall_retention_and_attributes_their_own(value_snap):
    """Overall retention, with a year-long lost rule: of the 5 customers active on 2024-01-01 (X1, X2, X3, X7, Y1, last
    order 2023-06-01), 4 are still active on 2024-12-31 (Y1 was lost on 2024-05-31) = 0.8, factor 2.55627.

    RFM 'loyal' = X1, X2, both active a year before and still active: own retention 100% (a segment needs a purchase
    in the period, the outcome retention measures, so its own retention is biased). Now the overall 0.8 with their margin 0.3 x (500 + 200) / 2 = 105: CLV 268.41
    (own retention would give 105 x 6.14457 = 645.18).
    Rung 'customer' (one purchase): X4 100, X5 50, X8 100 - 150 refund, Y1 (2023 only). Own retention 0 (Y1, the
    only one active a year before, bought once, so never again): CLV 0 before. Now 0.8 with their margin: X4 30 + X5 15 +
    X8 (30 - 45) = 30 over 3 active = 10 a customer: CLV 25.56.
    Channel 'store' (X3..X8; X3 and X7 active a year before, both still active): a channel is known a year ahead,
    so its own retention 1.0 stays: margin 0.3 x 250 / 6 = 12.5, CLV 12.5 x 6.14457 = 76.81."""
    df = summary(value_snap, **LOST_365)
    rows = df.set_index(["kind", "key"])
    loyal = rows.loc[("rfm", "loyal")]
    assert loyal["retention_basis"] == "overall" and loyal["rate_retention"] == pytest.approx(0.8)
    assert pd.isna(loyal["n_prev_active"]) and pd.isna(loyal["n_retained"])
    assert loyal["amt_margin_year_per_active"] == pytest.approx(105)
    assert loyal["amt_clv_forward"] == pytest.approx(268.4087, abs=1e-3)
    one = rows.loc[("rung", "customer")]
    assert one["retention_basis"] == "overall" and one["amt_clv_forward"] == pytest.approx(25.5627, abs=1e-3)
    store_row = rows.loc[("channel", "store")]
    assert store_row["retention_basis"] == "own" and store_row["rate_retention"] == pytest.approx(1.0)
    assert store_row["n_prev_active"] == 2 and store_row["n_retained"] == 2
    assert store_row["amt_clv_forward"] == pytest.approx(76.8071, abs=1e-3)
    # every group decided by the last year's purchases takes the overall retention
    assert set(df.loc[df["kind"].isin(["rung", "abc", "rfm", "rfm_grid", "quadrant", "pareto"]), "retention_basis"]) == {"overall"}
    assert set(df.loc[df["kind"].isin(["total", "segment", "channel"]), "retention_basis"]) == {"own"}


# --- item 4: treatments per seed 003 ------------------------------------------------------------------

def test_quadrant_treatments_follow_the_seed_and_say_when_risk_is_recency():
    """重点型 keep, 风险型 watch, 鸡肋型 reduce the cost to serve, 瘦狗型 let go; with risk = recency the
    risky and dog wording says they have stopped buying (no 'raise the price' for customers already gone)."""
    en = i18n.catalog("en")
    words = {q: en[loyalty.treatment_key(q, "complaints")] for q in loyalty.QUADRANTS}
    assert words["key"].startswith("Keep") and words["risky"].startswith("Watch")
    assert words["marginal"].startswith("Reduce the cost to serve") and words["dog"].startswith("Let go")
    recency = {q: en[loyalty.treatment_key(q, "recency")] for q in loyalty.QUADRANTS}
    assert recency["key"] == words["key"] and recency["marginal"] == words["marginal"]
    assert "stopped buying" in recency["dog"] and "price" not in recency["dog"]
    assert "no purchase" in recency["risky"]
    assert climb.TRIAGE == {"key": "keep", "risky": "watch", "marginal": "reduce_cost", "dog": "let_go"}


@pytest.mark.parametrize("risk_measure", ["recency", "complaints"])
def test_the_quadrant_tiles_give_the_treatment_the_table_gives(risk_measure):
    """The chart's tiles and the table beside them read crmlens.loyalty.treatment_key: with risk = recency the tiles
    said 'Let go: ... price so that they may leave' while the table said the customers had stopped buying."""
    from crmlens.charts.loyalty import quadrants

    t = functools.partial(i18n.translate, "en")
    df = pd.DataFrame({"key": list(loyalty.QUADRANTS), "n_customers": [4, 3, 2, 1],
                       "amt_value_lifetime": [400.0, 300.0, 200.0, 100.0]})
    tiles = {a.text.split("</b>")[0].removeprefix("<b>"): a.text for a in quadrants(df, t, "en", "value", "risk",
                                                                                      risk_measure).layout.annotations}
    for quad in loyalty.QUADRANTS:
        assert tiles[t(f"loyalty.quad.{quad}")].endswith(f"<i>{t(loyalty.treatment_key(quad, risk_measure))}</i>")


# --- item 9: the what-if over the customers' lifetime ----------------------------------------------------

def test_what_if_gives_the_12_month_and_the_lifetime_gain(rules_snap):
    """100 active customers, 12-month revenue 100,000 (1,000 each), 12-month churn 30%, cut by 5 points,
    margin 30%.
    12 months (unchanged): kept 100 x 0.05 = 5; revenue 5 x 1,000 x half a year = 2,500; profit 750.
    Lifetime, the loyalty CLV formula with its defaults (10% discount, 10 years, no marketing or risk cost) and the
    Loyalty ladder's basis (clv_basis): 100 customers bought in the last 365 days, margin 300 a year each, yearly
    retention 70%, raised by the 5 points cut: r = 0.70 -> 0.75; factor sum (r / 1.1)^t: 1.730941 -> 2.096333
    (+0.365392); CLV 519.28 -> 628.90 a customer; gain 100 x 300 x 0.365392 = 10,961.75.
    Marketing 50 a year and risk 10%: (300 x 0.9 - 50) = 220 a year -> 100 x 220 x 0.365392 = 8,038.61."""
    s = pd.Series({"rate_churn_12m": 0.30, "n_active": 100, "amt_revenue_12m": 100_000.0})
    result = churn.what_if(s, 5, 0.3)
    assert result["n_kept"] == pytest.approx(5) and result["amt_revenue_gained"] == pytest.approx(2500)
    assert result["amt_profit_gained"] == pytest.approx(750)
    basis = pd.Series({"rate_retention": 0.70, "amt_margin_year_per_active": 300.0, "n_active_year": 100})
    clv = {name: loyalty.DEFAULTS[name] for name in churn.CLV_SETTINGS}
    factors = queries.run("churn_whatif_lifetime", churn.lifetime_params(result, basis, clv), snap=rules_snap).iloc[0]
    assert (factors["factor_before"], factors["factor_after"]) == (
        pytest.approx(discounted_years(0.70)), pytest.approx(discounted_years(0.75)))
    life = churn.what_if_lifetime(result, basis, clv, snap=rules_snap)
    assert life["rate_retention_before"] == pytest.approx(0.70) and life["rate_retention_after"] == pytest.approx(0.75)
    assert life["factor_before"] == pytest.approx(1.730941, abs=1e-6)
    assert life["factor_after"] == pytest.approx(2.096333, abs=1e-6)
    assert life["amt_clv_before"] == pytest.approx(519.2824, abs=1e-3)
    assert life["amt_profit_gained_lifetime"] == pytest.approx(10961.7468, abs=1e-3)
    costly = churn.what_if_lifetime(result, basis, {**clv, "marketing_cost": 50, "risk_cost_pct": 10}, snap=rules_snap)
    assert costly["amt_profit_gained_lifetime"] == pytest.approx(8038.6143, abs=1e-3)
    no_rate = churn.what_if(pd.Series({"rate_churn_12m": float("nan"), "rate_churn": float("nan"), "n_active": 0}), 5, 0.3)
    assert churn.what_if_lifetime(no_rate, basis, clv, snap=rules_snap) is None
    no_history = pd.Series({"rate_retention": float("nan"), "amt_margin_year_per_active": float("nan"), "n_active_year": 0})
    assert churn.what_if_lifetime(result, churn.lifetime_basis(result, "orders", no_history), clv, snap=rules_snap) is None


def test_no_lifetime_gain_without_a_basis():
    """From orders the basis is clv_basis's row; none without a retention or without a customer who bought in the last
    365 days (a period ending a year after the data: its margin is NaN and there is nobody to apply it to)."""
    result = churn.what_if(pd.Series({"rate_churn_12m": 0.30, "n_active": 10, "amt_revenue_12m": 1_000.0}), 5, 0.3)
    row = pd.Series({"rate_retention": 0.7, "amt_margin_year_per_active": 30.0, "n_active_year": 10})
    assert churn.lifetime_basis(result, "orders", row) is row
    assert churn.lifetime_basis(result, "orders", row.copy().replace({10: 0})) is None
    assert churn.lifetime_basis(result, "orders", pd.Series({**row, "amt_margin_year_per_active": float("nan"),
                                                            "n_active_year": 0})) is None
    assert churn.lifetime_basis(result, "orders", pd.Series({**row, "rate_retention": float("nan")})) is None
    listed = churn.lifetime_basis(result, "explicit", None)
    assert listed["rate_retention"] == pytest.approx(0.7) and listed["amt_margin_year_per_active"] == pytest.approx(30)
    assert listed["n_active_year"] == 10


def test_a_cut_never_raises_retention_past_everyone(rules_snap):
    """Retention 98% and churn cut by 5 points: r after is 100%, not 103%."""
    result = churn.what_if(pd.Series({"rate_churn_12m": 0.30, "n_active": 10, "amt_revenue_12m": 1_000.0}), 5, 0.3)
    basis = pd.Series({"rate_retention": 0.98, "amt_margin_year_per_active": 30.0, "n_active_year": 10})
    clv = {name: loyalty.DEFAULTS[name] for name in churn.CLV_SETTINGS}
    assert churn.lifetime_params(result, basis, clv)["retention_after"] == 1.0


@pytest.mark.parametrize("lang, labels", [("en", ["2026-09-30", "2026-10-31"]), ("zh", ["2026年9月30日", "2026年10月31日"])])
def test_each_movement_bar_stands_under_its_own_end_date(lang, labels):
    """On a date axis the bar of 2026-10-31 stood under the tick "2026-11", after the period. Each bar is a category
    named by its end date, in date order whichever direction comes first."""
    from crmlens.charts.loyalty import movement_trend

    moves = pd.DataFrame({"to_date": pd.to_datetime(["2026-10-31", "2026-09-30", "2026-10-31"]),
                          "direction": ["left", "climbed", "climbed"], "n_customers": [2, 5, 3]})
    fig = movement_trend(moves, functools.partial(i18n.translate, lang), "month", lang)
    assert fig.layout.xaxis.type == "category" and list(fig.layout.xaxis.categoryarray) == labels
    climbed = next(tr for tr in fig.data if tr.name == i18n.translate(lang, "loyalty.direction.climbed"))
    assert list(climbed.x) == labels and list(climbed.y) == [5, 3]
    left = next(tr for tr in fig.data if tr.name == i18n.translate(lang, "loyalty.direction.left"))
    assert list(left.x) == labels[1:] and list(left.y) == [-2]
