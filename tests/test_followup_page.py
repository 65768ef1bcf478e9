"""The Follow-up and handover page and the loyalty page's climb tab through AppTest (numbers worked out in
test_followup_queries, test_departures_queries and test_climb_queries)."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import app_test, serve_fixture, shown_text

PERIOD = ["2024-01-01", "2024-12-31"]
FLAT_30 = {"churn_days": "30", "churn_multiplier": "0"}


def open_page(**query) -> AppTest:
    return app_test("followup", timeout=90, period=PERIOD, **FLAT_30, **query)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.fixture
def followup_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "followup")


@pytest.fixture
def departures_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "departures")


def test_coverage_payoff_and_work_list(followup_env):
    at = open_page(followup_outcome_days="30")
    assert not at.exception
    shown = metrics(at)
    assert shown["Followed up"] == "50.0%"          # 3 of 6 records
    assert shown["Median delay"] == "4.0 days"       # median(2, 4, 7)
    assert shown["Never followed up"] == "25.0%"   # F2 of F1, F2, F3, F5
    assert shown["Always followed up"] == "25.0%"  # F5
    payoff = table_with(at, "Bought again")  # headers as the reader reads them (tables.show)
    assert list(payoff["Group"]) == ["followed up", "not followed up"]
    assert list(payoff["Lost"]) == [0, 2] and list(payoff["Customers"]) == [2, 2]
    texts = [shown_text(m.value) for m in at.markdown]
    # p = 0.046 on two customers a group: under survival.MIN_GROUP (30), no verdict either way
    assert ("**Churn**: too few customers to tell (fewer than 30 in a group, surveys for satisfaction).") in texts
    assert not any("the difference is real" in x for x in texts)
    work = table_with(at, "Days waiting")
    assert list(work["Customer"]) == ["F1", "F4"] and list(work["Value at stake"]) == [200, 0]


def test_owner_filter_in_the_address(followup_env):
    at = open_page(followup_outcome_days="30", owner="Bob")
    assert not at.exception
    assert metrics(at)["Followed up"] == "66.7%"     # O3, K1, P1: 2 of 3
    assert list(table_with(at, "Days waiting")["Customer"]) == ["F4"]


def test_chinese(followup_env):
    at = open_page(followup_outcome_days="30", lang="中文")
    assert not at.exception
    assert at.title[0].value == "回访与交接"
    assert metrics(at)["已回访"] == "50.0%"


def test_without_activities_the_page_says_what_to_load(db_env):
    at = open_page()
    assert not at.exception
    assert any("No activities are loaded" in i.value for i in at.info)
    assert any(c.value.startswith("No activities are loaded: an owner is only found gone") for c in at.caption)
    assert not [m for m in at.metric if m.label == "Followed up"]


def test_departures_and_handover(departures_env):
    at = open_page(departure_window_days="90")
    assert not at.exception
    texts = [shown_text(m.value) for m in at.markdown]
    assert ("**Ann** left on 2024-07-01: 2 active customers (42.9% of revenue in the year before). 50.0% of them "
            "were lost within 90 days, against 33.3% of comparable customers of owners who stayed.") in texts
    assert any(t.startswith("**Cy** left on 2024-10-01: 1 active customers") for t in texts)
    found = table_with(at, "Found by")
    assert list(found["Found by"]) == ["silent", "marked as left"]
    assert "Too few customers to tell whether the curves differ (fewer than 30 in a group)." in texts
    handover = table_with(at, "Owner now")
    assert list(handover["Customer"]) == ["D2"]
    at.selectbox(key="departure_owner").set_value("Cy").run()
    assert not at.exception
    assert not any("Owner now" in d.value.columns for d in at.dataframe)  # D5 was lost: nobody to hand over
    assert any(s.value == "Handover list: Cy's customers still active" for s in at.subheader)


def test_departures_too_early_to_tell(departures_env):
    """The period to 2024-10-15: Cy left 10-01, 14 days followed, fewer than the 30 churn days (the numbers of
    test_departures_queries.test_too_early_to_tell): said so, no "0% vs 0%" comparison."""
    at = app_test("followup", timeout=90, period=["2024-01-01", "2024-10-15"], **FLAT_30, departure_window_days="90")
    assert not at.exception
    texts = [shown_text(m.value) for m in at.markdown]
    assert ("**Cy** left on 2024-10-01 with 1 active customers: too early to tell whether they were lost, only 14 "
            "days followed, fewer than the 30 days the churn rule needs.") in texts
    assert not any(x.startswith("**Cy** left on 2024-10-01: ") for x in texts)
    assert any(x.startswith("**Ann** left on 2024-07-01: 2 active customers") for x in texts)


@pytest.fixture
def climb_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "climb")


def test_loyalty_climb_tab(climb_env):
    at = app_test("loyalty", timeout=90, period=PERIOD, churn_days="3650", churn_multiplier="0",
                  loyalty_tab="Climbing: worth it?")
    assert not at.exception
    texts = [shown_text(m.value) for m in at.markdown]
    assert any(t.startswith("**Prospect → Customer**: 50.0% climb within 12 months") for t in texts)
    climbs = table_with(at, "Climb rate (12 months)")
    assert list(climbs["Stood on it (12 months ago or more)"]) == [2, 2, 2, 1, 0]
    assert list(climbs["From"]) == ["Prospect", "Customer", "Client", "Supporter", "Advocate"]
    triage = table_with(at, "keep (key)")
    assert triage.loc["Supporter", "keep (key)"] == 1 and triage.loc["Client", "let go (dog)"] == 1
