"""The Churn page through AppTest on tests/fixtures/churn and the subscription fixture
(numbers worked out in test_churn_queries)."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import app_test, serve_fixture

PERIOD = ["2024-01-01", "2024-03-31"]


@pytest.fixture
def churn_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "churn")


@pytest.fixture
def subscription_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "churn_subscription")


def open_churn(**query) -> AppTest:
    return app_test("churn", timeout=90, **query)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_orders_definition_with_settings_from_the_url(churn_env):
    at = open_churn(period=PERIOD, churn_days="30", churn_multiplier="0")
    assert not at.exception
    shown = metrics(at)
    # Active on 01-01 only B (C's first lifetime ended 12-31); departures in Q1: B, C, A, D, G (the bucket's
    # 1 + 1 + 3); the period churn rate: B lost of the 1 active at the start = 100%. 3 active now (A, E, F),
    # nobody past their usual gap.
    assert shown["Active at the start"] == "1"
    assert shown["Lost in the period"] == "5"
    assert shown["Period churn rate"] == "100.0%"
    assert shown["Active now"] == "3"
    assert shown["At risk"] == "0"
    assert "Definition: from orders" in at.info[0].value and "30 days pass" in at.info[0].value
    # the definition next to the number, reconciled with the bucket; the 12-month rate under its own name
    assert any("Period churn rate = 1 of the 1 customers active on 2024/01/01" in c.value or
               "Period churn rate = 1 of the 1 customers active on" in c.value for c in at.caption)
    assert any("its lost add up to 5 for the same span (1 active at the start, 4 won during the period" in c.value
               for c in at.caption)
    bucket = at.dataframe[0].value
    assert list(bucket.iloc[:, 0]) == ["2024-01", "2024-02", "2024-03"]
    assert list(bucket["Lost"]) == [1, 1, 3]
    assert list(bucket["Reactivated"]) == [1, 0, 2]


def test_changing_n_days_changes_the_figures(churn_env):
    at = open_churn(period=PERIOD, churn_days="30", churn_multiplier="0", churn_tab="At risk")
    at.number_input(key="churn_days").set_value(60).run()
    assert not at.exception
    # N = 60: lost B (02-18) and C (03-15); at risk D and G (see test_at_risk_list_scores_sorts_and_pages).
    shown = metrics(at)
    assert shown["Lost in the period"] == "2"
    assert shown["At risk"] == "2"
    risk = at.dataframe[-1].value  # the at-risk list is the last table
    assert list(risk["Customer"]) == ["G", "D"]


def test_subscription_export_switches_to_the_explicit_definition(subscription_env):
    at = open_churn()
    assert not at.exception
    assert "explicit churn data" in at.info[0].value
    shown = metrics(at)
    # no signup, churn or contract-end dates: no period start to count from, so the share churned, under its name
    assert shown["Share churned"] == "37.5%"  # 3 of 8
    assert "Period churn rate" not in shown
    assert "At risk" not in shown
    assert any("no dates" in i.value for i in at.info)  # the bucket cannot place anyone in time
    # At risk: the active subscribers ranked by their chance of leaving (worked out in test_churn_queries)
    at = open_churn(churn_tab="At risk")
    assert any(m.value.startswith("5 active subscribers; 360 of yearly revenue") for m in at.markdown)
    [risk] = [d.value for d in at.dataframe if "Chance of leaving" in d.value.columns]
    assert risk["Customer"].tolist() == ["S4", "S6", "S3", "S7", "S8"]


def test_churn_page_in_chinese(churn_env):
    at = open_churn(period=PERIOD, lang="中文", churn_days="30", churn_multiplier="0")
    assert not at.exception
    assert at.title[0].value == "客户流失与留存"
    assert metrics(at)["本期流失率"] == "100.0%"  # B lost, of the 1 customer active on 01-01 (see above)
    assert metrics(at)["期初活跃客户"] == "1"
    assert "口径：按订单" in at.info[0].value


def test_what_if_shows_the_assumptions(churn_env):
    at = open_churn(period=PERIOD, churn_days="30", churn_multiplier="0", churn_whatif_points="10",
                    churn_tab="What if")
    shown = metrics(at)
    # 3 active customers x 10 points = 0.3 kept; but the 12-month churn rate is 0 (F stayed), so nothing
    # can be cut: kept 0.
    assert shown["Customers kept"] == "0"
    assert any("Assumptions" in m.value for m in at.markdown)


def test_survival_tab_says_too_few_customers_to_tell(churn_env):
    """The churn fixture's survival groups hold a handful of customers each (fewer than survival.MIN_GROUP = 30):
    the log-rank line gives its numbers but no verdict either way."""
    at = open_churn(period=PERIOD, churn_tab="Survival", churn_group="Segment")
    assert not at.exception
    logrank = [m.value for m in at.markdown if m.value.startswith("Log-rank test")]
    assert len(logrank) == 1
    assert logrank[0].endswith("Too few customers to tell whether the groups differ (fewer than 30 in a group).")
