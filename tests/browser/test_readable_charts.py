"""Issue 16, defect 5: charts a manager can read: round ticks on every value axis (no 199, 462, 725), a
level line never drawn below zero, long category names cut on the axis (whole on hover) with horizontal bars."""

from __future__ import annotations

import math
import re

from tests.browser.conftest import exceptions, open_page, upload_and_load

UNITS = {"": 1, "%": 0.01, "K": 1e3, "M": 1e6, "B": 1e9, "万": 1e4, "亿": 1e8}


def tick_values(texts: list[str]) -> list[float] | None:
    """Numbers of an axis's tick labels (None when they are not numbers: categories, dates)."""
    out = []
    for text in texts:
        m = re.fullmatch(r"([−-]?[\d,]*\.?\d+)\s*(%|K|M|B|万|亿)?", text.strip())
        if not m:
            return None
        out.append(float(m.group(1).replace(",", "").replace("−", "-")) * UNITS[m.group(2) or ""])
    return out


def is_round(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))


def value_axes(page) -> list[tuple[str, list[float]]]:
    axes = []
    for i, chart in enumerate(page.locator('[data-testid="stPlotlyChart"]:visible').all()):
        for cls in ("xtick", "ytick", "y2tick", "x2tick"):
            texts = chart.locator(f"g.{cls} text").all_text_contents()
            values = tick_values(texts) if len(texts) >= 2 else None
            if values:
                axes.append((f"chart {i} {cls}", values))
    return axes


def test_every_value_axis_has_round_ticks(app, page):
    for view in ("churn", "funnel", "overview", "complaints", "loyalty"):
        open_page(page, f"{app.url}/{view}")
        assert exceptions(page) == []
        axes = value_axes(page)
        assert axes, view
        for name, values in axes:
            steps = {round(b - a, 9) for a, b in zip(values, values[1:])}
            assert len(steps) == 1 and is_round(steps.pop()), (view, name, values)


def test_the_customers_at_end_line_starts_at_or_above_zero(app, page):
    open_page(page, f"{app.url}/churn")
    bucket = page.locator('[data-testid="stPlotlyChart"]:visible').first
    right = tick_values(bucket.locator("g.y2tick text").all_text_contents())
    assert right and min(right) >= 0


LONG = [
    "Delivery arrived damaged and the courier refused to take the parcel back to the depot",
    "Invoice charged twice for the same subscription month and the refund took six weeks",
    "Price",
]


def test_long_category_names_are_cut_on_the_axis_and_bars_turn_horizontal(own_app, page, tmp_path):
    rows = "\n".join(f"K{i},C{i % 5},2026-0{1 + i % 9}-1{i % 9} 10:00,{LONG[i % 3]},2026-0{1 + i % 9}-2{i % 9} 10:00"
                     for i in range(30))
    path = tmp_path / "complaints.csv"
    path.write_text("complaint_id,customer_id,created_at,category,resolved_at\n" + rows + "\n", encoding="utf-8")
    upload_and_load(page, own_app.url, path, "Replace the table's data")
    open_page(page, f"{own_app.url}/complaints?period=2026-01-01&period=2026-12-31")
    assert exceptions(page) == []
    pareto = page.locator('[data-testid="stPlotlyChart"]:visible').filter(has_text="Complaints by")
    labels = pareto.first.locator("g.ytick text").all_text_contents()
    # the loader keeps categories in lower case; bars are horizontal (names on the y axis), long ones cut
    assert "Price" in labels  # a known category, in the reader's words
    assert sorted(x for x in labels if x != "Price") == ["delivery arrived damaged an…", "invoice charged twice for t…"]
    # the whole name on hover: tests/test_readable_tables.py::test_long_names_are_whole_on_hover
