"""The two forward-looking views in a real browser, in both languages: the funnel page's Forecast tab on
tests/fixtures/forecast (numbers worked out in tests/test_forecast.py) and the loyalty page's Future value tab
on the CDNOW sample loaded through the importer (tests/test_future_value.py)."""

from __future__ import annotations

import pytest

from crmlens import ingest
from tests.browser.conftest import AppServer, exceptions, open_page, wait_for_app
from tests.conftest import FIXTURES
from tests.test_import_layouts import cdnow_with_header


@pytest.fixture(scope="module")
def forecast_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast")
    db = folder / "forecast.duckdb"
    ingest.load_files(sorted((FIXTURES / "forecast").glob("*.csv")), db=db)
    with AppServer(db, folder) as server:
        yield server


@pytest.fixture(scope="module")
def cdnow_app(tmp_path_factory):
    # A server of its own: the period box offers the ten years around the data's default period, so 1997 and
    # 2025 in one database would not both be reachable by a link.
    folder = tmp_path_factory.mktemp("cdnow")
    db = folder / "cdnow.duckdb"
    ingest.load_files([cdnow_with_header(folder)], db=db)
    with AppServer(db, folder) as server:
        yield server


def open_tab(page, url: str, tab: str) -> dict[str, str]:
    open_page(page, url)
    page.get_by_role("tab", name=tab, exact=True).wait_for(timeout=60_000)
    page.get_by_role("tab", name=tab, exact=True).click()
    wait_for_app(page)
    panel = page.get_by_role("tabpanel").filter(visible=True)
    labels = panel.get_by_test_id("stMetricLabel").all_inner_texts()
    values = panel.get_by_test_id("stMetricValue").all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values)}


@pytest.mark.parametrize("lang, tab, this_quarter, attainment", [
    ("English", "Forecast", "Expected won this quarter", "Expected attainment"),
    ("中文", "预测", "本季度预期赢单额", "达成率（预期 / 目标）"),
])
def test_forecast_tab(forecast_app, page, lang, tab, this_quarter, attainment):
    shown = open_tab(page, f"{forecast_app.url}/funnel?period=2025-01-01&period=2025-03-31&lang={lang}", tab)
    assert (shown[this_quarter], shown[attainment]) == ("300", "25%")
    panel = page.get_by_role("tabpanel").filter(visible=True)
    assert panel.get_by_test_id("stPlotlyChart").count() >= 3  # months, pace line, back-test
    assert exceptions(page) == []
    page.screenshot(path=f"/tmp/forecast-{tab}.png", full_page=True)


@pytest.mark.parametrize("lang, tab, fitted, alive", [
    ("English", "Future value", "Customers fitted", "Repeat buyers alive"),
    ("中文", "未来价值", "参与拟合的客户", "仍存活的复购客户"),
])
def test_future_value_tab(cdnow_app, page, lang, tab, fitted, alive):
    shown = open_tab(page, f"{cdnow_app.url}/loyalty?period=1997-01-01&period=1997-09-30&lang={lang}", tab)
    assert shown[fitted] == "2,349"
    assert int(shown[alive].replace(",", "")) > 0
    assert "1,882" in page.get_by_role("tabpanel").filter(visible=True).inner_text()  # the holdout check
    # the per-rung and per-segment tables show every column (side by side, their averages had to be scrolled to)
    tables = page.get_by_role("tabpanel").filter(visible=True).locator('[data-testid="stDataFrame"]:visible')
    for i in range(2):
        scrolled, shown_width = tables.nth(i).evaluate(
            "e => { const s = e.querySelector('.dvn-scroller'); return [s.scrollWidth, s.clientWidth]; }")
        assert scrolled <= shown_width + 1, (i, scrolled, shown_width)
    assert exceptions(page) == []
    page.screenshot(path=f"/tmp/future-value-{tab}.png", full_page=True)
