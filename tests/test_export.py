import pandas as pd
import pytest

from crmlens import export
from tests.conftest import app_test


def test_formula_cells_are_neutralised_and_others_kept():
    df = pd.DataFrame({"name": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "Li Wei", None], "n": [1, 2, 3, 4, 5, 6]})
    out = export.neutralise_formulas(df)
    assert list(out["name"][:5]) == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "Li Wei"]
    assert list(out["n"]) == [1, 2, 3, 4, 5, 6]  # numbers, negative ones too, stay numbers


def test_csv_has_a_bom_for_excel_and_keeps_chinese():
    data = export.to_csv_bytes(pd.DataFrame({"客户": ["王芳"]}))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["客户", "王芳"]


def test_compact_axis_labels_read_naturally():
    from crmlens import fmt
    assert [fmt.compact(v, "zh") for v in (0, 5000, 20000, 2_000_000, 150_000_000)] == ["0", "5000", "2万", "200万", "1.5亿"]
    assert [fmt.compact(v, "en") for v in (0, 500, 2500, 2_000_000, 1.5e9)] == ["0", "500", "2.5K", "2M", "1.5B"]


def test_nice_ticks_cover_the_maximum_in_round_steps():
    from crmlens.charts.common import nice_ticks
    assert nice_ticks(9_700_000) == [0, 2_000_000, 4_000_000, 6_000_000, 8_000_000, 10_000_000]
    assert nice_ticks(3) == [0, 1, 2, 3, 4]
    assert nice_ticks(0) == [0]


def test_json_values_are_plain():
    import datetime as dt

    import numpy as np
    import pandas as pd

    from crmlens import fmt
    assert [fmt.json_value(v) for v in (None, float("nan"), pd.NA, pd.NaT)] == [None] * 4
    assert fmt.json_value(np.int64(3)) == 3 and type(fmt.json_value(np.int64(3))) is int
    assert fmt.json_value(np.float64(1 / 3)) == 0.3333
    assert fmt.json_value(pd.Timestamp("2026-01-01")) == "2026-01-01"
    assert fmt.json_value(dt.datetime(2026, 1, 1, 12, 30)) == "2026-01-01T12:30:00"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from crmlens import demo, ingest
    db = tmp_path_factory.mktemp("export") / "demo.duckdb"
    ingest.load_tables(demo.generate(n_customers=300), db=db)
    return db


def element_types(node):
    """The page's elements in the order a reader meets them."""
    yield node.type
    for child in getattr(node, "children", {}).values():
        yield from element_types(child)


@pytest.mark.parametrize("page", ["funnel", "loyalty", "churn", "complaints", "data"])
def test_every_table_on_a_page_has_a_csv_download(monkeypatch, demo_db, page):
    """Each table is followed by a download button before the next table (AppTest renders every tab)."""
    monkeypatch.setenv("CRMLENS_DB", str(demo_db))
    at = app_test(page, timeout=120)
    assert not at.exception
    shown = [kind for kind in element_types(at.main) if kind in ("dataframe", "download_button")]
    assert "dataframe" in shown
    without = [i for i, kind in enumerate(shown) if kind == "dataframe" and shown[i + 1:i + 2] != ["download_button"]]
    assert without == [], f"{page}: tables {without} of {shown} have no download button"
