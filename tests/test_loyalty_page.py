"""The Loyalty page through AppTest, on tests/fixtures/loyalty/ladder (numbers: test_loyalty_queries)."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, app_test, serve_fixture

PERIOD = ["2024-01-01", "2024-12-31"]


@pytest.fixture
def ladder_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "loyalty/ladder")


def open_loyalty(**query) -> AppTest:
    at = app_test("loyalty", timeout=90, **{"period": PERIOD, **query})
    assert not at.exception, [e.value for e in at.exception]
    return at


def ladder_counts(at: AppTest) -> dict[str, int]:
    table = at.dataframe[0].value  # the ladder table
    return dict(zip(table["Rung"], table["Customers"]))


def test_ladder_headline_and_table(ladder_env):
    at = open_loyalty()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Customers on the ladder"] == "26"
    # (4 supporters + 1 advocate + 2 partners) / 26: V1 and V5 (one purchase, high NPS) are customers, not advocates
    assert shown["Supporters and above"] == "26.9%"
    # Lapsed by the churn page's default rule, as of 2024-12-31: lost max(90, floor(3 x usual gap)) days after the
    # last purchase. Gaps between order days: 30 x 10, 31 x 4, 39 -> everybody's median 30 (one-order customers:
    # 90 days). Lost: B1, B2, B3, B4, R1 (one order, before 10-02), C1 (08-01 + 93), L1 (02-10 + 93), and C3, S1..S7,
    # V2, V3 (last 10-01 + 90 = 12-30). Not lost: C2 (11-01 + 91), V1, V5 (11-01 + 90), P2 (12-10 + 105) = 17
    assert shown["Lost customers"] == "17"
    # 21 buyers in 2024: B1, B2, B3, C3, V1, V5, R1 100 each, B4 50, C1, L1, S1..S7, V2, V3 200 each,
    # C2 300, P2 400 = 3,650; the top ceil(4.2) = 5: P2 400, C2 300, C1, L1, S1 200 each (ties by id) = 1,300
    assert shown["Top 20% of customers hold"] == "35.6%"
    assert ladder_counts(at) == {"Prospect": 4, "Customer": 8, "Client": 7, "Supporter": 4, "Advocate": 1, "Partner": 2}
    assert "**client** 2+ purchases" in at.caption[1].value
    assert not at.warning  # surveys, referrals, complaints and the partner flag are all there


def test_a_threshold_in_the_url_moves_customers(ladder_env):
    # one unresolved complaint allowed: S2 and S6 become supporters
    at = open_loyalty(loyalty_max_unresolved="1")
    assert ladder_counts(at)["Supporter"] == 6 and ladder_counts(at)["Client"] == 5
    assert "≤ 1 unresolved complaints" in at.caption[1].value
    at.number_input(key="loyalty_max_unresolved").set_value(0).run()
    assert ladder_counts(at)["Supporter"] == 4


def test_sentence_for_the_top_customers_and_chinese(ladder_env):
    at = open_loyalty(lang="中文", loyalty_tab="ABC / 帕累托")
    assert at.title[0].value == "客户忠诚度阶梯"
    sentence = next(m.value for m in at.markdown if "头部" in m.value or "前 20%" in m.value)
    assert "前 20% 的客户（21 位中的 5 位）贡献了 35.6% 的收入" in sentence


def test_customer_search_from_the_url(ladder_env):
    at = open_loyalty(loyalty_q="sierra", loyalty_tab="Customers")
    table = at.dataframe[-1].value
    assert list(table["Customer ID"]) == ["S1", "S2", "S3", "S4", "S5", "S6", "S7"]  # by historical value, then id
    assert "7 customers match" in " ".join(c.value for c in at.caption)


def test_flow_selection_lists_its_customers(ladder_env):
    at = open_loyalty(loyalty_grain="month", loyalty_move_to="2024-12-31", loyalty_flow="Customer → Customer")
    # the URL holds the option as shown (Streamlit binds the formatted label); V1 and V5 stay customers although
    #   their NPS came in December: an advocate must be a client first (C3, the other customer, is lost at 12-31
    #   by the default rule: last order 10-01 + 90 days)
    flow_table = next(d.value for d in at.dataframe if "Rung before" in d.value.columns)
    assert list(flow_table["Customer ID"]) == ["V1", "V5"]
    assert "2 customers in this flow" in " ".join(c.value for c in at.caption)


def test_data_without_surveys_says_which_rungs_it_cannot_tell_apart(db_env):
    # tests/fixtures/tiny has no surveys, no referrals and no partner flags
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["period"] = ["2024-07-01", "2024-12-31"]
    at.switch_page("pages/loyalty.py").run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "supporters and advocates cannot be told apart" in warnings
    assert "partners cannot be told apart" in warnings
    assert any("Clients here include any supporters and advocates" in c.value for c in at.caption)


@pytest.mark.parametrize("lang, flow, before, after, revenue", [
    ("English", "Customer → Lost", "Customer", "Lost", "Revenue between the dates"),
    ("中文", "顾客 → 已流失", "顾客", "已流失", "两日期间收入"),
])
def test_customers_who_left_are_listed_as_lost(ladder_env, lang, flow, before, after, revenue):
    """December 2024: B3, B4 and R1 leave (test_loyalty_queries); "Rung after" says Lost, not their old rung,
    and the revenue between the dates is a figure (0: nothing bought), never a blank."""
    at = open_loyalty(lang=lang, loyalty_grain="month", loyalty_move_to="2024-12-31", loyalty_flow=flow,
                      churn_days="180", churn_multiplier="0")  # the queries test's rule
    flow_table = at.dataframe[-1].value
    assert list(flow_table.iloc[:, 0]) == ["B3", "B4", "R1"]
    assert set(flow_table.iloc[:, 2]) == {before} and set(flow_table.iloc[:, 3]) == {after}
    assert list(flow_table.columns)[4] == revenue
    assert flow_table.iloc[:, 4].tolist() == [0, 0, 0]
