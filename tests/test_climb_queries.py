"""The ladder as an investment: climbs per rung (loyalty_climb), their worth, and the triage per rung.

tests/fixtures/climb, rungs read at every month end from 2023-01-31 (the first order's month) to END
2024-12-31 with the loyalty page's default rules; the churn rule is set to 10 years so nobody lapses. The
data ends on 2024-12-20 (B2), so a rung first stood on by 2023-12-21 has had its 12 months.

  A  signed up 2023-01-05; orders 01-15, 02-10: customer at 2023-01-31 (never a prospect at a month end),
     client at 02-28 (28 days)
  B  signed up 2023-01-20: prospect at 01-31; order 06-10: customer at 06-30 (150 days); second order
     2024-12-20: client at 2024-12-31, 550 days after 06-30: not within 12 months; that client rung is too recent
  C  signed up 2023-03-01, never buys: prospect from 03-31, never climbs
  D  signed up 2024-03-01 (prospect 2024-03-31), order 2024-05-05 (customer 05-31): both too recent
  E  orders 2023-02-01 and 02-20: client at 02-28 (skips customer); satisfaction 5 on 09-15: supporter at
     09-30 (214 days); never an advocate. Surveys count for 365 days: the 2023 answer has expired by
     2024-09-30 (client again), a second satisfaction 5 on 2024-10-01 makes E a supporter again at END

  prospect -> customer   B, C entered; B climbed              1/2, median 150; D too recent
  customer -> client     A, B entered; A climbed              1/2, median 28;  D too recent
  client -> supporter    A, E entered; E climbed              1/2, median 214; B too recent
  supporter -> advocate  E entered, did not climb             0/1
  advocate -> partner    nobody
"""

import datetime as dt

import pandas as pd
import pytest

from crmlens import climb, loyalty, model, queries
from tests.conftest import fixture_snapshot

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
NO_LAPSE = {"churn_days": 3650, "churn_multiplier": 0.0}


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    return fixture_snapshot(tmp_path_factory, "climb")


@pytest.fixture(params=["mart", "live"])
def inputs(request, monkeypatch):
    """Run a test with the rung inputs read from mart_loyalty_months, then live."""
    monkeypatch.setattr(model, "USE_LOYALTY_MART", request.param == "mart")
    return request.param


def test_climb_rates_and_times(snap, inputs):
    p = loyalty.params(START, END, NO_LAPSE)
    assert model.use_loyalty_mart(snap, "loyalty_climb", p) == (inputs == "mart")
    df = queries.run("loyalty_climb", p, snap=snap)
    got = [[r.from_rung, r.to_rung, r.n_entered, r.n_climbed, None if pd.isna(r.median_days) else r.median_days, r.n_too_recent]
           for r in df.itertuples()]
    assert got == [["prospect", "customer", 2, 1, 150, 1], ["customer", "client", 2, 1, 28, 1],
                   ["client", "supporter", 2, 1, 214, 1], ["supporter", "advocate", 1, 0, None, 0],
                   ["advocate", "partner", 0, 0, None, 0]]
    assert df["rate_12m"].tolist()[:4] == [0.5, 0.5, 0.5, 0.0] and pd.isna(df["rate_12m"].iloc[4])


def test_headline_names_the_issue_keys(snap, inputs):
    got = climb.headline(snap, START, END, settings=NO_LAPSE)
    assert got[0] == {"from": "prospect", "to": "customer", "rate_12m": 0.5, "median_days": 150.0}
    assert got[-1] == {"from": "advocate", "to": "partner", "rate_12m": None, "median_days": None}


def test_which_climbs_pay():
    """Forward CLV per rung: prospect none (0), customer 0, client 1000, supporter 1500, advocate 1200,
    partner 5000; default costs 200, 300, 500, 800, 2000. Net: 0 - 200, 1000 - 300 = 700 (pays),
    500 - 500 = 0 (does not: only more than the cost pays), -300 - 800, 3800 - 2000 = 1800 (pays)."""
    summary = pd.DataFrame({"kind": "rung", "key": list(loyalty.RUNGS),
                            "amt_clv_forward": [float("nan"), 0.0, 1000.0, 1500.0, 1200.0, 5000.0]})
    climbs = pd.DataFrame({"from_rung": loyalty.RUNGS[:-1], "to_rung": loyalty.RUNGS[1:]})
    worth = climb.worth(climbs, summary, {})
    assert worth["amt_net_climb"].tolist() == [-200.0, 700.0, 0.0, -1100.0, 1800.0]
    assert worth["is_paying"].tolist() == [False, True, False, False, True]
    assert climb.worth(climbs, summary, {"client": 100.0})["is_paying"].tolist() == [False, True, True, False, True]


def test_a_rung_without_a_lifetime_value_gives_no_verdict():
    """Partner has no forward CLV (no active partners): the climb advocate -> partner cannot be valued, so it
    neither pays nor loses; the others keep their verdicts (supporter 1500 -> advocate 1200: -300 - 800)."""
    summary = pd.DataFrame({"kind": "rung", "key": list(loyalty.RUNGS),
                            "amt_clv_forward": [float("nan"), 0.0, 1000.0, 1500.0, 1200.0, float("nan")]})
    climbs = pd.DataFrame({"from_rung": loyalty.RUNGS[:-1], "to_rung": loyalty.RUNGS[1:]})
    worth = climb.worth(climbs, summary, {})
    assert worth["is_paying"].tolist() == [False, True, False, False, None]
    assert pd.isna(worth["amt_value_climb"].iloc[-1])
    assert [climb.verdict_key(p) for p in worth["is_paying"]][-1] == "climb.cannot_tell"


def test_triage_per_rung(snap):
    """Quadrants at END (value line: the median lifetime revenue of buyers A 200, B 100, D 300, E 500 = 250;
    high risk: no purchase for more than 90 days): A client, 200, last 2023-02-10: dog (let go);
    B client, 100, last 2024-12-20: marginal (reduce_cost); D customer, 300, last 2024-05-05: risky (watch);
    E supporter, 500, last 2024-12-01: key (keep); C prospect: no purchase."""
    tri = climb.triage(queries.run("loyalty_triage", loyalty.params(START, END, NO_LAPSE), snap=snap))
    assert tri.to_dict("index") == {
        "prospect": {"keep": 0, "reduce_cost": 0, "watch": 0, "let_go": 0, "no_purchase": 1},
        "customer": {"keep": 0, "reduce_cost": 0, "watch": 1, "let_go": 0, "no_purchase": 0},
        "client": {"keep": 0, "reduce_cost": 1, "watch": 0, "let_go": 1, "no_purchase": 0},
        "supporter": {"keep": 1, "reduce_cost": 0, "watch": 0, "let_go": 0, "no_purchase": 0}}
