"""Every page in both languages: no translation key shown raw, no English sentence left in Chinese."""

from __future__ import annotations

import re
import urllib.parse

from crmlens import i18n
from tests.browser.conftest import exceptions, open_page, wait_for_app

PLACEHOLDER = re.compile(r"\{\w+\}")


def english_sentences() -> set[str]:
    """Longer English texts of the catalog that differ from their Chinese translation."""
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    out = set()
    for key, text in en.items():
        for part in PLACEHOLDER.split(text):
            part = part.strip(" .,:;()")
            if len(part) >= 20 and part not in zh[key] and re.search("[a-z]{4,} [a-z]{3,}", part):
                out.add(part)
    return out


def test_every_page_reads_fully_in_chinese_and_english(app, page):
    """Every page, reached as a manager reaches it: the language is chosen once in the address, then each page is
    opened through the sidebar's links, in a browser whose own language is English. The links open a page without
    the address's `lang`: every page after the first turned English until the session kept its language."""
    keys = set(i18n.catalog("en"))
    leftovers = english_sentences()
    for lang in ("中文", "English"):
        open_page(page, f"{app.url}/?lang={lang}")
        links = page.get_by_test_id("stSidebarNavLink")
        paths = [urllib.parse.urlparse(h).path for h in links.evaluate_all("links => links.map(a => a.href)")]
        assert "/overview" in paths and "/data" in paths and len(paths) >= 8, paths
        for i, path in enumerate(paths):
            links.nth(i).click()
            page.wait_for_url(re.compile(re.escape(path) + r"\?"))
            wait_for_app(page)
            assert exceptions(page) == [], (path, lang)
            assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query).get("lang") == [lang], (path, page.url)
            text = page.locator('[data-testid="stApp"]').inner_text()
            raw_keys = sorted(k for k in keys if k in text)
            assert raw_keys == [], (path, lang, raw_keys)
            if lang == "中文":
                english = sorted(s for s in leftovers if s in text)
                assert english == [], (path, english)
                assert re.search(r"[\u4e00-\u9fff]", page.get_by_test_id("stMain").locator("h1").first.inner_text()), path
