"""One definition of revenue on the pages themselves (AppTest on tests/fixtures/revenue; every number worked out by hand
in tests/test_revenue_definition.py): the churn page's at-risk value and what-if gain for customer R, whose refund of
50 falls inside the 12 months, are R's revenue of those 12 months net of the refund, 500 (gross it was 550)."""

import pytest

from tests.conftest import app_test, serve_fixture

PERIOD = ["2024-01-01", "2024-12-31"]


@pytest.fixture
def revenue_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "revenue")


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_at_risk_value_is_net_of_the_refund(revenue_env):
    """Segment retail: R is the one active customer, past its usual gap of 61 days (152 days since 2024-08-01)."""
    at = app_test("churn", timeout=90, period=PERIOD, segment="retail", churn_tab="At risk")
    assert not at.exception
    risk = at.dataframe[-1].value  # the at-risk list is the last table
    assert risk[["Customer", "Value at stake", "Orders (12 months)"]].values.tolist() == [["R", 500, 4]]


def test_the_what_if_gain_is_half_a_year_of_the_net_revenue(revenue_env):
    """Retail: 12-month churn 1/2 (R kept, L lost); 10 points off keep 0.1 of R's 500 a year for half a year: 25."""
    at = app_test("churn", timeout=90, period=PERIOD, segment="retail", churn_whatif_points="10", churn_tab="What if")
    assert not at.exception
    assert metrics(at)["Revenue gained (12 months)"] == "25"
