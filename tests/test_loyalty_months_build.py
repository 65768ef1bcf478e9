"""mart_loyalty_months is built from each customer's change points since model 26 (carried forward, then unnested to the
dates) instead of every customer and date joined to ranges: it must hold exactly the rows the former SQL
(tests/fixtures/sql_before_model26/mart_loyalty_months.sql, model 25, with today's shared pieces) makes, on a demo with
refunds, lines without a cost and guest orders, on the hand-worked fixtures, and on a small data set made of the edge
cases of its rules (surveys before a customer is known, undated ones, several on a day; complaints closed by their
status without a resolved time, opened before the customer signed up, on a month end, after the data end;
referrals by unknown, self-named and not yet known customers; a customer known only by an opportunity).
The by-key update of the same SQL on appends is checked against a full rebuild in tests/test_append_marts.py."""

from __future__ import annotations

import datetime as dt
import math
import pathlib

import pytest

from crmlens import ingest, queries, store
from tests.conftest import demo_with_order_quirks

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
BEFORE = FIXTURES / "sql_before_model26" / "mart_loyalty_months.sql"
ORDER = "order by customer_id, as_of"

EDGES = {
    "customers.csv": "customer_id,name,segment,signup_date,referred_by\n"
                     "E1,Early Survey,consumer,2024-03-10,\n"      # surveyed and complained before signing up
                     "E2,Referrer,business,2024-01-05,\n"
                     "E3,Referred Late,consumer,2024-06-20,E2\n"   # refers to E2 from June
                     "E4,Self,consumer,2024-02-01,E4\n"            # names themselves: no referral
                     "E5,Ghost Ref,consumer,2024-02-01,ZZ\n"       # names a customer nobody knows
                     "E6,No Signup,consumer,,E2\n"                 # known all along: refers to E2 from the start
                     "E7,Future,consumer,2025-09-01,E2\n",         # known after the data end
    "orders.csv": "order_id,customer_id,order_date,amount,status\n"
                  "O1,E1,2024-03-15,100,completed\nO2,E1,2024-05-02,50,completed\nO3,E1,2024-05-20,-20,completed\n"
                  "O4,E2,2024-01-10,300,completed\nO5,E2,2024-04-01,80,cancelled\nO6,E3,2024-06-25,40,\n"
                  "O7,,2024-07-01,70,completed\nO8,E4,2024-02-03,60,completed\nO9,E4,2024-08-30,60,completed\n"
                  "O10,E9,2024-02-15,25,completed\n",            # an order of a customer not on the list
    "complaints.csv": "complaint_id,customer_id,created_at,category,status,resolved_at\n"
                      "K1,E1,2024-02-20 09:00,delivery,open,\n"                    # before E1 signed up, never closed
                      "K2,E2,2024-02-10 10:00,price,closed,\n"                     # closed by status, no time
                      "K4,E4,2024-03-01 10:00,service,resolved,2024-06-10 08:00\n"
                      "K5,E4,2024-05-31 23:00,service,open,\n"                     # on a month end
                      "K6,E3,2025-07-01 10:00,service,open,\n",                    # after the data end
    "surveys.csv": "customer_id,survey_date,nps,satisfaction\n"
                   "E1,2024-02-25,9,5\nE1,2024-04-10,,2\nE1,2024-04-10,,4\nE1,2024-04-12,3,\n"
                   "E2,,10,5\nE2,2024-05-31,7,\nE4,2024-09-02,8,3\nE8,2024-03-03,5,5\n",  # E8: known by a survey only
    "opportunities.csv": "opportunity_id,customer_id,stage,created_date\nP1,E8,proposal,2024-02-10\n",
}


def rows(snap, sql: str) -> list[tuple]:
    cur = snap.cursor()
    try:
        cur.execute("create or replace temp macro in_build_scope(c) as true")  # a full build's scope
        return cur.execute(sql).fetchall()
    finally:
        cur.close()


def assert_same_rows(snap) -> int:
    """The mart's rows are the former SQL's, column for column (doubles to 12 significant digits: sums in another
    order)."""
    text = queries.expand(BEFORE.read_text(encoding="utf-8"), ("mart_loyalty_months",))
    head = "create or replace table mart_loyalty_months as"
    body = text[text.index(head) + len(head):]
    theirs = rows(snap, f"select * from ({body[:body.rindex('order by')]}) {ORDER}")
    mine = rows(snap, f"select * from mart_loyalty_months {ORDER}")
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9), (a, b)
            else:
                assert x == y, (a, b)
    return len(mine)


def test_the_change_points_give_the_former_rows_on_a_demo_with_quirks(tmp_path_factory):
    snap = demo_with_order_quirks(tmp_path_factory, "loyalty_months_build", seed=11, end_date=dt.date(2026, 9, 13),
                                  guest_every=19)
    n = assert_same_rows(snap)
    facts = snap.query("select count(distinct customer_id) as ids, count(distinct as_of) as dates, "
                       "max(n_unresolved) as most_open, max(n_referrals) as most_referred, "
                       "count(latest_nps_seen) as with_nps from mart_loyalty_months").iloc[0]
    assert n > 5_000 and facts["ids"] >= 400 and facts["dates"] > 12
    assert facts["most_open"] > 0 and facts["most_referred"] > 0 and facts["with_nps"] > 0


@pytest.mark.parametrize("source", ["loyalty/ladder", "loyalty/rules", "tiny", "churn", "climb"])
def test_the_change_points_give_the_former_rows_on_the_hand_worked_fixtures(tmp_path, source):
    db = tmp_path / "crm.duckdb"
    ingest.load_files(sorted((FIXTURES / source).glob("*.csv")), db=db)
    assert assert_same_rows(store.snapshot(db)) > 0


def test_the_change_points_give_the_former_rows_on_the_edge_cases_of_the_rules(tmp_path):
    for name, text in EDGES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    ingest.load_files(sorted(tmp_path.glob("*.csv")), db=db)
    snap = store.snapshot(db)
    assert assert_same_rows(snap) > 50
    at = lambda c, d: snap.query(  # noqa: E731
        "select * from mart_loyalty_months where customer_id = $c and as_of = $d", {"c": c, "d": d}).iloc[0]
    # E2 is referred by E6 (known all along) from the start and by E3 from June; E7 (known after the end) never
    assert at("E2", dt.date(2024, 5, 31))["n_referrals"] == 1 and at("E2", dt.date(2024, 6, 30))["n_referrals"] == 2
    # E4's K4 is open from March to the month before its resolution in June; K5, opened on 31 May, from then on
    assert [at("E4", dt.date(2024, m, d))["n_unresolved"] for m, d in ((2, 29), (3, 31), (5, 31), (6, 30))] == [0, 1, 2, 1]
    # E1's surveys before they signed up (March) are not kept; April's two answers on one day are averaged
    assert at("E1", dt.date(2024, 4, 30))["latest_satisfaction_seen"] == 3 and at("E1", dt.date(2024, 4, 30))[
        "latest_nps_seen"] == 3
    assert at("E1", dt.date(2024, 3, 31))["n_unresolved"] == 1  # K1, opened before signing up, counts once known


def test_open_at_a_date_is_one_rule_read_by_the_mart_and_the_live_pieces(tmp_path):
    """stg_complaints.open_until decides when a complaint is open (worked by hand below); mart_loyalty_months, the
    live month-end inputs (loyalty_open_complaints_referrals) and the inputs at the period's end
    (loyalty_rung_inputs_end) all count the same complaints open for every customer and date."""
    for name, text in EDGES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    ingest.load_files(sorted(tmp_path.glob("*.csv")), db=db)
    snap = store.snapshot(db)
    until = dict(rows(snap, "select complaint_id, open_until from stg_complaints"))
    assert until == {"K1": dt.date(9999, 12, 31), "K2": None, "K4": dt.date(2024, 6, 10),
                     "K5": dt.date(9999, 12, 31), "K6": dt.date(9999, 12, 31)}
    by_rule = "(select count(*) from stg_complaints k where k.customer_id = m.customer_id " \
              "and k.created_at::date <= m.as_of and m.as_of < k.open_until)"
    differ = rows(snap, f"select m.customer_id, m.as_of, m.n_unresolved, {by_rule} from mart_loyalty_months m "
                        f"where m.n_unresolved <> {by_rule}")
    assert differ == []
    live = queries.expand("with dates(as_of) as (select distinct as_of from mart_loyalty_months), "
                          "first_seen as (select customer_id, min(as_of) as known_since from mart_loyalty_months "
                          "group by all),\n-- include: loyalty_open_complaints_referrals\n"
                          "done as (select 1) select customer_id, as_of, n_unresolved from unresolved u "
                          "semi join mart_loyalty_months m using (customer_id, as_of)", ())  # the known customers
    mart = rows(snap, "select customer_id, as_of, n_unresolved from mart_loyalty_months where n_unresolved > 0 "
                      "order by all")
    assert sorted(rows(snap, live)) == mart and len(mart) > 5
    end = dt.date(2024, 5, 31)
    at_end = queries.expand("with params as (select 1),\n-- include: loyalty_rung_inputs_end\n"
                            "done as (select 1) select customer_id, n_unresolved from unresolved order by all", ())
    cur = snap.cursor()
    try:
        got = cur.execute(at_end, {"end": end, "start": dt.date(2024, 1, 1), "margin_rate": None,
                                   "margin_fallback": 0.3}).fetchall()  # (the order facts: not read here)
    finally:
        cur.close()
    assert got == [("E1", 1), ("E4", 2)]  # K1 (never closed); K4 (resolved 10 June) and K5 (opened 31 May)
