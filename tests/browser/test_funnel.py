"""The funnel page in a real browser: a filter changed in the sidebar, and a pipeline export with its
own stage names uploaded through the Data page and reordered in the UI."""

from __future__ import annotations

import re

import duckdb

from crmlens import fmt
from tests.browser.conftest import choose, exceptions, metric_values, open_page, upload_and_load, wait_for_app

PERIOD = "period=2025-11-01&period=2026-10-31"


def opportunities_created(db, owner: str | None = None) -> int:
    """Counted here with plain SQL, not with the app's queries."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select count(*) from opportunities where created_date between '2025-11-01' and '2026-10-31'"
                           " and (? is null or owner = ?)", [owner, owner]).fetchone()[0]
    finally:
        con.close()


def funnel_steps(page) -> list[str]:
    """Step names along the funnel chart's axis, top to bottom."""
    ticks = page.get_by_test_id("stPlotlyChart").first.locator(".yaxislayer-above .ytick text")
    return [text for _, text in sorted((t.bounding_box()["y"], t.text_content()) for t in ticks.all())]


def bar_texts(page) -> list[str]:
    """The texts on the funnel chart's bars (counts with conversion, then values)."""
    texts = page.get_by_test_id("stPlotlyChart").first.locator("text.bartext").all_text_contents()
    return [re.sub(r"\s+", " ", t) for t in texts]


def test_owner_filter_changes_the_funnel_and_is_kept_in_the_link(app, page):
    open_page(page, f"{app.url}/funnel?{PERIOD}")
    assert exceptions(page) == []
    assert metric_values(page)["Opportunities"] == fmt.number(opportunities_created(app.db), "en")
    assert funnel_steps(page) == ["lead", "qualified", "proposal", "negotiation", "won"]
    page.screenshot(path="/tmp/funnel-demo.png", full_page=True)

    owner = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Owner (sales rep)")
    owner.locator("input").click()
    owner.locator("input").fill("Li Wei")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_for_app(page)
    assert re.search(r"owner=Li(\+|%20)Wei", page.url)
    shown = metric_values(page)["Opportunities"]
    assert shown == fmt.number(opportunities_created(app.db, "Li Wei"), "en")
    assert shown != fmt.number(opportunities_created(app.db), "en")
    assert exceptions(page) == []


PIPELINE = """opportunity_id,deal_stage,created_date,engage_date,close_date,deal_value,sales_rep,lead_source
D01,Prospecting,2026-10-01,,,1000,Amy,web
D02,Prospecting,2026-10-02,,,1000,Amy,web
D03,Prospecting,2026-10-03,,,1000,Bob,event
D04,Engaging,2026-10-01,2026-10-05,,2000,Amy,web
D05,Engaging,2026-10-02,2026-10-06,,2000,Bob,event
D06,Engaging,2026-10-03,2026-10-07,,2000,Bob,web
D07,Won,2026-09-01,2026-09-05,2026-09-21,5000,Amy,web
D08,Won,2026-09-02,2026-09-06,2026-09-22,5000,Amy,event
D09,Won,2026-09-03,2026-09-07,2026-09-23,5000,Bob,web
D10,Won,2026-09-04,2026-09-08,2026-09-24,5000,Bob,web
D11,Lost,2026-09-05,2026-09-09,2026-09-25,3000,Amy,web
D12,Lost,2026-09-06,2026-09-10,2026-09-26,3000,Bob,event
D13,Lost,2026-09-07,,2026-09-08,3000,Bob,web
"""


def test_uploaded_pipeline_with_its_own_stages_can_be_reordered(own_app, page, tmp_path):
    export = tmp_path / "pipeline_export.csv"
    export.write_text(PIPELINE, encoding="utf-8")
    assert "13 rows loaded into Opportunities" in upload_and_load(page, own_app.url, export)

    open_page(page, f"{own_app.url}/funnel?{PERIOD}")
    assert exceptions(page) == []
    shown = metric_values(page)
    # 13 deals: 4 won, 3 lost, 6 open. Win rate 4 / 7.
    assert (shown["Opportunities"], shown["Won"], shown["Lost"], shown["Open"]) == ("13", "4", "3", "6")
    assert shown["Win rate"] == "57.1%"
    assert funnel_steps(page) == ["Prospecting", "Engaging", "Won"]
    rule = page.get_by_test_id("stAlertContentInfo").first.inner_text()
    # D11, D12 lost after engaging (engage_date filled); D13 lost with no stage date.
    assert "engage_date → Engaging" in rule and "2 lost without history" in rule
    # Engaging reached by 4 won + 3 engaging + 2 lost with an engage date = 9 of 13.
    assert "9 · step 69% · overall 69%" in bar_texts(page)

    page.get_by_text("Stages: order, won and lost").click()
    choose(page, "Move a stage", "Engaging")
    page.get_by_role("button", name="Earlier").click()
    wait_for_app(page)
    assert funnel_steps(page) == ["Engaging", "Prospecting", "Won"]
    assert "funnel_stages=Engaging&funnel_stages=Prospecting" in page.url
    # Now Prospecting is the second step: the 3 prospecting deals and the 4 won = 7 of 13 (54%).
    assert "7 · step 54% · overall 54%" in bar_texts(page)
    page.screenshot(path="/tmp/funnel-upload-reordered.png", full_page=True)
    assert exceptions(page) == []
