"""Issue 16, defect 3: one format for every table and its download (crmlens.fmt.cell, crmlens.tables)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import pandas as pd
import pytest

from crmlens import export, fmt
from tests.conftest import app_test

IDENTIFIER = re.compile(r"^[a-z]+(_[a-z0-9]+)+$|^(n|k|grp|label|value|kind)$")


@pytest.mark.parametrize("value, kind, lang, shown", [
    (339310500, "int", "en", "339,310,500"),
    (14126756.03, "money", "zh", "14,126,756.03"),
    (1390682.2799999998, "money", "en", "1,390,682.28"),  # no float noise
    (6.4136, "decimal", "en", "6.41"),
    (3.1e-60, "p", "en", "< 0.001"),
    (0.0345, "p", "zh", "0.035"),
    (0.3242, "pct", "en", "32.4%"),
    (-0.05, "pp", "en", "-5.0 pp"),
    (-0.05, "pp", "zh", "-5.0个百分点"),
    (pd.Timestamp("2026-03-01 00:00:00"), "datetime", "en", "2026-03-01"),  # no 00:00:00
    (pd.Timestamp("2026-03-01 14:05:00"), "datetime", "en", "2026-03-01 14:05"),
    (dt.date(2026, 3, 1), "date", "zh", "2026-03-01"),
    (None, "int", "en", ""), (float("nan"), "money", "en", ""), (pd.NA, "text", "en", ""),
    (False, "bool", "zh", "No"),
])
def test_cells_read_as_a_manager_reads_them(value, kind, lang, shown):
    assert fmt.cell(value, kind, lang) == shown


@pytest.mark.parametrize("column, dtype, kind", [
    ("n_customers", "int64", "int"), ("amt_revenue_period", "float64", "money"), ("rate_churn", "float64", "pct"),
    ("share_value_period", "float64", "pct"), ("is_lapsed", "bool", "bool"), ("p_value", "float64", "p"),
    ("median_hours_to_resolve", "float64", "days"), ("last_ordered_at", "datetime64[us]", "datetime"),
    ("customer_id", "str", "text"), ("avg_satisfaction", "float64", "decimal"),
])
def test_the_kind_of_a_column_comes_from_its_name(column, dtype, kind):
    assert fmt.cell_kind(column, pd.Series([], dtype=dtype).dtype) == kind


def test_formatted_negative_numbers_are_not_taken_for_formulas():
    df = pd.DataFrame({"a": ["-1,234.50", "+2.5 pp", "-3.0%", "=HYPERLINK(1)", "-cmd"]})
    assert list(export.neutralise_formulas(df, frozenset({"a"}))["a"]) == [
        "-1,234.50", "+2.5 pp", "-3.0%", "'=HYPERLINK(1)", "'-cmd"]
    # in a text column (user data) even a number-like "+1" is quoted, as before
    assert list(export.neutralise_formulas(df)["a"])[:3] == ["'-1,234.50", "'+2.5 pp", "'-3.0%"]


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "crmlens", "demo", "--db", str(db), "--customers", "300"], check=True,
                   capture_output=True)
    return db


@pytest.mark.parametrize("page", ["churn", "loyalty", "complaints", "funnel", "overview", "data"])
@pytest.mark.parametrize("lang", ["中文", "English"])
def test_no_table_shows_an_internal_column_name(page, lang, demo_env, monkeypatch):
    monkeypatch.setenv("CRMLENS_DB", str(demo_env))
    at = app_test(page, timeout=120, lang=lang)
    assert not at.exception, [e.value for e in at.exception]
    headers = [str(c) for d in at.dataframe for c in d.value.columns]
    assert not [h for h in headers if IDENTIFIER.match(h)], headers
    if lang == "中文":
        latin = [h for h in headers if not re.search(r"[\u4e00-\u9fff]", h) and h not in ("NRR", "ABC", "RFM", "R", "F", "M")
                 and not re.fullmatch(r"[\d\s.:-]+", h)]
        assert not latin, latin


def test_long_names_are_whole_on_hover():
    from crmlens.charts import complaints as charts
    long = "Delivery arrived damaged and the courier refused to take the parcel back to the depot"
    df = pd.DataFrame({"label": [long, long + " again", "Price"], "n_complaints": [5, 3, 1],
                       "cum_share": [5 / 9, 8 / 9, 1.0]})
    fig = charts.pareto(df, {"title": "t", "count": "Complaints", "cum_share": "Cumulative"})
    bar = fig.data[0]
    assert bar.orientation == "h"
    assert list(bar.y) == ["Delivery arrived damaged an…", "Delivery arrived damaged… 2", "Price"]  # distinct rows
    assert [row[0] for row in bar.customdata] == [long, long + " again", "Price"]
    assert bar.hovertemplate.startswith("%{customdata[0]}")
