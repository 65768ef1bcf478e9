"""Every page in both languages: no translation key shown raw, no English sentence left in Chinese."""

from __future__ import annotations

import re
import urllib.parse

from crmlens import i18n
from tests.browser.conftest import exceptions, open_page

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


def page_paths(page) -> list[str]:
    hrefs = page.get_by_test_id("stSidebarNavLink").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return sorted({urllib.parse.urlparse(h).path or "/" for h in hrefs})


def test_every_page_reads_fully_in_chinese_and_english(app, page):
    open_page(page, app.url)
    paths = page_paths(page)
    assert "/overview" in paths and "/data" in paths  # the overview has its own address (the root opens it)
    keys = set(i18n.catalog("en"))
    leftovers = english_sentences()
    for path in paths:
        for lang in ("中文", "English"):
            open_page(page, f"{app.url}{path.rstrip('/')}/?lang={lang}" if path == "/" else f"{app.url}{path}?lang={lang}")
            assert exceptions(page) == [], (path, lang)
            text = page.locator('[data-testid="stApp"]').inner_text()
            raw_keys = sorted(k for k in keys if k in text)
            assert raw_keys == [], (path, lang, raw_keys)
            if lang == "中文":
                english = sorted(s for s in leftovers if s in text)
                assert english == [], (path, english)
