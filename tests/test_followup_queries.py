"""Follow-up (回访) queries on tests/fixtures/followup; every expected number is worked out here.

Period 2024-01-01 .. 2024-12-31, follow-up within 7 days. The data ends on 2024-12-28 (order O6).
Activities have Chinese headers (活动编号, 客户编号, 回访时间, 回访方式, 回访人, 关联单号, 回访结果).

  customer (owner) record                    follow-ups                               counted?
  F1 (Ann)  O1 order 03-01                   A1 03-03 names O1: delay 2, followed     yes
  F1 (Ann)  O7 order 03-20                   none after it                            yes, not followed
  F1 (Ann)  O6 order 12-28                   none (window open until 01-04)           pending
  F2 (Ann)  O2 order 03-05                   A2 03-20 names nothing: delay 15 > 7     yes, not followed
  F3 (Bob)  O3 order 04-01                   A3 04-01 names O999, another record      yes, not followed
  F3 (Bob)  K1 complaint 06-01               A4 06-05 names K1: delay 4               yes, followed
  F4 (Bob)  O4 order 05-10 cancelled         (not an order: no record)                no
  F4 (Bob)  K2 complaint 12-24               none (window open until 12-31)           pending
  F5 (Bob)  P1 won deal, closed 07-01        A5 07-08 names P1: delay 7 (= 7: in time) yes, followed

Coverage: 6 records, 3 followed = 50%; median delay of O1, K1, P1 = median(2, 4, 7) = 4; 2 pending.
Customers with a counted record: F1 (one of two followed), F2 (none), F3 (one of two), F5 (all) = 4;
never followed: F2 = 1; always followed: F5 = 1.
"""

import datetime as dt

import pytest

from crmlens import followup, queries, store
from tests.conftest import fixture_snapshot, load_demo, load_fixture

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
FLAT_30 = {"churn_days": 30, "churn_multiplier": 0.0}


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    return fixture_snapshot(tmp_path_factory, "followup")


def run(snap, name, **settings):
    return queries.run(name, followup.params(START, END, **{"outcome_days": 30, **FLAT_30, **settings}), snap=snap)


def rows(df, dim, *cols):
    part = df[df["dim"] == dim]
    return {k: tuple(r[c] for c in cols) for k, (_, r) in zip(part["key"], part.iterrows())}


def test_chinese_headers_load_as_activities(snap):
    df = snap.query("select activity_id, customer_id, type_key, owner, related_id from stg_activities order by 1")
    assert df.iloc[0].tolist() == ["A1", "F1", "电话回访", "Ann", "O1"]
    assert df["related_id"].isna().tolist() == [False, True, False, False, False]


def test_coverage_total_by_owner_kind_and_month(snap):
    df = run(snap, "followup_coverage")
    total = df[df["dim"] == "total"].iloc[0]
    assert (total["n_events"], total["n_followed"], total["rate_coverage"], total["median_delay_days"],
            total["n_pending"], total["n_activities"]) == (6, 3, 0.5, 4.0, 2, 5)
    assert (total["n_customers"], total["n_customers_never"], total["n_customers_always"]) == (4, 1, 1)
    # Ann: O1 (followed), O7, O2 = 1 of 3; Bob: O3, K1 (followed), P1 (followed) = 2 of 3; K2 pending
    assert rows(df, "owner", "n_events", "n_followed", "n_pending") == {"Ann": (3, 1, 1), "Bob": (3, 2, 1)}
    assert rows(df, "kind", "n_events", "n_followed") == {"order": (4, 1), "complaint": (1, 1), "won_deal": (1, 1)}
    assert rows(df, "month", "n_events", "n_followed") == {"2024-03-01": (3, 1), "2024-04-01": (1, 0), "2024-06-01": (1, 1),
                                                          "2024-07-01": (1, 1), "2024-12-01": (0, 0)}


def test_a_longer_window_counts_the_late_call(snap):
    """Within 15 days A2 (delay 15) follows O2 up too: 4 of 6; O6 and K2 are still pending."""
    total = run(snap, "followup_coverage", followup_days=15).query("dim == 'total'").iloc[0]
    assert (total["n_events"], total["n_followed"], total["n_pending"]) == (6, 4, 2)


def test_owner_filter(snap):
    """Bob's customers only: O3, K1, P1 counted (2 followed), K2 pending."""
    total = run(snap, "followup_coverage", owner=["Bob"]).query("dim == 'total'").iloc[0]
    assert (total["n_events"], total["n_followed"], total["n_pending"]) == (3, 2, 1)


def test_payoff_same_window_for_both_groups(snap):
    """Each customer by their first record in the period, judged over 7 + 30 days after it (churn rule: 30
    days flat, lost on last order + 30):
      F1 O1 03-01 followed; window to 04-07: next order O7 03-20 (repeat); lost only on 04-19 (after O7): kept;
         survey 03-10 satisfaction 5
      F5 P1 07-01 followed; no order at all: not lost, no repeat, no survey
      F2 O2 03-05 not followed; window to 04-11: lost 04-04; survey 03-15 satisfaction 2
      F3 O3 04-01 not followed; window to 05-08: lost 05-01; survey 04-10 satisfaction 3
      F4 K2 12-24: its window ends 2025-01-30, after the data: left out
    """
    df = run(snap, "followup_payoff").set_index("grp")
    assert df.loc["followed", ["n_customers", "n_churned", "n_repeat", "n_surveyed"]].tolist() == [2, 0, 1, 1]
    assert df.loc["followed", "avg_satisfaction"] == 5.0
    assert df.loc["not_followed", ["n_customers", "n_churned", "n_repeat", "n_surveyed"]].tolist() == [2, 2, 0, 2]
    assert df.loc["not_followed", ["rate_churn", "avg_satisfaction", "var_satisfaction"]].tolist() == [1.0, 2.5, 0.5]
    tests = followup.payoff_tests(df.reset_index())
    # churn [[0, 2], [2, 0]]: expected 1 in each cell, chi2 = 4 x 1 = 4, p = P(chi2_1 > 4) = 0.0455
    assert tests["churn"] == pytest.approx(0.0455, abs=1e-4)
    # repeat [[1, 1], [0, 2]]: expected [[.5, 1.5], [.5, 1.5]], chi2 = 2 x (0.25/0.5 + 0.25/1.5) = 4/3, p = 0.2482
    assert tests["repeat"] == pytest.approx(0.2482, abs=1e-4)
    assert tests["satisfaction"] is None  # one survey among the followed: nothing to test
    # p = 0.0455 < 5%, but on 2 customers a group (fewer than survival.MIN_GROUP = 30): too few to tell
    verdicts = followup.verdicts(df.reset_index())
    assert {m: v for m, (v, _) in verdicts.items()} == {"churn": "too_few", "repeat": "too_few", "satisfaction": "too_few"}
    assert verdicts["churn"][1] == pytest.approx(0.0455, abs=1e-4)


def test_worklist_ranked_by_value_with_owner_filter(snap):
    """Records of the last 7 days (after 12-21) with no follow-up at all: O6 (F1, 12-28) and K2 (F4, 12-24).
    F1's revenue in the 365 days to 12-28: O1 100 + O7 40 + O6 60 = 200; F4 has none (O4 was cancelled)."""
    df = run(snap, "followup_worklist")
    assert df[["customer_id", "owner", "kind", "record_id", "days_waiting", "amt_at_stake"]].values.tolist() == [
        ["F1", "Ann", "order", "O6", 0, 200.0], ["F4", "Bob", "complaint", "K2", 4, 0.0]]
    assert str(df["last_followup_date"].iloc[0].date()) == "2024-03-03"
    assert run(snap, "followup_worklist", owner=["Bob"])["customer_id"].tolist() == ["F4"]


def test_headline(snap):
    assert followup.headline(snap, START, END, outcome_days=30, **FLAT_30) == {
        "coverage": 0.5, "median_delay_days": 4.0, "churn_followed": 0.0, "churn_not_followed": 1.0}


def test_no_activities_means_no_figures(tiny_db):
    assert followup.headline(store.snapshot(tiny_db), START, END) == {
        "coverage": None, "median_delay_days": None, "churn_followed": None, "churn_not_followed": None}


def test_metrics_json_with_the_page_address(tmp_path):
    """`metrics --json --params` reads the page's keys: Bob's customers only (O3, K1, P1: 2 of 3 followed, delays 4
    and 7, median 5.5); first records F3 O3 (not followed, lost 05-01) and F5 P1 (followed, no order: kept)."""
    import json

    from click.testing import CliRunner

    from crmlens.cli import cli
    db = load_fixture(tmp_path / "f.duckdb", "followup")
    params = "period=2024-01-01&period=2024-12-31&owner=Bob&churn_days=30&churn_multiplier=0&followup_outcome_days=30"
    result = CliRunner().invoke(cli, ["metrics", "--json", "--db", str(db), "--params", params])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["follow_up"] == {"coverage": 0.6667, "median_delay_days": 5.5, "churn_followed": 0.0,
                                "churn_not_followed": 1.0}
    assert {"departures", "ladder_climb"} <= set(out)


def test_the_demo_has_a_rep_whose_customers_are_often_never_called(tmp_path):
    """crmlens.demo: half of Wang Fang's customers are never followed up (seed 003's ~50%), few of the others'."""
    from crmlens import demo
    db = load_demo(tmp_path / "demo.duckdb", n_customers=1500, seed=3)
    df = queries.run("followup_coverage", followup.params(dt.date(2025, 11, 1), dt.date(2026, 10, 31)),
                     snap=store.snapshot(db))
    owners = df[df["dim"] == "owner"].set_index("key")
    never = owners["n_customers_never"] / owners["n_customers"]
    neglectful = demo.OWNERS[demo.NEGLECTFUL_OWNER]
    assert 0.35 < never[neglectful] < 0.65
    leavers = {demo.OWNERS[i] for i, _ in demo.LEAVERS}  # their orphaned customers are neglected too
    assert (never.drop([neglectful, *leavers], errors="ignore") < 0.25).all()


def test_won_deals_follow_the_funnel_stage_setting(snap):
    """The funnel names only "closed won" as won: P1 (stage "won") is no won deal, so no record to follow up.
    Left: O1 (followed), O7, O2, O3, K1 (followed) = 2 of 5; O6 and K2 pending."""
    df = run(snap, "followup_coverage", won_stages=["closed won"], lost_stages=["lost"])
    total = df[df["dim"] == "total"].iloc[0]
    assert (total["n_events"], total["n_followed"], total["n_pending"]) == (5, 2, 2)
    assert "won_deal" not in set(df.loc[df["dim"] == "kind", "key"])


def test_payoff_windows_end_by_the_newest_order_day(tmp_path):
    """A call on 2025-03-31 (A6, about K2) takes the data to that day, but the orders stop on 2024-12-28: who is lost
    or orders again is known only to then (period_as_of). F4's first record K2 (12-24) has its 7 + 30 day window end
    on 2025-01-30, before 03-31 but after 12-28: still left out; the groups are those of
    test_payoff_same_window_for_both_groups (followed F1, F5; not followed F2, F3)."""
    db = load_fixture(tmp_path / "f.duckdb", "followup")
    from crmlens import ingest
    from tests.conftest import FIXTURES
    ingest.load_files([FIXTURES / "followup" / "late_activity" / "activities.csv"], db=db)
    s = store.snapshot(db)
    assert s.query("select count(*) as n from stg_activities")["n"].iloc[0] == 6
    p = followup.params(START, dt.date(2025, 6, 30), outcome_days=30, **FLAT_30)
    df = queries.run("followup_payoff", p, snap=s).set_index("grp")
    assert df.loc["followed", ["n_customers", "n_churned", "n_repeat"]].tolist() == [2, 0, 1]
    assert df.loc["not_followed", ["n_customers", "n_churned", "n_repeat"]].tolist() == [2, 2, 0]
