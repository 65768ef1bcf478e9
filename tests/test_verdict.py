"""survival.verdict, the one verdict on a difference between groups (follow-up payoff, departures, churn survival),
and survival.MIN_GROUP, the one minimum group size (funnel breakdown, forecast, customer-base model)."""

import math

import pandas as pd
import pytest

from crmlens import churn, customer_base, forecast, funnel, survival


@pytest.mark.parametrize(("p", "sizes", "expected"), [
    (0.01, [30, 40], "real"),
    (0.05, [30, 40], "chance"),        # not below 5%
    (0.20, [500, 500], "chance"),
    (0.01, [29, 400], "too_few"),      # one group under 30: whatever p says
    (None, [10, 10], "too_few"),
    (None, [30, 30], "untestable"),
    (math.nan, [30, 30], "untestable"),
    (0.01, [], "too_few"),
])
def test_verdict(p, sizes, expected):
    assert survival.verdict(p, sizes) == expected


def test_one_minimum_group_size():
    assert survival.MIN_GROUP == 30
    assert funnel.MIN_GROUP_SIZE == forecast.MIN_CLOSED == customer_base.MIN_REPEAT_CUSTOMERS == survival.MIN_GROUP


def test_churn_logrank_says_too_few():
    """Two groups, 29 and 40 customers: group a loses all 29 on day 10, group b none (censored at day 100).
    At day 10: 69 at risk, 29 events, a expects 29 x 29/69 = 12.19; the test is far below 5%, but a has 29
    customers: too few to tell. With 30 in a (30 lost on day 10) the same difference is real."""
    def frame(n_a):
        return pd.DataFrame({"grp": ["a", "b"], "n_days": [10, 100], "is_lost": [True, False], "n_customers": [n_a, 40]})
    few = churn.logrank(frame(29))
    assert few["p_value"] < 1e-6 and few["verdict"] == "too_few" and not few["differ"]
    enough = churn.logrank(frame(30))
    assert enough["verdict"] == "real" and enough["differ"]
