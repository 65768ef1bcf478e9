"""Issue 16, defect 3 (left over): the funnel's step table and opportunity list showed a missing cell as
"None" (Streamlit draws a missing value as "None" whatever the Styler says) and whole deal sizes as
"497,900.00". Every table drawn through crmlens.tables shows a blank as "–" and whole amounts without ".00",
in both languages; amounts with cents keep two decimals."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from crmlens import tables
from tests.conftest import app_test, serve_fixture

YEAR = ["2024-01-01", "2024-12-31"]
ORDER = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]


def test_whole_amounts_read_without_cents_and_amounts_with_cents_keep_them():
    df = pd.DataFrame({"amount": [497900.0, None, 120.0], "amt_revenue": [1390682.2799999998, 3.5, None]})
    table = tables.Table(df, lang="en")
    assert table.as_text().values.tolist() == [["497,900", "1,390,682.28"], ["", "3.50"], ["120", ""]]
    # on screen the same text, a missing cell as "–"
    shown = table.styler().to_string(delimiter="|").splitlines()
    assert shown[1:] == ["0|497,900|1,390,682.28", "1|–|3.50", "2|120|–"]


def test_a_money_column_with_nothing_in_it_is_not_taken_for_whole():
    table = tables.Table(pd.DataFrame({"amt_value": [None, None]}, dtype="float64"), lang="zh")
    assert table.kinds[next(iter(table.kinds))] == "money"


def shown_cells(frame) -> pd.DataFrame:
    """The text Streamlit draws in each cell: the Styler's display values sent beside the data."""
    return pa.ipc.open_stream(frame.proto.arrow_data.styler.display_values).read_all().to_pandas()


@pytest.mark.parametrize("lang", ["English", "中文"])
def test_funnel_tables_show_blanks_as_a_dash_and_deal_sizes_as_whole_numbers(lang, monkeypatch, tmp_path):
    serve_fixture(monkeypatch, tmp_path, "funnel/mixed")
    at = app_test("funnel", period=YEAR, funnel_stages=ORDER, lang=lang)
    assert not at.exception, [e.value for e in at.exception]
    steps, listed = at.dataframe[0], at.dataframe[1]
    # the first step has no step conversion and the last no drop-off: blanks the page must not call "None"
    assert steps.value.isna().any().any() and listed.value.isna().any().any()
    for frame in (steps, listed):
        assert frame.proto.placeholder == "–"  # what Streamlit draws for a missing value
        cells = shown_cells(frame)
        text = [str(v) for v in cells.to_numpy().ravel()]
        assert not [v for v in text if v in ("None", "nan", "NaN", "<NA>", "NaT") or v.endswith(".00")], text
    step_cells = shown_cells(steps)
    assert step_cells.iloc[0, 3] == "–"  # the first step: no step conversion
    assert step_cells.iloc[0, 2] == f"{steps.value.iloc[0, 2]:,.0f}"  # value reached: 2,200-style, no cents


@pytest.mark.parametrize("fixture, page, query", [
    ("followup", "followup", {"period": YEAR, "churn_days": "30", "churn_multiplier": "0"}),
    ("climb", "loyalty", {"period": YEAR, "churn_days": "3650", "churn_multiplier": "0",
                          "loyalty_tab": "Climbing: worth it?"}),
])
def test_tables_drawn_outside_the_table_layer_show_blanks_as_a_dash_too(fixture, page, query, monkeypatch, tmp_path):
    """The follow-up tables, the loyalty climb and triage tables (and the forecast and future-value tables,
    drawn the same way) are shown by st.dataframe directly: their blanks are "–" as well, never "None"."""
    serve_fixture(monkeypatch, tmp_path, fixture)
    at = app_test(page, timeout=90, **query)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe) >= 2
    assert [d.proto.placeholder for d in at.dataframe] == ["–"] * len(at.dataframe)


def big_table_page():
    """A page drawing one table of 30,000 rows x 10 columns through crmlens.tables (300,000 cells: more than the
    262,144 a pandas Styler renders, which Streamlit refuses with an exception)."""
    import pandas as pd
    import streamlit as st

    from crmlens import tables

    df = pd.DataFrame({f"amt_{i}": range(30_000) for i in range(10)})
    st.session_state["shown"] = tables.show(df, "big.csv").frame
    st.session_state["whole"] = tables.Table(df).as_text()


@pytest.mark.parametrize("lang, caption", [
    ("English", "The first 26,214 of 30,000 rows are shown; the CSV download holds them all."),
    ("中文", "仅显示前 26,214 行（共 30,000 行）；下载的 CSV 包含全部行。")])
def test_a_table_too_large_to_draw_shows_its_first_rows_and_says_so(lang, caption):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(big_table_page)
    at.query_params["lang"] = lang
    at.run(timeout=60)
    assert not at.exception
    assert [c.value for c in at.caption] == [caption]
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 26_214 == tables.shown_rows(at.session_state["shown"])
    assert at.session_state["shown"]["amt_0"].tolist() == list(range(26_214))  # the first rows, in the table's order
