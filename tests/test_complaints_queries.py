"""Complaints queries on tests/fixtures/complaints, every number worked out by hand.

Period 2024-01-01..2024-03-31 (Q1). Times in hours; stored in UTC when the file gives a zone.

complaint  customer created (stored)    category (file -> key)            sev     response  resolved  sat  reopen
K1         C1       01-10 09:00          质量 -> product_quality            high    1 h       24 h      2    0
K2         C1       02-05 02:00 (10:00+08:00) Product Quality -> product_quality High 1 h (03:00Z) 72 h (02-08 10:00+08:00) 1  1
K3         C2       01-25 14:00          服务态度 -> service_attitude        low     6 h       12 h      5    0
K4         C3       03-20 08:00          price                              medium  4 h       open
K5         -        03-31 22:00 (04-01 06:00+08:00: in Q1 once in UTC) 物流 -> delivery  -   -  open
K6         C4       02-15 09:00          Billing -> billing                 low     0.5 h     120 h     3    0
K7         C1       03-01 09:00          配送 -> delivery                   medium  2 h       24 h      4    2
K8         C2       2023-12-20 10:00     价格 (before the period; resolved 2024-01-02 10:00)
K9         rejected at load: resolved before created
K10        C4       03-28 10:00          "hardware " -> hardware            low     -         336 h (04-11 10:00)
K11        C3       03-05 10:00          Hardware -> hardware               low     1 h       4 h

In Q1: K1-K7, K10, K11 = 9 complaints. As-of time (newest timestamp): K10's resolution, 2024-04-11 10:00,
so K4 has been open 22 d 2 h = 530 h and K5 10 d 12 h = 252 h.
Completed orders: C1 2023-11-01 100, 01-05 200, 02-10 300 | C2 01-20 500, 06-20 100 | C3 2023-12-01 50,
03-01 80, 03-10 20 | C4 02-01 1000 (06-25 999 cancelled) | C5 (no customer row) 03-15 40, 06-30 60.
"""

import collections
import csv
import datetime as dt
import pathlib
import statistics
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import survdiff

from crmlens import complaints as cx
from crmlens import ingest, queries, store
from tests.conftest import FIXTURES

START, END = dt.date(2024, 1, 1), dt.date(2024, 3, 31)
SLA = {"high": 24.0, "medium": 48.0, "low": 72.0}


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    db = tmp_path_factory.mktemp("complaints") / "c.duckdb"
    # K9 (resolved before created) is 1 bad row of 11: allow it so the load goes through and rejects it.
    ingest.load_files(sorted((FIXTURES / "complaints").glob("*.csv")), db=db, max_reject_share=0.2)
    return store.snapshot(db)


def run(snap, name, filters=None, sla=SLA, **settings):
    return queries.run(name, cx.params(snap, START, END, filters, sla=sla, **settings), snap=snap)


def test_categories_in_both_languages_and_cases_merge(snap):
    df = run(snap, "complaints_by_dimension", dimension="category")
    # delivery K5+K7, hardware K10+K11, product_quality K1+K2; then billing, price, service_attitude with 1 each.
    assert list(df["value"]) == ["delivery", "hardware", "product_quality", "billing", "price", "service_attitude"]
    assert list(df["n_complaints"]) == [2, 2, 2, 1, 1, 1]
    assert df["cum_share"].round(4).tolist() == [round(x / 9, 4) for x in (2, 4, 6, 7, 8, 9)]
    pq = df.set_index("value").loc["product_quality"]
    assert pq["n_customers"] == 1  # both from C1
    assert pq["median_hours_to_resolve"] == pytest.approx(48.0)  # 24 and 72
    assert pq["avg_satisfaction"] == pytest.approx(1.5)  # 2 and 1


def test_category_mapping_has_no_name_in_two_categories():
    p = cx.category_params()
    assert len(p["category_aliases"]) == len(set(p["category_aliases"]))
    assert dict(zip(p["category_aliases"], p["category_keys"]))["产品质量"] == "product_quality"
    assert dict(zip(p["category_aliases"], p["category_keys"]))["after sales repair"] == "after_sales_repair"


def test_category_by_month_heatmap(snap):
    df = run(snap, "complaints_dimension_month")
    cells = {(c, str(m)[:7]): n for c, m, n, _ in df.itertuples(index=False)}
    assert set(df["n_values"]) == {6}  # the six categories of test_categories_in_both_languages_and_cases_merge
    # Jan: K1 product_quality, K3 service_attitude | Feb: K2 product_quality, K6 billing |
    # Mar: K4 price, K5 delivery (03-31 22:00 UTC), K7 delivery, K10 + K11 hardware.
    assert cells == {("product_quality", "2024-01"): 1, ("service_attitude", "2024-01"): 1,
                     ("product_quality", "2024-02"): 1, ("billing", "2024-02"): 1, ("price", "2024-03"): 1,
                     ("delivery", "2024-03"): 2, ("hardware", "2024-03"): 2}


def test_the_heatmap_follows_the_chosen_breakdown_and_keeps_its_most_frequent_values(snap):
    """By region: East C1 (K1 Jan, K2 Feb, K7 Mar), C3 (K4 Mar, K11 Mar); West C2 (K3 Jan), C4 (K6 Feb, K10 Mar);
    K5 (Mar) has no customer. Three values; with room for two, East (5) and West (3), not the one not given (1)."""
    def cells(df):
        return {(v if v == v else None, str(m)[:7]): n for v, m, n, _ in df.itertuples(index=False)}

    by_region = run(snap, "complaints_dimension_month", dimension="region")
    assert cells(by_region) == {("East", "2024-01"): 1, ("East", "2024-02"): 1, ("East", "2024-03"): 3,
                                ("West", "2024-01"): 1, ("West", "2024-02"): 1, ("West", "2024-03"): 1,
                                (None, "2024-03"): 1}
    top_two = run(snap, "complaints_dimension_month", dimension="region", limit=2)
    assert cells(top_two) == {k: n for k, n in cells(by_region).items() if k[0] is not None}
    assert set(top_two["n_values"]) == {3}


def test_extra_columns_sub_category_and_region(snap):
    sub = run(snap, "complaints_by_dimension", dimension="sub_category").set_index("value")["n_complaints"]
    assert sub["外观"] == 2 and sub["duplicate charge"] == 1 and sub[sub.index.isna()].iloc[0] == 6
    region = run(snap, "complaints_by_dimension", dimension="region")
    # East: C1 (K1, K2, K7) and C3 (K4, K11) = 5; West: C2 (K3), C4 (K6, K10) = 3; K5 has no customer.
    assert dict(zip(region["value"].fillna("-"), region["n_complaints"])) == {"East": 5, "West": 3, "-": 1}


def test_filters(snap):
    assert run(snap, "complaints_coverage", {"category": ["delivery"]}).iloc[0]["n_complaints"] == 2  # K5, K7
    assert run(snap, "complaints_coverage", {"region": ["East"]}).iloc[0]["n_complaints"] == 5
    assert run(snap, "complaints_coverage", {"severity": ["high"]}).iloc[0]["n_complaints"] == 2  # high + High


def test_coverage(snap):
    c = run(snap, "complaints_coverage").iloc[0]
    assert c["n_complaints"] == 9
    assert c["n_with_customer"] == 8  # K5 has none
    assert c["n_active_customers"] == 5  # C1..C5 ordered in Q1
    assert c["n_orders"] == 7  # C1 x2, C2, C3 x2, C4, C5
    assert c["as_of_at"] == pd.Timestamp("2024-04-11 10:00")


def test_volume_rates_and_backlog(snap):
    v = run(snap, "complaints_volume", grain="month").set_index("bucket_start")
    assert list(v["n_complaints"]) == [2, 2, 5]  # Jan K1 K3 | Feb K2 K6 | Mar K4 K5 K7 K10 K11
    assert list(v["n_active_customers"]) == [2, 2, 2]  # Jan C1 C2 | Feb C1 C4 | Mar C3 C5
    assert list(v["n_orders"]) == [2, 2, 3]
    assert v["rate_per_100_customers"].tolist() == pytest.approx([100.0, 100.0, 250.0])
    assert v["rate_per_1000_orders"].tolist() == pytest.approx([1000.0, 1000.0, 5000 / 3])
    # Resolved: Jan K8 (01-02) K1 K3 | Feb K2 K6 | Mar K7 K11.
    assert list(v["n_resolved"]) == [3, 2, 2]
    # Backlog: K8 open at the start (1); Jan -K8 +K1 -K1 +K3 -K3 = 0; Feb 0; Mar +K4 +K10 +K5 = 3.
    assert list(v["n_open_end"]) == [0, 0, 3]


def test_speed_medians_and_breaches(snap):
    s = run(snap, "complaints_speed")
    total = s[s["level"] == "all"].iloc[0]
    # Resolved: 4, 12, 24, 24, 72, 120, 336 -> median 24; p90 at 5.4: 120 + 0.4 x 216 = 206.4.
    assert total["median_hours_to_resolve"] == pytest.approx(24.0)
    assert total["p90_hours_to_resolve"] == pytest.approx(206.4)
    # Responses: 0.5, 1, 1, 1, 2, 4, 6 -> median 1; p90: 4 + 0.4 x 2 = 4.8.
    assert total["median_hours_to_response"] == pytest.approx(1.0)
    assert total["p90_hours_to_response"] == pytest.approx(4.8)
    # Breached: K2 (72 > 24), K4 (open 530 > 48), K5 (open 252 > other 72), K6 (120 > 72), K10 (336 > 72).
    # K1 took exactly its 24 h: within. All 9 are judged (resolved, or open past their SLA).
    assert (total["n_breached"], total["n_decided"], total["n_open_breached"]) == (5, 9, 2)
    assert total["rate_breach"] == pytest.approx(5 / 9)
    assert total["n_open"] == 2
    sev = s[s["level"] == "severity"].set_index("severity")
    assert sev.loc["high", "rate_breach"] == pytest.approx(0.5)  # K1 ok, K2 breached
    assert sev.loc["low", "rate_breach"] == pytest.approx(0.5)  # K6, K10 of K3, K6, K10, K11


def test_sla_hours_change_the_breach_rate(snap):
    total = lambda sla: run(snap, "complaints_speed", sla=sla).query("level == 'all'").iloc[0]  # noqa: E731
    assert total({**SLA, "low": 200.0})["n_breached"] == 4  # K6 (120 h) now within
    assert total({**SLA, "low": 400.0})["rate_breach"] == pytest.approx(3 / 9)  # K10 (336 h) too
    # An open complaint still within its SLA is not judged yet: K4 (530 h open) with 1000 h.
    t = total({**SLA, "medium": 1000.0})
    assert (t["n_breached"], t["n_decided"]) == (4, 8)


def test_kaplan_meier_median_treats_open_complaints_as_censored(snap):
    df = run(snap, "complaints_resolution_survival")
    assert df["n_event"].sum() == 7 and df["n_censored"].sum() == 2
    assert df.loc[df["n_censored"] > 0, "t"].round(2).tolist() == [252.0, 530.0]
    km = cx.kaplan_meier(df)
    # S: 4 h 8/9, 12 h 7/9, 24 h 5/9, 72 h 4/9 (first <= 0.5), 120 h 3/9, 252 h censored, 336 h 1/6.
    assert km.surv_prob.tolist() == pytest.approx([8 / 9, 7 / 9, 5 / 9, 4 / 9, 3 / 9, 1 / 6])
    assert cx.km_quantile(km, 0.5) == 72.0  # versus 24 h when the open ones are dropped
    assert cx.km_quantile(km, 0.9) is None  # never 90% resolved


def test_greenwood_standard_error_with_frequency_weights():
    # Times 1 (3 events), 2 (2 events, 1 censored), 3 (4 events): n at risk 10, 7, 4.
    df = pd.DataFrame({"t": [1.0, 2.0, 3.0], "n_event": [3, 2, 4], "n_censored": [0, 1, 0]})
    km = cx.kaplan_meier(df)
    s1, s2 = 0.7, 0.7 * 5 / 7
    assert km.surv_prob.tolist() == pytest.approx([s1, s2, 0.0])
    assert cx.greenwood_se(km)[:2] == pytest.approx([s1 * np.sqrt(3 / (10 * 7)), s2 * np.sqrt(3 / 70 + 2 / (7 * 5))])


def test_time_bands(snap):
    b = run(snap, "complaints_time_bands").set_index("band")
    # Responses: none for K5, K10 (-1); <= 4 h: K1 K2 K4 K6 K7 K11; 4-24 h: K3.
    assert b["n_response"].to_dict() == {-2: 0, -1: 2, 0: 6, 1: 1, 2: 0, 3: 0, 4: 0}
    # Resolution: open K4 K5; <= 4 h K11; 4-24 h K3 K1 K7; 24-72 h K2; 72-168 h K6; > 168 h K10.
    assert b["n_resolve"].to_dict() == {-2: 0, -1: 2, 0: 1, 1: 3, 2: 1, 3: 1, 4: 1}


def test_oldest_open(snap):
    o = run(snap, "complaints_oldest_open", limit=20)
    assert list(o["complaint_id"]) == ["K4", "K5"]
    assert o["hours_open"].tolist() == pytest.approx([530.0, 252.0])
    assert o["days_open"].tolist() == pytest.approx([530.0 / 24, 10.5])  # K4 22 d 2 h, K5 10 d 12 h
    assert list(o["sla_hours"]) == [48.0, 72.0]


def test_satisfaction_by_category_and_band(snap):
    s = run(snap, "complaints_satisfaction")
    cat = s[s["kind"] == "category"].set_index("value")
    assert cat.loc["product_quality", "avg_satisfaction"] == pytest.approx(1.5)
    assert cat.loc["product_quality", "share_dissatisfied"] == 1.0
    assert (cat.loc["hardware", "n_resolved"], cat.loc["hardware", "n_rated"]) == (2, 0)
    band = s[s["kind"] == "band"].set_index("value")
    # 4-24 h: K3 5, K1 2, K7 4 -> 11/3; satisfied K3 K7.
    assert band.loc["1", "avg_satisfaction"] == pytest.approx(11 / 3)
    assert band.loc["1", "share_satisfied"] == pytest.approx(2 / 3)
    assert band.loc["2", "avg_satisfaction"] == 1.0  # K2


def test_repeat_complainers_and_reopened(snap):
    r = run(snap, "complaints_repeat", repeat_days=90).iloc[0]
    # C1: 26 and 25 days apart; C3: 15 days; C4: 41 days; C2 once in Q1 (K8 is before it).
    assert (r["n_complainers"], r["n_repeat_complainers"]) == (4, 3)
    assert r["rate_repeat"] == 0.75
    assert run(snap, "complaints_repeat", repeat_days=20).iloc[0]["n_repeat_complainers"] == 1  # only C3
    # Reopen known for K1 K2 K3 K6 K7; reopened K2 (1) and K7 (2).
    assert (r["n_reopen_known"], r["n_reopened"]) == (5, 2)
    assert r["rate_reopened"] == pytest.approx(0.4)


def test_repeat_customers_list(snap):
    df = run(snap, "complaints_repeat_customers", limit=20)
    assert list(df["customer_id"]) == ["C1", "C4", "C3"]  # 3 complaints, then 2 each, newest last complaint first
    assert df.iloc[0]["categories"] == "delivery, product_quality"


# Churn at the newest completed order, 2024-06-30; 90 days before it: 2024-04-01.
# Complainers in Q1: C1 (first K1, 24 h), C2 (K3, 12 h), C3 (K11, 4 h), C4 (K6, 120 h). Others: C5 only.
def test_churn_with_a_fixed_number_of_days(snap):
    c = run(snap, "complaints_churn", churn_days=90, churn_multiplier=0.0, revenue_days=365)
    overall = c[c["kind"] == "all"].set_index("grp")
    # Last orders: C1 02-10, C3 03-10, C4 02-01 (lost); C2 06-20, C5 06-30 (still buying).
    assert overall.loc["complainers", ["n_customers", "n_churned"]].tolist() == [4, 3]
    assert overall.loc["others", ["n_customers", "n_churned"]].tolist() == [1, 0]
    # Revenue in the 365 days before the first complaint: C1 100 + 200, C3 50 + 80, C4 1000.
    assert overall.loc["complainers", "amt_revenue_lost"] == pytest.approx(1430.0)
    assert pd.isna(overall.loc["others", "amt_revenue_lost"])
    cat = c[c["kind"] == "category"].set_index("grp")
    assert cat["n_churned"].to_dict() == {"product_quality": 1, "hardware": 1, "billing": 1, "service_attitude": 0}
    assert cat.loc["billing", "amt_revenue_lost"] == 1000.0
    band = c[c["kind"] == "band"].set_index("grp")
    assert band.loc["1", ["n_customers", "n_churned"]].tolist() == [2, 1]  # C1 lost, C2 not
    assert band.loc["3", "rate_churn"] == 1.0  # C4
    # Like with like (follow_days 90 by default): each followed 90 days from their start (first complaint; C5
    # from its first Q1 order 03-15), all within the data (06-30). Lost within 90 days: C4 (02-15 -> 05-01, 76) and
    # C2 (complaint 01-25; no order from 01-20 to 06-20: lost on 04-19, 85 days, back on 06-20: lost within the
    # follow-up although not lost now, the Follow-up page's rule); C1 (01-10 -> 05-10, 121) and C3 (03-05 -> 06-08,
    # 95) later: complainers 2 of 4. The other, C5 (start 03-15, no order until 06-30: lost on 06-13, 90 days, back on
    # 06-30), is lost within the follow-up too: 1 of 1. Revenue of the two complainers in the 365 days before the
    # complaint: C4 1000, C2 500 (01-20).
    assert overall.loc["complainers", ["n_followed", "n_churned_followed"]].tolist() == [4, 2]
    assert overall.loc["complainers", "rate_churn_followed"] == 0.5
    assert overall.loc["others", ["n_followed", "n_churned_followed", "rate_churn_followed"]].tolist() == [1, 1, 1]
    assert overall.loc["complainers", "amt_revenue_lost_followed"] == 1500.0
    assert overall.loc["complainers", "amt_revenue_lost"] == pytest.approx(1430.0)  # C2 is not lost now: not in it
    # 60 days: C3 (03-05 + 60 = 05-04) and C5 (05-14) still followed in full; nobody lost within 60 days of start
    # (C2's loss came 85 days after its complaint, C5's 90 days after its start)
    c60 = run(snap, "complaints_churn", churn_days=90, churn_multiplier=0.0, revenue_days=365, follow_days=60)
    assert c60[c60["kind"] == "all"].set_index("grp")["n_churned_followed"].tolist() == [0, 0]


def test_churn_with_the_gap_rule(snap):
    # The churn page's rule (customer_spells), as of the newest order day 2024-06-30. Everybody's gaps between
    # order days: C1 65, 36; C2 152; C3 91, 9; C5 107 -> median (65 + 91) / 2 = 78.
    # C1 median 50.5 x 3 = floor 151.5 = 151 days: lost from 02-10 + 151 = 07-10, after 06-30: not lost.
    # C3 median 50 x 3 = 150: lost from 08-07: not lost. C4 (one order day) takes everybody's 78 x 3 = 234:
    # lost from 09-22: not lost. So no complainer is lost (the old complaints rule lost C4 after 90 days).
    c = run(snap, "complaints_churn", churn_days=90, churn_multiplier=3.0, revenue_days=365)
    overall = c[c["kind"] == "all"].set_index("grp")
    assert overall.loc["complainers", "n_churned"] == 0
    assert overall.loc["complainers", "amt_revenue_lost"] == 0.0


def test_retention_curves_and_log_rank(snap):
    s = run(snap, "complaints_churn_survival", churn_days=90, churn_multiplier=0.0)
    # Complainers from their first complaint to the day they count as lost (last order + 90 days, as on the
    # churn page): C4 02-15 -> 05-01 = 76, C3 03-05 -> 06-08 = 95, C1 01-10 -> 05-10 = 121; C2 censored at 157
    # (01-25 -> 06-30). C5 censored at 107 (03-15 -> 06-30).
    rows = {(g, t): (e, c) for g, t, e, c in s[["grp", "t", "n_event", "n_censored"]].itertuples(index=False)}
    assert rows == {("complainers", 76): (1, 0), ("complainers", 95): (1, 0), ("complainers", 121): (1, 0),
                    ("complainers", 157): (0, 1), ("others", 107): (0, 1)}
    test = cx.log_rank(s)
    # At 76: 4 of 5 at risk are complainers, at 95: 3 of 4, at 121: 2 of 2 (C5 censored at 107).
    # O - E = 3 - (4/5 + 3/4 + 1) = 9/20; V = 4/25 + 3/16 + 0 = 139/400; chi2 = (81/400) / (139/400) = 81/139.
    assert test["chi2"] == pytest.approx(81 / 139)
    expanded = s.loc[s.index.repeat(s["n_event"] + s["n_censored"])]
    status = np.concatenate([[1] * e + [0] * c for e, c in zip(s["n_event"], s["n_censored"])])
    chi2, p = survdiff(expanded["t"].to_numpy(float), status, expanded["grp"].to_numpy())
    assert test["chi2"] == pytest.approx(chi2) and test["p_value"] == pytest.approx(p)
    curve = cx.km_curve(s)
    comp = curve[curve["grp"] == "complainers"]
    assert comp["surv"].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.25])


def test_cox_rows_and_regression(snap):
    rows = run(snap, "complaints_churn_cox", churn_days=90, churn_multiplier=0.0).set_index("customer_id")
    # C4: complaint 02-15, lost 05-01 (last order 02-01 + 90 days) = 76 days; K6 took 120 h > 72 h SLA
    assert rows.loc["C4", ["duration_days", "is_churned", "is_breached"]].tolist() == [76, 1, 1]
    assert rows.loc["C1", "resolution_days"] == pytest.approx(1.0)
    assert cx.cox(rows.reset_index()).empty  # 4 complainers: too few to fit
    # A synthetic check: breached complainers leave at twice the rate -> hazard ratio near 2.
    rng = np.random.default_rng(7)
    n = 4000
    breached = rng.random(n) < 0.5
    time = rng.exponential(np.where(breached, 50.0, 100.0))
    df = pd.DataFrame({"duration_days": np.minimum(time, 300), "is_churned": (time < 300).astype(int),
                       "category": rng.choice(["a", "b"], n), "resolution_days": rng.random(n),
                       "is_breached": breached.astype(int)})
    hr = cx.cox(df).set_index("term")
    assert hr.loc["is_breached", "hazard_ratio"] == pytest.approx(2.0, rel=0.1)
    assert hr.loc["is_breached", "p_value"] < 0.001


def test_a_category_nobody_left_from_gets_no_hazard_ratio():
    """Category 'c' (300 complainers) has no one lost: its fitted hazard ratio drifted to 0.00 with a range of 0.00 to
    infinity and p 1.000, a figure the data cannot give. It is listed blank and not estimable; the rest is fitted
    (breached complainers leave at twice the rate: near 2)."""
    rng = np.random.default_rng(11)
    n = 3000
    breached = rng.random(n) < 0.5
    category = rng.choice(["a", "b", "c"], n, p=[0.5, 0.4, 0.1])
    time = rng.exponential(np.where(breached, 50.0, 100.0))
    churned = (time < 300) & (category != "c")
    df = pd.DataFrame({"duration_days": np.minimum(time, 300), "is_churned": churned.astype(int), "category": category,
                       "resolution_days": rng.random(n), "is_breached": breached.astype(int)})
    hr = cx.cox(df).set_index("term")
    assert not hr.loc["category:c", "is_estimable"]
    assert hr.loc["category:c", ["hazard_ratio", "lower", "upper", "p_value"]].isna().all()
    assert hr.loc["category:b", "is_estimable"] and np.isfinite(hr.loc["category:b", "upper"])
    assert hr.loc["is_breached", "hazard_ratio"] == pytest.approx(2.0, rel=0.15)


def test_filter_options_merge_spellings(snap):
    o = run(snap, "complaints_filter_options")
    cat = o[o["dimension"] == "category"].set_index("value")["n_rows"]
    assert cat["hardware"] == 2 and cat["price"] == 2  # K4 price + K8 价格 (all loaded rows, any date)
    assert set(o.loc[o["dimension"] == "complaint_channel", "value"]) == {"phone", "wechat", "email", "web"}


def test_headline(snap):
    h = cx.headline(snap, START, END)
    assert h["total"] == 9
    assert h["by_category"] == {"delivery": 2, "hardware": 2, "product_quality": 2, "billing": 1, "price": 1,
                                "service_attitude": 1}
    assert h["median_resolution_hours"] == 72.0
    assert h["sla_breach_rate"] == pytest.approx(5 / 9, abs=1e-4)
    # default rule (test_churn_with_the_gap_rule): nobody lost yet
    assert (h["churn_rate_complainers"], h["churn_rate_others"]) == (0.0, 0.0)
    assert set(h) == {"total", "by_category", "median_resolution_hours", "sla_breach_rate", "churn_rate_complainers",
                      "churn_rate_others"}


# ---- a real ticket export: ServiceNow incidents (../shared/data/public) ---------------------------------
SERVICENOW = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "public" / "servicenow_incidents_rest.csv"
SN_SLA = {"1": 24.0, "2": 24.0, "3": 48.0, "4": 72.0, "5": 72.0}  # priority 1 = critical ... 5 = planning


@pytest.fixture(scope="module")
def servicenow(tmp_path_factory):
    """Adapt the export's columns to the contract (the importer's column mapping is issue 4) and load it."""
    tmp = tmp_path_factory.mktemp("servicenow")
    with open(SERVICENOW, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    adapted = tmp / "complaints.csv"
    renames = {"number": "complaint_id", "opened_at": "created_at", "category": "category",
               "subcategory": "sub_category", "contact_type": "channel", "priority": "severity",
               "incident_state": "status", "resolved_at": "resolved_at", "reopen_count": "reopen_count"}
    with open(adapted, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(renames.values()))
        writer.writeheader()
        writer.writerows({new: row[old] for old, new in renames.items()} for row in rows)
    db = tmp / "sn.duckdb"
    # 4 of 67 incidents have no category: loaded, their category "not given"
    [result] = ingest.load_files([adapted], db=db)
    assert (result.n_loaded, len(result.rejects)) == (67, 0)
    return rows, store.snapshot(db)


def _ts(text):
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def test_servicenow_counts_by_category_merge_cases(servicenow):
    rows, snap = servicenow
    expected = collections.Counter(r["category"].strip().lower() or None for r in rows)
    assert expected["hardware"] == 10 and expected[None] == 4  # 9 x hardware + 1 x Hardware; 4 without a category
    by_cat = queries.run("complaints_by_dimension", cx.params(snap, dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
                         snap=snap)
    assert {None if pd.isna(v) else v: n for v, n in zip(by_cat["value"], by_cat["n_complaints"])} == dict(expected)


def test_servicenow_resolution_times_and_breaches(servicenow):
    rows, snap = servicenow
    kept = rows  # (every incident, with or without a category)
    hours = [(_ts(r["resolved_at"]) - _ts(r["opened_at"])).total_seconds() / 3600 for r in kept if r["resolved_at"]]
    as_of = max(max(_ts(r["opened_at"]) for r in kept), max(_ts(r["resolved_at"]) for r in kept if r["resolved_at"]))
    breached = decided = 0
    for r in kept:
        sla = SN_SLA[r["priority"]]
        if r["resolved_at"]:
            decided += 1
            breached += (_ts(r["resolved_at"]) - _ts(r["opened_at"])).total_seconds() / 3600 > sla
        elif (as_of - _ts(r["opened_at"])).total_seconds() / 3600 > sla:
            decided += 1
            breached += 1
    p = cx.params(snap, dt.date(2000, 1, 1), dt.date(2030, 12, 31), sla=SN_SLA)
    speed = queries.run("complaints_speed", p, snap=snap)
    total = speed[speed["level"] == "all"].iloc[0]
    assert total["n_complaints"] == len(kept) == 67
    assert total["n_resolved"] == len(hours)
    assert total["median_hours_to_resolve"] == pytest.approx(statistics.median(hours))
    assert total["p90_hours_to_resolve"] == pytest.approx(statistics.quantiles(hours, n=10, method="inclusive")[-1])
    assert (total["n_breached"], total["n_decided"]) == (breached, decided)
    assert total["rate_breach"] == pytest.approx(breached / decided)
    # Per priority 1 (the most common): resolved medians match too.
    p1 = [(_ts(r["resolved_at"]) - _ts(r["opened_at"])).total_seconds() / 3600
          for r in kept if r["resolved_at"] and r["priority"] == "1"]
    assert speed.set_index("severity").loc["1", "median_hours_to_resolve"] == pytest.approx(statistics.median(p1))


def test_volume_marks_buckets_the_period_or_the_data_cut(snap):
    """The data's span: its first and last day of any activity, orders included (a quiet stretch without
    complaints is not a gap in the data): C1's order of 2023-11-01 to C5's of 2024-06-30.
    Q1 by month: three whole months. 2024-01-15..2024-07-31: January cut by the period, July after the data
    ends (no data at all: never a whole month); February to June whole, though April to June hold no complaint."""
    v = run(snap, "complaints_volume", grain="month")
    assert v["is_complete"].tolist() == [True, True, True]
    cut = queries.run("complaints_volume", {**cx.params(snap, dt.date(2024, 1, 15), dt.date(2024, 7, 31), None, sla=SLA),
                                            "grain": "month"}, snap=snap)
    assert [(d.month, bool(c)) for d, c in zip(cut["bucket_start"], cut["is_complete"])] == [
        (1, False), (2, True), (3, True), (4, True), (5, True), (6, True), (7, False)]
    assert cut["first_day"].iloc[0].date() == dt.date(2024, 1, 15)
    assert cut["last_day"].iloc[-1].date() == dt.date(2024, 6, 30)  # before July: nothing covered


def test_the_exports_own_sla_verdict_decides_the_breach(tmp_path):
    """ServiceNow exports each incident's SLA verdict (made_sla: 24 true, 43 false), which knows the SLA of each
    ticket; the page showed 100% breached from its own 48-hour default. Where the file gives a verdict, it decides:
    breached = made_sla false, for every incident (all 67 carry one), whatever the SLA hours."""
    with open(SERVICENOW, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    missed = sum(1 for r in rows if r["made_sla"] == "false")
    assert (len(rows), missed) == (67, 43)
    db = tmp_path / "sn.duckdb"
    ingest.load_files([SERVICENOW], db=db, table="complaints")
    snap = store.snapshot(db)
    assert cx.optional_columns(snap)["sla_met"] == "made_sla"
    for hours in (1.0, 1e9):  # the SLA hours no longer matter where the file has spoken
        p = cx.params(snap, dt.date(2000, 1, 1), dt.date(2030, 12, 31), sla={s: hours for s in ("1", "2", "3", "4", "5")})
        p["sla_default_hours"] = hours
        total = queries.run("complaints_speed", p, snap=snap).query("level == 'all'").iloc[0]
        assert (total["n_sla_given"], total["n_breached"], total["n_decided"]) == (67, missed, 67)
    # without such a column the SLA hours decide, as before (the adapted export above has no made_sla)
    bare = cx.params(snap, dt.date(2000, 1, 1), dt.date(2030, 12, 31))
    assert queries.run("complaints_speed", {**bare, "sla_met_col": ""}, snap=snap).query("level == 'all'").iloc[0][
        "n_sla_given"] == 0


def test_severities_stand_most_severe_first():
    """ServiceNow's coded severities came by how many complaints each had (1 - Critical, 5 - Planning, 3 - Moderate,
    2 - High, 4 - Low): now by their code; words by their level (critical, high before medium, low), Chinese too; an
    unknown word after the known ones, none last."""
    coded = ["1 - Critical", "5 - Planning", "3 - Moderate", "2 - High", "4 - Low"]
    assert sorted(coded, key=cx.severity_rank) == ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low", "5 - Planning"]
    words = ["low", "odd", None, "高", "Medium", "critical"]
    assert sorted(words, key=cx.severity_rank) == ["critical", "高", "Medium", "low", "odd", None]
    settings = cx.sla_settings(["3 - Moderate", "1 - Critical", "4 - Low", "2 - High", "5 - Planning", "6 - Other"])
    assert [s[0] for s in settings] == ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low", "5 - Planning"]


def test_a_nearly_one_sided_category_is_blank_not_infinite():
    """Category 'c' has one lost complainer of 40, lost on day 310 when only c's complainers are still followed (the
    others end by day 300): every other loss says c's customers stay, and this one cannot say otherwise, so the fit
    drifted to a hazard ratio near 0 with a range up to infinity (numpy: "overflow in exp"). Its standard error is far above
    COX_MAX_SE: it is listed blank and not estimable, like a category with none lost, and no warning is raised.
    Breached complainers still leave at twice the rate. 'c' has about 40 complainers in 3,000: far more lost than 10
    per term, so the fit is not rough."""
    rng = np.random.default_rng(5)
    n = 3000
    breached = rng.random(n) < 0.5
    category = np.array(["a"] * 1600 + ["b"] * 1360 + ["c"] * 40)
    time = rng.exponential(np.where(breached, 50.0, 100.0))
    churned = (time < 300) & (category != "c")
    time = np.minimum(time, 300)
    time[category == "c"] = 320
    churned[n - 1], time[n - 1] = True, 310  # c's one lost complainer, when only c's complainers are followed
    df = pd.DataFrame({"duration_days": time, "is_churned": churned.astype(int), "category": category,
                       "resolution_days": rng.random(n), "is_breached": breached.astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = cx.cox(df)
    hr = fit.set_index("term")
    assert not hr.loc["category:c", "is_estimable"]
    assert hr.loc["category:c", ["hazard_ratio", "lower", "upper", "p_value"]].isna().all()
    assert hr.loc["category:b", "is_estimable"] and np.isfinite(hr.loc["category:b", "upper"])
    assert hr.loc["is_breached", "hazard_ratio"] == pytest.approx(2.0, rel=0.15)
    assert not cx.cox_is_rough(fit)


def test_a_fit_with_few_lost_per_term_is_rough():
    """7 lost complainers for 2 terms (breach, days to resolve): fewer than 10 each."""
    rng = np.random.default_rng(3)
    n = 60
    df = pd.DataFrame({"duration_days": rng.uniform(1, 300, n), "is_churned": [1] * 7 + [0] * (n - 7),
                       "category": "a", "resolution_days": rng.random(n), "is_breached": rng.random(n) < 0.5})
    fit = cx.cox(df)
    assert (fit["n_lost"].iloc[0], fit["n_terms"].iloc[0]) == (7, 2)
    assert cx.cox_is_rough(fit)
