"""Latin-script words on a page in the Chinese UI, less those allowed: product names, units, codes and
whatever the user's own data holds (names, segments, categories as typed)."""

from __future__ import annotations

import pathlib
import re

from playwright.sync_api import Page

from tests.browser.conftest import wait_for_app
from tests.conftest import fetch

# Product names, units and codes a Chinese manager reads as they are.
ALLOWED = {
    "CRM", "Lens", "CSV", "Excel", "UTF", "GBK", "GB18030", "NPS", "RFM", "ABC", "NRR", "SLA", "ID", "CLV", "KPI",
    "R", "F", "M", "A", "B", "C", "p", "k", "Cox", "Kaplan", "Meier", "p90", "MB", "GB", "x", "Top", "DuckDB",
    "Streamlit", "Chromium", "URL", "Pareto", "OIDC", "JSON", "ZIP", "xlsx", "csv", "TSV", "TXT", "UTC",
    # the language switch names each language in its own words ("Language / 语言": 中文 | English)
    "Language", "English",
    # names of statistical methods and symbols of formulas, as Chinese textbooks print them
    "Kaplan-Meier", "Greenwood", "log-log", "Log-rank", "FM", "N", "n", "t", "r", "m",
    # the customer-base models (BG/NBD, Gamma-Gamma) and their parameters
    "BG", "NBD", "Gamma-Gamma",
    # a server setting's name, as the administrator types it
    "CRMLENS_KEEP_VERSIONS",
}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


def data_words(db: pathlib.Path) -> set[str]:
    """Every word of the loaded data's text columns (the user typed them; they may stay as typed)."""
    words: set[str] = set()
    tables = [r[0] for r in fetch(db, "select table_name from information_schema.tables where table_schema = 'main' "
                                      "and table_name in ('customers', 'orders', 'opportunities', "
                                      "'opportunity_stage_history', 'complaints', 'surveys')")]
    for table in tables:
        columns = [r[0] for r in fetch(db, f"select column_name from information_schema.columns where table_name = "
                                           f"'{table}' and data_type = 'VARCHAR'")]
        for column in columns:
            for (value,) in fetch(db, f'select distinct "{column}" from "{table}" where "{column}" is not null limit 5000'):
                words.update(LATIN_WORD.findall(str(value)))
    return words


def known_words() -> set[str]:
    """Words of the data the app knows and says in the reader's language (complaint categories, severities):
    seen in English in the Chinese UI, they are a miss even though the data holds them."""
    from crmlens import complaints
    names = [n for key, aliases in complaints.CATEGORIES.items() for n in (key, *aliases)] + list(complaints.SEVERITY_WORDS)
    return {w for n in names for w in LATIN_WORD.findall(n.replace("_", " "))}


def icon_names(page: Page) -> set[str]:
    """Material icons are drawn from their names (a ligature font): text in the page, not words read."""
    return set(page.evaluate("""() => [...document.querySelectorAll('span, i')]
        .filter(e => e.children.length === 0 && getComputedStyle(e).fontFamily.includes('Material'))
        .map(e => e.textContent.trim())"""))


def visible_text(page: Page) -> str:
    """The text a reader sees: the main area and the sidebar, chart text (SVG) included."""
    main = page.get_by_test_id("stMain").inner_text()
    side = page.get_by_test_id("stSidebar").inner_text()
    svg = " ".join(page.locator('[data-testid="stPlotlyChart"] svg text').all_text_contents())
    return "\n".join((main, side, svg))


def latin_words(text: str, allowed: set[str]) -> set[str]:
    """Latin words of `text` that are neither allowed nor numbers with a unit (12k, 3.5x)."""
    found = set()
    for word in LATIN_WORD.findall(text):
        word = word.strip(".-_")
        if word and word not in allowed and word.lower() not in {a.lower() for a in allowed}:
            found.add(word)
    return found


def every_tab(page: Page):
    """Yield once per tab of the main area (once when there is none), the tab opened."""
    tabs = page.get_by_test_id("stMain").get_by_role("tab")
    n = tabs.count()
    if n == 0:
        yield None
        return
    for i in range(n):
        if tabs.nth(i).get_attribute("aria-selected") != "true":  # the open tab's click starts no run to wait for
            tabs.nth(i).click()
            wait_for_app(page)
        yield tabs.nth(i).inner_text()
