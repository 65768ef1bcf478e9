"""Issue 16, defect 1: a shared link gives the recipient the numbers the sender saw. A setting whose
default comes from the data (the what-if margin) follows the data in scope unless the reader typed it,
and whatever the view used travels in the link."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.browser.conftest import exceptions, metric_values, open_page, wait_for_app


def visible_figures(page) -> dict:
    """Every figure the What-if tab shows: the metric cards, the margin used and the assumptions."""
    main = page.get_by_test_id("stMain")
    return {"metrics": metric_values(page),
            "captions": main.get_by_test_id("stCaptionContainer").all_inner_texts(),
            "markdown": main.get_by_test_id("stMarkdownContainer").all_inner_texts()}


def open_what_if(page) -> None:
    page.get_by_role("tab", name="What if").click()
    page.get_by_text("Profit gained (12 months)").first.wait_for()


def pick_segment(page, value: str) -> None:
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Segment")
    box.locator("input").click()
    box.locator("input").fill(value)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_for_app(page)


def same_in_a_fresh_browser(browser, url: str) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    try:
        other = open_page(context.new_page(), url)
        open_what_if(other)
        assert exceptions(other) == []
        return visible_figures(other)
    finally:
        context.close()


def test_a_filter_after_the_what_if_recomputes_the_margin_and_the_link_reproduces_it(app, page, browser):
    open_page(page, f"{app.url}/churn")
    open_what_if(page)
    before = visible_figures(page)
    pick_segment(page, "business")
    assert re.search(r"segment=business", page.url)
    open_what_if(page)
    after = visible_figures(page)
    # the margin follows the filter: it is read from the business customers' orders now
    used = [c for c in after["captions"] if c.startswith("Margin used")]
    assert used and used != [c for c in before["captions"] if c.startswith("Margin used")]
    assert "churn_margin_pct" not in page.url  # not typed: the link carries the filters, not a stale number
    assert after["metrics"] != before["metrics"]

    assert same_in_a_fresh_browser(browser, page.url) == after


def test_a_typed_margin_goes_into_the_link_and_stays_through_a_filter(app, page, browser):
    open_page(page, f"{app.url}/churn")
    open_what_if(page)
    box = page.get_by_role("spinbutton", name="Margin (% of revenue)")
    assert box.input_value() == ""  # empty: taken from the data, shown as the placeholder
    assert re.fullmatch(r"From the data: \d+\.\d%", box.get_attribute("placeholder"))
    box.fill("25")
    box.press("Enter")
    wait_for_app(page)
    assert "churn_margin_pct=25" in page.url
    pick_segment(page, "business")
    open_what_if(page)
    shown = visible_figures(page)
    assert "Margin used: 25.0%, as typed (kept in the link). Empty the box to take it from the data." in shown["captions"]
    assert "25.0% margin" in " ".join(shown["markdown"])
    # issue 14: the lifetime (discounted) gain is shown beside the 12-month one; its value today is the loyalty
    # page's lifetime value for the same link (same filter, margin and settings): one yearly retention, one margin
    assert "Lifetime profit gained (discounted)" in shown["metrics"]
    clv_today = re.search(r"\^t: ([\d,.]+) today", " ".join(shown["markdown"])).group(1)

    assert same_in_a_fresh_browser(browser, page.url) == shown
    # the one margin setting: the loyalty page's lifetime value reads the same link key
    query = [(k, v) for k, v in parse_qsl(urlsplit(page.url).query) if k != "churn_tab"]
    open_page(page, f"{app.url}/loyalty?{urlencode([*query, ('loyalty_tab', 'Lifetime value')])}")
    page.get_by_text("Margin: 25.0% of revenue, as typed").first.wait_for()
    assert page.get_by_role("spinbutton", name="Margin (% of revenue)").input_value() == "25.0"
    formula = page.get_by_test_id("stCode").filter(has_text="forward CLV").inner_text()
    assert formula.rstrip().endswith(f"= {clv_today}")
    assert exceptions(page) == []


def test_the_what_if_change_is_in_percentage_points(app, page):
    open_page(page, f"{app.url}/churn?churn_whatif_points=5")
    open_what_if(page)
    delta = page.get_by_test_id("stMetricDelta").first.inner_text()
    assert re.fullmatch(r"-\d+\.\d pp", delta.strip()), delta
