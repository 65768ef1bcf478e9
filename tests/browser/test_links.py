"""The address bar is the view: copied into a browser that speaks the other language, after a
language switch, and stepped back through with the back button."""

from __future__ import annotations

import urllib.parse

from tests.browser.conftest import metric_values, open_page, wait_for_app


def query(url: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)


def segment(page, label: str):
    """The button of a segmented control in the main area that shows `label`."""
    return page.get_by_test_id("stMain").get_by_role("radio", name=label, exact=True)


def pressed(page, label: str) -> bool:
    return segment(page, label).get_attribute("aria-checked") == "true"


def assert_same_view_in_new_browser(browser, url: str, locale: str, heading: str, grain: str, figures: dict) -> None:
    """Open the address in a fresh browser speaking `locale`: same language, choice and figures."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=locale)
    try:
        other = open_page(context.new_page(), url)
        assert other.get_by_role("heading", name=heading).is_visible()
        assert pressed(other, grain)
        assert metric_values(other) == figures
    finally:
        context.close()


def test_the_address_opens_the_same_view_in_a_browser_of_the_other_language(app, page, browser):
    open_page(page, f"{app.url}/churn")
    segment(page, "Quarters").click()
    wait_for_app(page)
    assert query(page.url)["lang"] == ["English"]  # written although it is this browser's own
    assert query(page.url)["churn_grain"] == ["Quarters"]
    shown = metric_values(page)

    assert_same_view_in_new_browser(browser, page.url, "zh-CN", "Churn and retention", "Quarters", shown)


def test_a_language_switch_rewrites_the_choices_in_the_address_and_back_undoes_it(app, page, browser):
    open_page(page, f"{app.url}/churn?churn_grain=Quarters&churn_days=60")
    english = metric_values(page)
    english_url = page.url

    page.get_by_test_id("stSidebar").get_by_text("中文", exact=True).click()
    wait_for_app(page)
    page.wait_for_url(lambda url: query(url).get("churn_grain") == ["按季度"])
    assert query(page.url)["lang"] == ["中文"]
    assert query(page.url)["churn_days"] == ["60"]
    assert pressed(page, "按季度")
    chinese = metric_values(page)
    # The headline counts and rates read alike in both languages (money shows 万 in Chinese).
    assert list(chinese.values())[:6] == list(english.values())[:6]

    assert_same_view_in_new_browser(browser, page.url, "en-US", "客户流失与留存", "按季度", chinese)

    page.go_back()
    page.wait_for_url(english_url)
    wait_for_app(page)
    assert page.get_by_role("heading", name="Churn and retention").is_visible()
    assert pressed(page, "Quarters")
    assert metric_values(page) == english


def test_a_bad_link_at_the_root_address_keeps_its_notice_on_the_overview(app, page):
    """`/` passes its link on to /overview (app.py's hidden home page): the bad values are still ignored and
    the "not valid" notice survives the hand-over."""
    open_page(page, f"{app.url}/?period=2024-13-45&period=2024-12-31&overview_compare=bogus")
    page.wait_for_url("**/overview?**")
    wait_for_app(page)
    assert page.get_by_role("heading", name="Overview").is_visible()
    notice = page.get_by_test_id("stSidebar").get_by_test_id("stAlertContentWarning").inner_text()
    assert "were not valid and were ignored" in notice
    assert "period=2024-13-45" in notice and "overview_compare=bogus" in notice
    assert "2024-13-45" not in page.url and "bogus" not in page.url
