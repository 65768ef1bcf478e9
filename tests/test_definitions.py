"""Issue 14: numbers a manager can defend. Each definition with a fixture whose figures are worked out by hand."""

import datetime as dt

import pandas as pd
import pytest

from crmlens import ingest, metrics, queries, store
from tests.conftest import fetch, rejects_of


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- 12: guest orders (no customer id) are orders and revenue, never customers ----------------------------------
NAMED = """order_id,customer_id,order_date,amount,status
O1,K1,2024-01-10,100,
O3,K2,2024-02-01,200,
O6,K1,2024-02-25,40,
"""
GUESTS = """O2,,2024-01-20,50,
O4,,2024-02-15,30,
O5,,2024-02-20,-10,
"""


@pytest.fixture(scope="module")
def guest_dbs(tmp_path_factory):
    """The orders without and with the guest orders, loaded once for the module's tests (they only read them)."""
    tmp_path = tmp_path_factory.mktemp("guests")
    named, guests = tmp_path / "named.duckdb", tmp_path / "guests.duckdb"
    ingest.load_files([write(tmp_path, "orders.csv", NAMED)], db=named)
    [result] = ingest.load_files([write(tmp_path, "orders.csv", NAMED + GUESTS)], db=guests)
    return named, guests, result


def test_guest_orders_load_and_count_in_revenue_not_in_customers(guest_dbs):
    """Jan-Feb 2024. Named: K1 100 (01-10) + 40 (02-25), K2 200 (02-01). Guests: 50 (01-20), 30 (02-15) and a
    refund line of -10 (02-20).
    revenue 100 + 40 + 200 + 50 + 30 - 10 = 410, of which 50 + 30 - 10 = 70 without a customer;
    orders 5 (the refund is none), 2 of them guest orders; average order 410 / 5 = 82;
    customers, active and new customers: 2 (K1, K2), exactly as without the guest orders."""
    _, guests, result = guest_dbs
    assert (result.n_read, result.n_loaded, result.n_rejected) == (6, 6, 0)
    assert fetch(guests, "select count(*) from orders where customer_id is null") == [(3,)]
    kpis = queries.run("overview_kpis", {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 2, 29)},
                       snap=store.snapshot(guests)).set_index("period").loc["current"]
    assert (kpis["amt_revenue"], kpis["n_orders"], kpis["amt_avg_order"]) == (410, 5, 82)
    assert (kpis["amt_revenue_no_customer"], kpis["n_orders_no_customer"]) == (70, 2)
    assert (kpis["n_customers"], kpis["n_active_customers"], kpis["n_new_customers"]) == (2, 2, 2)
    # new customers per month: January K1, February K2 (a guest order makes nobody new)
    trend = queries.run("overview_trend", {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 2, 29), "grain": "month"},
                        snap=store.snapshot(guests))
    assert trend["n_new_customers"].tolist() == [1, 1]
    assert trend["amt_revenue"].tolist() == [150, 260]  # 100 + 50 | 200 + 30 - 10 + 40


def test_guest_orders_change_no_customer_figure_anywhere(guest_dbs):
    """Every headline of `metrics --json` on the two loads: only revenue, orders and the average order differ
    (by the guest orders: +70 revenue, +2 orders, average 340 / 3 -> 410 / 5); every customer figure is equal."""
    named, guests, _ = guest_dbs
    def flat(d, prefix=""):
        for k, v in d.items():
            yield from flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [(prefix + k, v)]
    a = dict(flat(metrics.collect(store.snapshot(named), dt.date(2024, 1, 1), dt.date(2024, 2, 29))))
    b = dict(flat(metrics.collect(store.snapshot(guests), dt.date(2024, 1, 1), dt.date(2024, 2, 29))))
    assert a.keys() == b.keys()
    differ = {k: (a[k], b[k]) for k in a if a[k] != b[k] and k != "data_updated_at"}
    assert differ == {
        "overview.amt_revenue": (340, 410), "overview.revenue": (340, 410),
        "overview.n_orders": (3, 5), "overview.orders": (3, 5),
        "overview.amt_avg_order": (pytest.approx(340 / 3, abs=1e-3), 82),
        "overview.amt_revenue_no_customer": (0, 70), "overview.n_orders_no_customer": (0, 2),
    }


def test_an_order_line_without_customer_does_not_hide_the_customer_of_its_other_lines(tmp_path):
    """Invoice 1 has three lines, the first without a customer: the order is K1's (10 + 20 + 30 = 60)."""
    db = tmp_path / "lines.duckdb"
    text = ("order_id,customer_id,order_date,product,quantity,amount\n1,,2024-01-05,A,1,10\n1,K1,2024-01-05,B,1,20\n"
            "1,K1,2024-01-05,C,1,30\n2,,2024-01-06,A,1,5\n2,,2024-01-06,B,1,5\n")
    [r] = ingest.load_files([write(tmp_path, "orders.csv", text)], db=db)
    assert rejects_of(r) == []
    assert fetch(db, "select order_id, customer_id, amount from orders order by 1") == [("1", "K1", 60), ("2", None, 10)]


# --- 8: the churn drivers get the funnel's multiple-comparison correction (Holm) ------------------------------
def test_churn_drivers_are_holm_adjusted_like_the_funnel():
    """Two attributes with the same 2x2 table: value a 10 of 100 lost, value b 20 of 100 lost.
    chi-square (no continuity correction) = N (ad - bc)^2 / (r1 r2 c1 c2) = 200 x (10x80 - 90x20)^2 / (100 x 100 x
    30 x 170) = 3.9216, 1 degree of freedom: p = erfc(sqrt(3.9216 / 2)) = 0.0477, under 5% on its own.
    Holm over the 2 tested attributes: smallest p x 2 = 0.0954, then max(0.0954, p x 1) = 0.0954: both could be
    chance. A third attribute with one value cannot be tested (and does not count in the correction)."""
    import math

    from crmlens import churn, funnel, survival

    counts = pd.DataFrame({"attribute": ["x", "x", "y", "y", "z"], "source": "customers",
                           "value": ["a", "b", "a", "b", "a"], "n_customers": [100, 100, 100, 100, 200],
                           "n_churned": [10, 20, 10, 20, 30], "rate_churn": [0.1, 0.2, 0.1, 0.2, 0.15]})
    tests = churn.attribute_tests(counts).set_index("attribute")
    p = math.erfc(math.sqrt(3.9216 / 2))
    assert p == pytest.approx(0.0477, abs=1e-4)
    assert tests.loc["x", "p_value"] == pytest.approx(p, rel=1e-4)
    assert tests["p_adjusted"].tolist()[:2] == pytest.approx([2 * p, 2 * p], rel=1e-4)
    assert tests["verdict"].to_dict() == {"x": "chance", "y": "chance", "z": "untestable"}
    # the funnel's breakdown adjusts with the same function
    assert survival.holm(pd.Series([0.01, None, 0.04, 0.03])).tolist()[0] == pytest.approx(0.03)
    assert survival.holm(pd.Series([0.01, None, 0.04, 0.03])).tolist()[2:] == pytest.approx([0.06, 0.06])
    groups = pd.DataFrame({"n_won": [10, 30, 20], "n_lost": [40, 20, 30]})
    out = funnel.significance(groups, min_n=10)
    assert out["p_adjusted"].tolist() == pytest.approx(survival.holm(out["p_value"]).tolist())


# --- 5: the headline churn rate is the textbook one and reconciles with the leaky bucket -----------------------
def test_period_churn_rate_is_lost_over_active_at_start_and_adds_up_with_the_bucket(tmp_path):
    """tests/fixtures/churn (its docstring in tests/test_churn_queries.py), Q1 2024, lost after max(10 days,
    3 x the customer's median gap). Limits: A 135 days, C 67, F 1081, G 30, one-day customers B, D, E 93.
    Nobody comes back, so each customer has one lifetime:
      active on 01-01 (the start): B (since 2023-12-20), C (since 2023-12-01), F (since 2022) -> 3
      lost in Q1: B (12-20 + 93 = 03-22), C (01-15 + 67 = 03-22), G (02-11 + 30 = 03-12; new in February) -> 3
      of them active at the start: B, C -> 2; won during the period and lost again: G -> 1
    period churn rate = 2 / 3; the old figure (lost / everybody active at some time: A B C D E F G) was 3 / 7.
    Leaky bucket, months: start 3 (Jan), lost 0 + 0 + 3 = 3; quarter: start 3, lost from start 2, rate 2 / 3."""
    from crmlens import churn
    from tests.conftest import load_fixture

    db = load_fixture(tmp_path / "churn.duckdb", "churn")
    params = churn.query_params(dt.date(2024, 1, 1), dt.date(2024, 3, 31), "orders", 10, 3.0)
    s = queries.run("churn_summary", params, snap=store.snapshot(db)).iloc[0]
    assert (s["n_start"], s["n_lost"], s["n_lost_from_start"], s["n_lost_new"]) == (3, 3, 2, 1)
    assert s["rate_churn"] == pytest.approx(2 / 3)
    assert (s["n_customers"], s["n_churned"], s["rate_churn_any"]) == (7, 3, pytest.approx(3 / 7))
    months = queries.run("churn_bucket", {**params, "grain": "month"}, snap=store.snapshot(db))
    assert months["n_start"].iloc[0] == s["n_start"] and months["n_lost"].sum() == s["n_lost"]
    quarter = queries.run("churn_bucket", {**params, "grain": "quarter"}, snap=store.snapshot(db)).iloc[0]
    assert (quarter["n_start"], quarter["n_lost_from_start"], quarter["rate_churn"]) == (3, 2, pytest.approx(2 / 3))
    # metrics --json: the same rate under its old key
    assert churn.headline(store.snapshot(db), dt.date(2024, 1, 1), dt.date(2024, 3, 31), churn_days=10,
                          churn_multiplier=3.0)["overall_churn_rate"] == pytest.approx(2 / 3, abs=1e-4)


# --- 10: opportunities without a creation date count from their earliest date; undated ones in the whole view -----
OPPS = """opportunity_id,stage,created_date,close_date,amount
P1,won,2024-02-01,2024-03-01,100
P2,lost,,2024-03-10,50
P3,won,,2024-04-05,200
P4,proposal,,,80
P5,lead,2024-01-15,,10
"""
HISTORY = "opportunity_id,stage,entered_at\nP3,lead,2024-03-20 09:00\nP3,won,2024-04-05 10:00\n"
ORDER = ["lead", "proposal", "won", "lost"]


@pytest.fixture
def undated_snap(tmp_path):
    db = tmp_path / "opps.duckdb"
    ingest.load_files([write(tmp_path, "opportunities.csv", OPPS), write(tmp_path, "opportunity_stage_history.csv", HISTORY)],
                      db=db)
    return store.snapshot(db)


def test_opportunities_without_a_creation_date_count_from_their_earliest_date(undated_snap):
    """P1 created 02-01 (won 03-01: cycle 29 days); P2 no created date, lost 03-10: dated by its close (03-10);
    P3 no created date, entered lead 03-20, won 04-05: dated by its first stage (03-20), cycle 16 days;
    P4 no date at all (open): undated; P5 created 01-15 (open). Dated span: 01-15 .. 03-20.
    Whole year 2024 (covers all the data, so P4 counts as undated): 5 opportunities, won P1 P3, lost P2, open P4 P5;
    win rate 2 / 3; cycle (29 + 16) / 2 = 22.5 days (P2, dated by its close, adds no cycle).
    (By created_date alone the year held P1 and P5 only: 1 won, no lost.)
    March 2024: P2 (03-10) and P3 (03-20): won 1, lost 1, win rate 1 / 2, cycle 16; P4 left out (reported)."""
    from crmlens import funnel

    dated = undated_snap.query("select opportunity_id, effective_created, dated_by from stg_opportunities order by 1")
    assert dated["dated_by"].fillna("undated").tolist() == ["created", "close", "first_stage", "undated", "created"]
    assert [d.date() if pd.notna(d) else None for d in dated["effective_created"]] == [
        dt.date(2024, 2, 1), dt.date(2024, 3, 10), dt.date(2024, 3, 20), None, dt.date(2024, 1, 15)]
    year = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert funnel.covers_all_data(undated_snap, *year)
    s = queries.run("funnel_summary", funnel.params(*year, ORDER, ["won"], ["lost"], {}, True),
                    snap=undated_snap).iloc[0]
    assert (s["n_opportunities"], s["n_won"], s["n_lost"], s["n_open"]) == (5, 2, 1, 2)
    assert s["rate_win"] == pytest.approx(2 / 3) and s["days_avg_cycle"] == 22.5 and s["n_cycle"] == 2
    assert (s["n_dated_first_stage"], s["n_dated_close"], s["n_undated_in"], s["n_undated"], s["n_no_created_date"]) == (
        1, 1, 1, 1, 3)
    march = (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert not funnel.covers_all_data(undated_snap, *march)
    m = queries.run("funnel_summary", funnel.params(*march, ORDER, ["won"], ["lost"], {}, False),
                    snap=undated_snap).iloc[0]
    assert (m["n_opportunities"], m["n_won"], m["n_lost"], m["rate_win"], m["days_avg_cycle"]) == (2, 1, 1, 0.5, 16)
    assert (m["n_undated_in"], m["n_undated"]) == (0, 1)
    # metrics --json: the same figures, the undated one included in the whole-data view
    head = funnel.headline(undated_snap, *year, order=ORDER, won=["won"], lost=["lost"])
    assert (head["won"], head["lost"], head["open"], head["avg_cycle_days"]) == (2, 1, 2, 22.5)


# --- 11: open deals apart, win rate on closed deals with the share open, a conversion window -------------------
def test_win_rate_on_closed_deals_share_open_and_the_conversion_window(undated_snap):
    """The opportunities of test_opportunities_without_a_creation_date_count_from_their_earliest_date, 2024.
    Win rate on closed deals: won P1 P3 / closed P1 P2 P3 = 2 / 3; still open P4 P5: 2 of 5 = 40%.
    Conversion window: as of the newest opportunity date, 04-05 (P3's close; the period ends later).
      30 days: created on or before 03-06 -> P1 (02-01), P5 (01-15); P1 won in 29 days <= 30: 1 of 2 = 50%.
      20 days: created on or before 03-16 -> P1, P2 (03-10), P5; P1 took 29 > 20 days: 0 of 3 = 0%.
      (P3, created 03-20, has not had a 20-day window by 04-05: left out; P4 has no date.)
    No window (0): the window figures are empty, not 0%."""
    from crmlens import funnel

    year = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    def summary(window):
        return queries.run("funnel_summary", funnel.params(*year, ORDER, ["won"], ["lost"], {}, True, window),
                           snap=undated_snap).iloc[0]
    s = summary(30)
    assert s["rate_win"] == pytest.approx(2 / 3) and s["rate_open"] == pytest.approx(2 / 5)
    assert s["window_as_of"].date() == dt.date(2024, 4, 5)
    assert (s["n_window_elapsed"], s["n_won_in_window"], s["rate_win_window"]) == (2, 1, 0.5)
    s = summary(20)
    assert (s["n_window_elapsed"], s["n_won_in_window"], s["rate_win_window"]) == (3, 0, 0)
    s = summary(0)
    assert pd.isna(s["rate_win_window"]) and pd.isna(s["n_window_elapsed"])


# --- 7: complainers and others on the same footing ------------------------------------------------------------
def test_complainers_and_others_need_the_same_order_in_the_period(tmp_path):
    """tests/fixtures/churn, Q1 2024. Complaints in Q1: B (K1 01-05), C (K2 01-10, K3), G (K5 02-20).
    B's only Q1 order (B2, 01-10) was cancelled: B has no completed order in the period, and the others must
    have one (A, D, E, F), so B is in neither group now (before: a complainer). Complainers C, G; others A D E F.
    Follow-up 30 days, data to 03-31: C from 01-10 to 02-09, G from 02-20 to 03-21; others from their first Q1
    order: A 01-01, D 02-10, E 03-20 (too recent: left out), F 03-05 (too recent). Lost (30 days, flat): C on
    02-14 and G on 03-12 (02-11 + 30), D on 03-11, A on 03-01: within 30 days of the start: G (21 days) and D
    (30 days); C (35), A (60) later. Complainers 1 of 2, others 1 of 2 (A, D)."""
    from crmlens import complaints as cx
    from tests.conftest import load_fixture

    db = load_fixture(tmp_path / "churn.duckdb", "churn")
    snap = store.snapshot(db)
    p = cx.params(snap, dt.date(2024, 1, 1), dt.date(2024, 3, 31), churn_days=30, churn_multiplier=0.0, follow_days=30)
    overall = queries.run("complaints_churn", p, snap=snap).set_index(["kind", "grp"]).loc["all"]
    assert overall["n_customers"].to_dict() == {"complainers": 2, "others": 4}
    assert overall["n_followed"].to_dict() == {"complainers": 2, "others": 2}
    assert overall["n_churned_followed"].to_dict() == {"complainers": 1, "others": 1}
    assert overall["rate_churn_followed"].to_dict() == {"complainers": 0.5, "others": 0.5}


# --- 6: survival by complaint history from a landmark (no immortal-time bias) -----------------------------------
def test_survival_by_complaint_history_starts_at_a_landmark(tmp_path):
    """tests/fixtures/churn, N = 30 days flat, as of 03-31; landmark 20 days after each first order.
    First lifetimes (start -> lost): A 01-01 -> 03-01, B 2023-12-20 -> 01-19, C 2023-12-01 -> 12-31,
    D 02-10 -> 03-11, E 03-20 (active), F 2022-03-15 -> 2022-04-14, G 02-01 -> 03-12.
    Landmarks: A 01-21, B 01-09, C 12-21, D 03-01, E 04-09 (after 03-31: left out), F 2022-04-04, G 02-21;
    nobody was lost before theirs. Complaints on or before the landmark: B (K1 01-05), G (K5 02-20); C's come
    on 01-10 and 01-12, after its landmark, and A's in April. Days from the landmark to the loss:
      complained: B 10, G 20 (both lost); no complaint: A 40, C 10, D 10, F 10 (all lost).
    (Counting any complaint up to the as-of day from the first order, C was a complainer: 3 against 4.)"""
    from crmlens import churn
    from tests.conftest import load_fixture

    db = load_fixture(tmp_path / "churn.duckdb", "churn")
    params = churn.query_params(dt.date(2024, 1, 1), dt.date(2024, 3, 31), "orders", 30, 0.0, group="complaint",
                                landmark_days=20)
    df = queries.run("churn_survival", params, snap=store.snapshot(db))
    rows = sorted((g, int(d), bool(lost), int(n)) for g, d, lost, n in df[["grp", "n_days", "is_lost", "n_customers"]]
                  .itertuples(index=False))
    assert rows == [("complained", 10, True, 1), ("complained", 20, True, 1),
                    ("no complaint", 10, True, 3), ("no complaint", 40, True, 1)]
    # other groupings keep the clock from the first order: E is there, 11 days, active
    seg = queries.run("churn_survival", {**params, "group": "segment"}, snap=store.snapshot(db))
    assert seg["n_customers"].sum() == 7


def test_the_overview_says_how_much_revenue_has_no_customer(guest_dbs, monkeypatch):
    """The guest fixture above, Jan-Feb 2024: revenue 410, 70 of it (17.1%) on 2 guest orders; customers 2."""
    from tests.conftest import app_test

    _, guests, _ = guest_dbs
    monkeypatch.setenv("CRMLENS_DB", str(guests))
    at = app_test("overview", period=["2024-01-01", "2024-02-29"])
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    # (no customer list is loaded, so the Customers card is "–"; the buyers are K1 and K2)
    assert (shown["Revenue"], shown["Orders"], shown["Active customers"]) == ("410", "5", "2")
    assert any(c.value.startswith("70 of the revenue (17.1%) comes from 2 orders without a customer id")
               for c in at.caption)


# --- issue 13: the customer list's churn date and flag mean the same on the Churn and Complaints pages -----------
def test_the_customer_lists_churn_date_decides_before_its_flag_on_both_pages(tmp_path):
    """tests/fixtures/listed_churn, Q1 2024, data to 03-31 (the newest order day; nobody is lost by the order rule).
    The list: P1 churned = yes but its contract ends 06-30, after the day looked at; P2 churned = no but its churn
    date is 02-15; P3 churned = yes, no date (tenure 13 months: 2023-01-01 + round(13 x 30.4375) = 396 days =
    2024-02-01); P4 no, no date. A churn date decides (listed_lost), else the flag: lost by 03-31 are P2 (02-15)
    and P3 (02-01), both in the period; P1 and P4 are still active.
    Churn page, explicit churn: all 4 active at the start, lost in the period 2 (P2, P3; rate 2 / 4), active at the
    as-of day 2 (P1, P4). (Before, the flag came first: P1 lost on it, dated after its tenure on 2024-07-02, P2
    active: lost in the period 1, rate 0.25.)
    Complaints page: complainers P2 and P3 (01-20), both lost; others P1 and P4 (orders in Q1), neither."""
    from crmlens import churn
    from crmlens import complaints as cx
    from tests.conftest import load_fixture

    db = load_fixture(tmp_path / "listed.duckdb", "listed_churn")
    snap = store.snapshot(db)
    start, end = dt.date(2024, 1, 1), dt.date(2024, 3, 31)
    summary = queries.run("churn_summary", churn.query_params(start, end, "explicit"), snap=snap).iloc[0]
    assert (summary["n_start"], summary["n_lost_from_start"], summary["rate_churn"]) == (4, 2, 0.5)
    assert (summary["n_churned"], summary["n_active"]) == (2, 2)
    link = queries.run("complaints_churn", cx.params(snap, start, end), snap=snap).set_index(["kind", "grp"]).loc["all"]
    assert link["n_customers"].to_dict() == {"complainers": 2, "others": 2}
    assert link["n_churned"].to_dict() == {"complainers": 2, "others": 0}
