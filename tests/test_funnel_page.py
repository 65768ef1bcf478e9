"""The funnel page through AppTest, on tests/fixtures/funnel (numbers worked out in test_funnel_queries)."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import app_test, serve_fixture

YEAR = ["2024-01-01", "2024-12-31"]
ORDER = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]  # without "on hold"


@pytest.fixture
def funnel_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "funnel/mixed")


@pytest.fixture
def zh_env(monkeypatch, tmp_path):
    return serve_fixture(monkeypatch, tmp_path, "funnel/zh")


def open_funnel(**query) -> AppTest:
    return app_test("funnel", **query)


def metrics(at: AppTest) -> dict[str, str]:
    """The eight headline cards (the Forecast tab's cards follow them; tests/test_forecast.py checks those)."""
    return {m.label: m.value for m in list(at.metric)[:8]}


def test_headline_figures_and_the_rule_statement(funnel_env):
    at = open_funnel(period=YEAR, funnel_stages=ORDER)
    assert not at.exception
    # 2024 holds every dated opportunity (01-01 .. 07-10), so N8, with no date at all, counts too, as undated:
    # won H1 N1 N8 (win rate 3 / 7), average won (100 + 300 + 999) / 3 = 466; the cycle stays H1 20 and N1 30
    # days (N8 has no dates); velocity 5 open x 3/7 x 466.33 / 25 = 40.
    assert metrics(at) == {
        "Opportunities": "12", "Won": "3", "Lost": "4", "Open": "5", "Win rate": "42.9%",
        "Average won deal": "466", "Average sales cycle": "25.0 days", "Sales velocity (per day)": "40"}
    assert any("1 opportunities have no date at all" in c.value and "counted, as \"undated\"" in c.value
               for c in at.caption)
    rule = at.info[0].value
    assert "12 opportunities" in rule
    assert "4 from their stage history" in rule
    assert "2 won without history" in rule and "4 open without history" in rule
    assert "1 lost without history: counted up to the last stage whose date column is filled" in rule
    assert "qualified\\_date → qualified" in rule  # column and stage names from data arrive escaped (safe.md)
    assert "1 lost without history or stage dates: counted at the first step only" in rule
    assert "(on hold)" in at.warning[0].value  # N6's stage is outside the order
    steps = at.dataframe[0].value
    assert steps["Stage"].tolist() == ["lead", "qualified", "proposal", "negotiation", "won"]
    assert steps["Reached"].tolist() == [12, 9, 6, 4, 3]  # test_funnel_queries' counts + N8 (won reaches every step)


def test_owner_filter_from_the_url(funnel_env):
    at = open_funnel(period=YEAR, funnel_stages=ORDER, owner="B")
    # Owner B: H4 N3 N4 N5 N6 N7: nothing won.
    assert metrics(at)["Opportunities"] == "6"
    assert metrics(at)["Won"] == "0"
    assert at.dataframe[0].value["Reached"].tolist() == [6, 3, 1, 0, 0]


def test_selected_step_lists_its_drop_off(funnel_env):
    # Bound choice widgets keep their shown text in the URL.
    at = open_funnel(period=YEAR, funnel_stages=ORDER, funnel_stage="proposal", funnel_show="Dropped off after it")
    listed = at.dataframe[1].value
    assert listed["Opportunity"].tolist() == ["N7", "H3"]  # reached proposal, not negotiation
    assert "Showing 1–2 of 2." in [c.value for c in at.caption]


def test_reordering_stages_moves_them_and_keeps_the_order_in_the_url(funnel_env):
    at = open_funnel(period=YEAR)
    # Proposed order puts the unknown "on hold" after negotiation.
    assert at.multiselect(key="funnel_stages").value == [
        "lead", "qualified", "proposal", "negotiation", "on hold", "won", "lost"]
    at.selectbox(key="funnel_move").set_value("on hold").run()
    next(b for b in at.button if b.label == "Earlier").click().run()
    assert at.multiselect(key="funnel_stages").value[3:5] == ["on hold", "negotiation"]
    assert at.query_params["funnel_stages"][3] == "on hold"
    # on hold now comes before negotiation: N6 (on hold) reaches lead..on hold.
    steps = at.dataframe[0].value
    assert steps["Stage"].tolist()[3] == "on hold"
    # qualified 8 + N6, proposal 5 + N6, on hold: H1 N1 (won), N2 (negotiation is now later), N6; then 3, 2;
    # each + N8 (undated, won: every step), as 2024 covers all the data.
    assert steps["Reached"].tolist() == [12, 10, 7, 5, 4, 3]


def test_breakdown_marks_small_groups(funnel_env):
    at = open_funnel(period=YEAR, funnel_stages=ORDER, funnel_by="Source", funnel_tab="Who converts")
    [table] = [d.value for d in at.dataframe if "Verdict" in d.value.columns]
    # web: H1 100 + N2 400 + N8 999 (undated, counted in the whole-data view); fair 500; call 210
    assert table["Source"].tolist() == ["web", "fair", "call"]
    assert set(table["Verdict"]) == {"too few to tell"}  # every group has under 30 closed


def test_owner_risk_threshold_setting(funnel_env):
    at = open_funnel(period=YEAR, funnel_stages=ORDER, funnel_risk_share="50", funnel_tab="Owner risk")
    assert "A hold at least 50% of revenue" in at.warning[-1].value  # A's customers: 1000 of 1500
    at.number_input(key="funnel_risk_share").set_value(70.0).run()
    assert "No owner holds 70% of revenue or more." in at.success[0].value


def test_chinese_page_on_chinese_stage_names(zh_env):
    at = open_funnel(period=YEAR, lang="中文")
    assert not at.exception
    assert at.title[0].value == "销售漏斗"
    shown = metrics(at)
    assert shown["商机数"] == "8" and shown["赢单率"] == "25.0%" and shown["平均销售周期"] == "10.0 天"
    assert at.dataframe[0].value["阶段"].tolist() == ["线索", "合格", "方案报价", "谈判", "赢单"]
    assert "方案报价日期 → 方案报价" in at.info[0].value
