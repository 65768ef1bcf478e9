"""Issue 16, defect 2: the Chinese UI is Chinese. Every page and tab, charts included, shows no Latin-script
word that is not a product name, unit or code, or a word of the user's own data; Streamlit's own uploader
text is translated; /overview is a page, not "Page not found"."""

from __future__ import annotations

import re

from tests.browser.conftest import choose_files, exceptions, open_page, wait_for_app
from tests.browser.words import ALLOWED, data_words, every_tab, icon_names, known_words, latin_words, visible_text

PAGES = ("overview", "funnel", "loyalty", "churn", "complaints", "data")


def test_no_english_in_the_chinese_ui(app, browser):
    allowed = ALLOWED | (data_words(app.db) - known_words())
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        open_page(page, app.url)
        found = {}
        for view in PAGES:
            open_page(page, f"{app.url}/{view}?lang=中文")
            page.get_by_test_id("stMain").locator("h1").first.wait_for()
            wait_for_app(page)
            assert exceptions(page) == []
            for tab in every_tab(page):
                words = latin_words(visible_text(page), allowed | icon_names(page))
                if words:
                    found[f"{view} / {tab}"] = sorted(words)
        assert found == {}
    finally:
        context.close()


def test_a_missing_column_is_told_in_chinese(own_app, browser, tmp_path):
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,customer_id\nO1,C1\n", encoding="utf-8")
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        open_page(page, own_app.url)
        open_page(page, f"{own_app.url}/data?lang=中文")
        choose_files(page, bad)
        wait_for_app(page)
        error = page.get_by_test_id("stMain").get_by_test_id("stAlertContentError").first.inner_text()
        # the file's name, its own columns and the headers it must add are the user's words; the rest is Chinese
        assert latin_words(error, ALLOWED | {"orders.csv", "order_id", "customer_id", "order_date", "amount"}) == set(), error
        assert "订单 表缺少必需列 order_date（或“订单日期”）、amount（或“金额”）" in error
        assert re.search(r"[\u4e00-\u9fff]", error)
    finally:
        context.close()


def test_the_overview_has_its_own_address(app, page):
    open_page(page, f"{app.url}/overview?period=2026-01-01&period=2026-06-30")
    page.get_by_role("heading", name="Overview").first.wait_for()
    assert page.get_by_text("Page not found").count() == 0
    open_page(page, f"{app.url}/?period=2026-01-01&period=2026-06-30")
    page.wait_for_url(re.compile(r"/overview\?.*period=2026-01-01&period=2026-06-30"))
    assert page.get_by_text("Page not found").count() == 0


def test_the_uploader_words_are_drawn_in_chinese(app, browser):
    """Streamlit's own uploader words are hidden and drawn again through CSS (chrome.uploader_words): the drawn
    text is the Chinese itself, not "u9009u62e9u6587u4ef6" (a JSON escape is no CSS escape)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        open_page(page, f"{app.url}/data?lang=中文")
        page.get_by_test_id("stFileUploaderDropzoneInstructions").locator("span").first.wait_for(state="attached")
        after = page.evaluate("""() => [
            '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p',
            '[data-testid="stFileUploaderDropzoneInstructions"] span',
        ].map(s => getComputedStyle(document.querySelector(s), '::after').content)""")
        assert after[0] == '"选择文件"'
        assert after[1].startswith('"每个文件不超过 ') and "u" not in after[1].split("·")[0]
    finally:
        context.close()
