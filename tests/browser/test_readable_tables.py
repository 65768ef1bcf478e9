"""Issue 16, defect 3: tables and their CSV downloads read as a manager reads numbers, in the reader's
language: translated headers and coded values, thousands separators, fixed decimals, percentages,
dates without a time, p-values as "< 0.001"; never None, True/False, 3.1e-60 or 1390682.2799999998."""

from __future__ import annotations

import csv
import io
import re

from tests.browser.conftest import exceptions, open_page

PERIOD = "period=2025-12-01&period=2026-11-30"
IDENTIFIER = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")  # amt_revenue_period, n_lost_from_start, ...
RAW = re.compile(r"^(None|nan|NaN|NaT|True|False|<NA>)$|\d\.\d{5,}|\de[-+]?\d|\d{2}:\d{2}:\d{2}")
NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})*(\.\d+)?(%| pp|个百分点)?$")


def download(page, tab: str | None, index: int = 0) -> list[dict]:
    """Click the `index`th visible download button (of `tab`), and read the CSV as a spreadsheet would."""
    if tab:
        page.get_by_role("tab", name=tab).click()
    button = page.get_by_test_id("stMain").locator('[data-testid="stDownloadButton"] button:visible').nth(index)
    with page.expect_download() as info:
        button.click()
    text = open(info.value.path(), encoding="utf-8-sig").read()
    return list(csv.DictReader(io.StringIO(text)))


def check_readable(rows: list[dict], chinese: bool) -> None:
    assert rows, "the download is empty"
    for header in rows[0]:
        assert not IDENTIFIER.match(header), f"internal column name {header!r}"
        if chinese:
            assert re.search(r"[\u4e00-\u9fff]", header) or header in ("NRR", "ABC", "RFM", "R", "F", "M"), header
    for row in rows:
        for header, value in row.items():
            assert not RAW.search(value), f"{header}: {value!r} as a program prints it"
            if re.fullmatch(r"-?\d+(\.\d+)?", value) and abs(float(value)) >= 1000:
                raise AssertionError(f"{header}: {value!r} has no thousands separator")


def test_churn_downloads_in_chinese(app, page):
    open_page(page, f"{app.url}/churn?lang=中文&{PERIOD}")
    assert exceptions(page) == []
    bucket = download(page, None)
    check_readable(bucket, chinese=True)
    assert set(bucket[0]) >= {"周期", "本期流失率", "NRR"}
    assert all(r["本期流失率"].endswith("%") for r in bucket if r["本期流失率"])
    assert {r["已结束"] for r in bucket} <= {"是", "否"}
    assert any("," in r["期初"] or "," in r["流失收入（其最近 12 个月）"] for r in bucket)

    cohorts = download(page, "同期群")
    check_readable(cohorts, chinese=True)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["首单月份"]) for r in cohorts)

    tests = download(page, "流失因素")
    check_readable(tests, chinese=True)
    p_column = [h for h in tests[0] if h.startswith("p")][0]
    assert all(re.fullmatch(r"< 0\.001|0\.\d{3}|1\.000", r[p_column]) for r in tests)
    assert all(r["最大差距（百分点）"].endswith("个百分点") for r in tests)


def test_churn_at_risk_download_in_english(app, page):
    open_page(page, f"{app.url}/churn?lang=English&{PERIOD}")
    rows = download(page, "At risk")
    check_readable(rows, chinese=False)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["Last order"]) for r in rows)
    assert all(NUMBER.match(r["Value at stake"]) for r in rows)


def test_loyalty_customer_export_in_chinese(app, page):
    """The export made on click (its own thread): headers, rungs, RFM segments and flags in Chinese, money with
    separators and two decimals."""
    open_page(page, f"{app.url}/loyalty?lang=中文&{PERIOD}")
    assert exceptions(page) == []
    page.get_by_role("tab", name="客户明细").click()
    button = page.get_by_test_id("stMain").get_by_role("button", name=re.compile("下载符合条件的"))
    with page.expect_download() as info:
        button.click()
    rows = list(csv.DictReader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))
    check_readable(rows, chinese=True)
    assert {"期间收入", "RFM 分群", "已流失"} <= set(rows[0])
    assert {r["已流失"] for r in rows} <= {"是", "否"}
    assert "冠军客户" in {r["RFM 分群"] for r in rows}
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", r["期间收入"]) for r in rows if r["期间收入"])
