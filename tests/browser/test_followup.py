"""Follow-up coverage, departures and the ladder climb in a real browser on the demo data, in both languages.

The demo (400 customers) has one rep whose customers are often never called (Wang Fang) and three reps who
leave and take most of their customers (crmlens.demo.LEAVERS)."""

from __future__ import annotations

from urllib.parse import quote

from crmlens import demo
from tests.browser.conftest import choose, exceptions, metric_values, open_page, wait_for_app

LEAVERS = [demo.OWNERS[i] for i, _ in sorted(demo.LEAVERS, key=lambda x: x[1])]
NEGLECTFUL = demo.OWNERS[demo.NEGLECTFUL_OWNER]


def pct(text: str) -> float:
    return float(text.rstrip("%"))


def open_followup(page, url: str, heading: str):
    open_page(page, url)
    page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=60_000)
    wait_for_app(page)
    return page


def test_follow_up_section_and_the_owner_in_the_address(app, page):
    open_followup(page, f"{app.url}/followup", "Follow-up and handover")
    everybody = metric_values(page)
    assert 0 < pct(everybody["Followed up"]) < 100
    assert page.get_by_text("nearly 50% of customers said they never got a follow-up call").is_visible()
    section = page.locator('[data-testid="stMain"]')
    assert section.get_by_test_id("stPlotlyChart").count() >= 3  # by owner, by month, the departure survival
    assert page.get_by_role("button", name="Download the whole list").is_visible()
    page.screenshot(path="/tmp/followup.png", full_page=True)

    open_followup(page, f"{app.url}/followup?owner={quote(NEGLECTFUL)}", "Follow-up and handover")
    neglected = metric_values(page)
    assert pct(neglected["Followed up"]) < pct(everybody["Followed up"])
    assert pct(neglected["Never followed up"]) > pct(everybody["Never followed up"])
    assert f"owner={quote(NEGLECTFUL).replace('%20', '+')}" in page.url or f"owner={quote(NEGLECTFUL)}" in page.url
    assert exceptions(page) == []


def test_follow_up_section_in_chinese(app, page):
    open_followup(page, f"{app.url}/followup?lang={quote('中文')}", "回访与交接")
    shown = metric_values(page)
    assert 0 < pct(shown["已回访"]) < 100 and "从未被回访的客户" in shown
    assert page.get_by_text("将近 50% 的客户表示维修保养后从未接到跟踪电话").is_visible()
    assert exceptions(page) == []


def test_departures_find_the_demo_leavers(app, page):
    open_followup(page, f"{app.url}/followup", "Follow-up and handover")
    page.get_by_role("heading", name="A departing salesperson's book").scroll_into_view_if_needed()
    for owner in LEAVERS:
        sentence = page.get_by_text(f"{owner} left on", exact=False)
        assert sentence.is_visible(), owner
    choose(page, "Departure", LEAVERS[1])
    assert page.get_by_role("heading", name=f"Handover list: {LEAVERS[1]}'s customers still active").is_visible()
    assert "departure_owner=" in page.url
    assert exceptions(page) == []


def test_departures_in_chinese(app, page):
    open_followup(page, f"{app.url}/followup?lang={quote('中文')}", "回访与交接")
    assert page.get_by_role("heading", name="销售员离职后的客户").is_visible()
    for owner in LEAVERS:
        assert page.get_by_text(f"{owner} 于", exact=False).first.is_visible(), owner
    assert exceptions(page) == []


def climb_tab(page, url: str, heading: str, tab: str):
    open_followup(page, url, heading)
    page.get_by_role("tab", name=tab).click()
    wait_for_app(page)
    return page.get_by_role("tabpanel").filter(has=page.get_by_test_id("stPlotlyChart")).last


def test_ladder_climb_tab(app, page):
    panel = climb_tab(page, f"{app.url}/loyalty", "Loyalty ladder", "Climbing: worth it?")
    assert panel.get_by_text("Customer → Client", exact=False).first.is_visible()
    assert panel.get_by_text("Triage per rung").is_visible()
    assert exceptions(page) == []


def test_ladder_climb_tab_in_chinese(app, page):
    panel = climb_tab(page, f"{app.url}/loyalty?lang={quote('中文')}", "客户忠诚度阶梯", "升级值得吗")
    assert panel.get_by_text("各级客户的处置").is_visible()
    assert exceptions(page) == []
