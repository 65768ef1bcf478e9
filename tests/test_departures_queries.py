"""Departures (客户随着销售员的流失而流失) on tests/fixtures/departures; the numbers are worked out here.

Churn rule: 30 days flat (lost on the last order + 30 days without another). Every order is 100. The data
ends on 2024-12-28 (the last orders of D2 and D7).

  owner  customers  activity                     sign
  Ann    D1, D2     last 06-30                   silent 60 days (06-30 + 60 <= 12-28): left 07-01
  Bob    D3 D4 D6 D7 last 12-20                  stays
  Cy     D5         12-01                        marked in owners.csv: left 10-01

  orders (2024)                                       lifetime
  D1  06-01 06-20                                     lost 07-20
  D2  06-10 07-05 08-01 08-25 09-20 10-15 11-10 12-05 12-28 (every gap <= 30)   never lost
  D3  06-15 07-10                                     lost 08-09
  D4  06-25 07-20 08-15 09-10 10-05                   lost 11-04
  D5  09-15 10-10                                     lost 11-09
  D6  08-01 08-20                                     lost 09-19
  D7  06-01 06-28 07-25 08-20 09-15 10-10 11-05 12-01 12-28                     never lost

Ann, left 07-01, followed min(90, 12-28 - 07-01 = 180) = 90 days (to 09-29):
  held and active on 07-01: D1, D2 = 2; lost by 09-29: D1 = 1 -> 50%
  stayed (Bob's; Cy left too), active on 07-01: D3, D4, D7 (D6 starts 08-01) = 3; lost by 09-29: D3 -> 1/3
  revenue 2023-07-02 .. 07-01: D1 2 + D2 1 + D3 1 + D4 1 + D7 2 = 7 orders; Ann's 3 -> 3/7
Cy, left 10-01, followed min(90, 88) = 88 days (to 12-28):
  held: D5 active, lost 11-09 -> 1/1; stayed active on 10-01: D4, D7 (D3 lost 08-09, D6 09-19) = 2, lost: D4 -> 1/2
  revenue 2023-10-02 .. 10-01: D1 2, D2 5, D3 2, D4 4, D5 1, D6 2, D7 5 = 21 orders; Cy's 1 -> 1/21
"""

import datetime as dt

import pytest

from crmlens import departures, ingest, queries, store
from tests.conftest import FIXTURES, load_demo, load_fixture

END = dt.date(2024, 12, 31)
FLAT_30 = {"churn_days": 30, "churn_multiplier": 0.0}
COLS = ["owner", "left_on", "how", "n_customers", "n_active", "n_lost", "n_comparable", "n_comparable_lost",
        "days_followed"]


@pytest.fixture
def db(tmp_path):
    return load_fixture(tmp_path / "d.duckdb", "departures")


def run(db, name, **settings):
    return queries.run(name, departures.params(END, **{"window_days": 90, **FLAT_30, **settings}), snap=store.snapshot(db))


def listed(df):
    return [[v.date().isoformat() if hasattr(v, "date") else v for v in row] for row in df[COLS].values.tolist()]


def test_departures_found_with_churn_against_comparable(db):
    df = run(db, "departures")
    assert listed(df) == [["Ann", "2024-07-01", "inactive", 2, 2, 1, 3, 1, 90],
                          ["Cy", "2024-10-01", "marked", 1, 1, 1, 2, 1, 88]]
    assert df["share_revenue"].tolist() == pytest.approx([3 / 7, 1 / 21])
    assert df["rate_churn_after"].tolist() == [0.5, 1.0]
    assert df["rate_churn_comparable"].tolist() == pytest.approx([1 / 3, 0.5])
    assert str(df["last_seen"].iloc[0].date()) == "2024-06-30"


def test_a_longer_silence_is_needed(db):
    """Silent for 200 days: Ann's 06-30 + 200 is after the data end; Cy is still marked."""
    assert run(db, "departures", inactive_days=200)["owner"].tolist() == ["Cy"]


def test_gone_from_the_customer_list_at_a_load(db):
    """A new customer list hands D1 and D2 to Bob: the load records Ann -> Bob for both; Ann is listed with
    nobody now, so she left (on the day after she was last seen, 07-01), and still held D1 and D2.
    The silence rule is off (730 days) so that only the list tells."""
    ingest.load_files([FIXTURES / "departures" / "reassigned" / "customers.csv"], db=db)
    changes = store.snapshot(db).query("select customer_id, owner_before, owner_after from stg_owner_changes order by 1")
    assert changes.values.tolist() == [["D1", "Ann", "Bob"], ["D2", "Ann", "Bob"]]
    df = run(db, "departures", inactive_days=730)
    assert listed(df) == [["Ann", "2024-07-01", "list", 2, 2, 1, 3, 1, 90],
                          ["Cy", "2024-10-01", "marked", 1, 1, 1, 2, 1, 88]]


def test_survival_from_the_departure_day(db):
    """Ann: D1 lost on day 19 (07-20), D2 censored at day 180 (12-28); stayed: D3 lost day 39, D4 day 126,
    D7 censored at 180. Kaplan-Meier: held S = 1/2 from day 19; stayed 2/3 from day 39, 1/3 from day 126."""
    frame = run(db, "departures_survival", departed_owner="Ann")
    assert frame[["grp", "t", "n_event", "n_censored"]].values.tolist() == [
        ["held", 19, 1, 0], ["held", 180, 0, 1], ["stayed", 39, 1, 0], ["stayed", 126, 1, 0], ["stayed", 180, 0, 1]]
    curves = departures.curves(frame)
    assert curves["held"]["survival"].tolist() == [1.0, 0.5]
    assert curves["stayed"]["survival"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3])
    test = departures.logrank(frame)
    assert test["p_value"] > 0.05 and test["verdict"] == "too_few"  # two against three customers: nothing to conclude


def test_handover_list(db):
    """Ann's customers still active at the data end: D2 only (last order 12-28, lost on 2025-01-27 without
    another, risk 0), value at stake = her 9 orders in the 365 days to 12-28 = 900."""
    df = run(db, "departures_handover", departed_owner="Ann")
    assert df[["customer_id", "owner_now", "days_since", "score", "amt_at_stake"]].values.tolist() == [["D2", "Ann", 0, 0.0, 900.0]]
    assert str(df["lost_on"].iloc[0].date()) == "2025-01-27"


def test_headline(db):
    assert departures.headline(store.snapshot(db), END, window_days=90, **FLAT_30) == [
        {"owner": "Ann", "left_on": "2024-07-01", "customers": 2, "revenue_share": 0.4286, "churn_after": 0.5,
         "churn_comparable": 0.3333},
        {"owner": "Cy", "left_on": "2024-10-01", "customers": 1, "revenue_share": 0.0476, "churn_after": 1.0,
         "churn_comparable": 0.5}]


def test_demo_leavers_are_found(tmp_path):
    """The demo's three reps who leave (crmlens.demo.LEAVERS) are the departures found, in the order they left."""
    from crmlens import demo
    db = load_demo(tmp_path / "demo.duckdb", n_customers=1500, seed=3)
    found = departures.headline(store.snapshot(db), dt.date(2026, 10, 31))
    assert [d["owner"] for d in found] == [demo.OWNERS[i] for i, _ in sorted(demo.LEAVERS, key=lambda x: x[1])]
    # the last one left at 85% of the demo's span (2026-08-31): 61 days followed, fewer than the 90 churn days
    assert all(d["churn_after"] > d["churn_comparable"] for d in found[:2])
    assert (found[2]["churn_after"], found[2]["churn_comparable"]) == (None, None)


def test_without_activities_silence_tells_nothing(tmp_path):
    """Without an activities file, an owner is not called gone for want of opportunities: only Cy, marked."""
    files = [FIXTURES / "departures" / f for f in ("customers.csv", "orders.csv", "owners.csv")]
    db = tmp_path / "d.duckdb"
    ingest.load_files(files, db=db)
    assert run(db, "departures")["owner"].tolist() == ["Cy"]


def test_an_owner_seen_only_in_opportunities_never_left(tmp_path):
    """Dee (an opportunity created 2024-03-01, no activity of her own) is silent for 60 days by the opportunities
    alone: that is no sign of leaving. Only owners with activities of their own can be silent: Ann and Cy."""
    db = load_fixture(tmp_path / "d.duckdb", "departures")
    ingest.load_files([FIXTURES / "departures" / "opportunity_only" / "opportunities.csv"], db=db)
    assert run(db, "departures")["owner"].tolist() == ["Ann", "Cy"]


@pytest.mark.parametrize(("changed_on", "expected"), [
    # handed on before she left (07-01): D1 was Bob's by then; Ann held D2 only (active, not lost by 09-29);
    #   Bob's customers active on 07-01 are now D1, D3, D4, D7 = 4, lost by 09-29: D1 (07-20), D3 (08-09) = 2
    ("2024-05-01", ["Ann", "2024-07-01", "inactive", 1, 1, 0, 4, 2, 90]),
    # taken away after she left: still hers on the day (the numbers of test_departures_found_with_churn...)
    ("2024-08-01", ["Ann", "2024-07-01", "inactive", 2, 2, 1, 3, 1, 90]),
])
def test_customers_handed_on_before_leaving_were_not_held(db, changed_on, expected):
    """A load hands D1 from Ann to Bob; Ann keeps D2 (so the list does not call her gone) and is silent from 07-01."""
    ingest.load_files([FIXTURES / "departures" / "handed_on" / "customers.csv"], db=db)
    with store.writer(db) as con:
        con.execute("update owner_changes set changed_on = ?", [dt.date.fromisoformat(changed_on)])
    assert listed(run(db, "departures"))[0] == expected


def test_too_early_to_tell(db):
    """The data to 2024-10-15 (D2's order that day): Cy left 10-01, followed 14 days, fewer than the 30 churn days:
    no rates (NULL), the counts stay (D5 active on 10-01; Bob's D4, D7 active then, D3 and D6 already lost).
    Ann: followed min(90, 10-15 - 07-01 = 106) = 90 days, her rates as in the full data (D1 lost 07-20, D3 08-09)."""
    df = queries.run("departures", departures.params(dt.date(2024, 10, 15), window_days=90, **FLAT_30),
                     snap=store.snapshot(db))
    assert listed(df) == [["Ann", "2024-07-01", "inactive", 2, 2, 1, 3, 1, 90],
                          ["Cy", "2024-10-01", "marked", 1, 1, 0, 2, 0, 14]]
    assert df["rate_churn_after"].tolist()[0] == 0.5 and df["rate_churn_comparable"].tolist()[0] == pytest.approx(1 / 3)
    assert df["rate_churn_after"].isna().tolist() == [False, True]
    assert df["rate_churn_comparable"].isna().tolist() == [False, True]


def test_outcomes_are_followed_to_the_newest_order_day(tmp_path):
    """Bob logs a call on 2025-06-30: the data reaches 2025-06-30, but the orders stop on 2024-12-28, and whether a
    customer is lost is known only to then (period_as_of). Cy (left 10-01) is followed min(90, 12-28 - 10-01) = 88
    days, not 90; in the survival input Ann's D2 and Bob's D7 are censored at 12-28 - 07-01 = 180 days, not 364."""
    db = tmp_path / "d.duckdb"
    ingest.load_files([FIXTURES / "departures" / f for f in ("customers.csv", "orders.csv", "owners.csv")]
                      + [FIXTURES / "departures" / "late_activity" / "activities.csv"], db=db)
    df = queries.run("departures", departures.params(dt.date(2025, 12, 31), window_days=90, **FLAT_30),
                     snap=store.snapshot(db))
    assert listed(df) == [["Ann", "2024-07-01", "inactive", 2, 2, 1, 3, 1, 90],
                          ["Cy", "2024-10-01", "marked", 1, 1, 1, 2, 1, 88]]
    frame = queries.run("departures_survival", departures.params(dt.date(2025, 12, 31), departed_owner="Ann", **FLAT_30),
                        snap=store.snapshot(db))
    assert frame[["grp", "t", "n_event", "n_censored"]].values.tolist() == [
        ["held", 19, 1, 0], ["held", 180, 0, 1], ["stayed", 39, 1, 0], ["stayed", 126, 1, 0], ["stayed", 180, 0, 1]]


@pytest.mark.parametrize(("stage", "expected"), [("won", ["Cy"]), ("proposal", ["Ann", "Cy"])])
def test_a_deal_closed_is_work_an_open_deals_close_date_is_not(db, stage, expected):
    """Ann's last activity is 06-30, but she closes a deal (created 05-01) on 12-10: 12-10 + 60 > 12-28, so she has
    not gone silent. The same row still open (its close date only expected, 12-10) says nothing: she left 07-01.
    (O2, open, close date 12-20, is never work.)"""
    path = FIXTURES / "departures" / "closed_deal" / "opportunities.csv"
    text = path.read_text().replace("D2,2024-05-01,won", f"D2,2024-05-01,{stage}")
    mine = db.parent / "opportunities.csv"
    mine.write_text(text)
    ingest.load_files([mine], db=db)
    assert run(db, "departures")["owner"].tolist() == expected
