"""Issue 16, defect 4 (left over): partial first and last periods marked on every trend chart, not only the
churn leaky bucket: the overview's revenue trend and the complaints volume use the same helper
(crmlens.charts.partial): lighter, hatched bars with a note under each, and a caption on the page."""

from __future__ import annotations

import pandas as pd

from crmlens.charts import churn as churn_charts
from crmlens.charts import complaints as complaint_charts
from crmlens.charts import overview as overview_charts
from tests.conftest import app_test, serve_fixture, shown_text


def t(key, **values):
    return key


def partial_bars(fig) -> dict[str, list[bool]]:
    """Per bar trace: which bars are drawn as partial (hatched and lighter)."""
    out = {}
    for trace in fig.data:
        if trace.type == "bar":
            shapes = trace.marker.pattern.shape if trace.marker.pattern and trace.marker.pattern.shape else None
            opacity = trace.marker.opacity
            n = len(trace.x if trace.x is not None else trace.y)
            hatched = list(shapes) if shapes is not None else [""] * n
            lighter = list(opacity) if isinstance(opacity, (list, tuple)) else [opacity or 1.0] * n
            out[trace.name] = [h == "/" and o < 1 for h, o in zip(hatched, lighter)]
    return out


def notes(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def test_overview_trend_hatches_the_cut_months_only():
    df = pd.DataFrame({"bucket_start": pd.to_datetime(["2024-07-01", "2024-08-01", "2024-09-01"]),
                       "amt_revenue": [50.0, 300.0, 120.0], "n_new_customers": [1, 3, 2],
                       "is_complete": [False, True, False]})
    fig = overview_charts.revenue_and_new_customers(df, t, "month", "en")
    assert partial_bars(fig) == {"overview.trend.revenue": [True, False, True]}
    assert notes(fig).count("overview.trend.partial") == 2
    # the first bar is partial: the legend's key for revenue is a plain square, not a hatched bar
    keys = [(tr.type, tr.name) for tr in fig.data if tr.showlegend is not False]
    assert ("scatter", "overview.trend.revenue") in keys and ("bar", "overview.trend.revenue") not in keys
    whole = overview_charts.revenue_and_new_customers(df.assign(is_complete=True), t, "month", "en")
    assert partial_bars(whole) == {"overview.trend.revenue": [False, False, False]}
    assert "overview.trend.partial" not in notes(whole)


def test_complaints_volume_hatches_the_cut_months_only():
    df = pd.DataFrame({"bucket_start": pd.to_datetime(["2024-01-01", "2024-02-01"]), "n_complaints": [2, 5],
                       "n_open_end": [0, 3], "is_complete": [True, False]})
    fig = complaint_charts.volume(df, "n_complaints", {"title": "T", "measure": "M", "backlog": "B", "partial": "P"},
                                  "month")
    assert partial_bars(fig) == {"M": [False, True]}
    assert notes(fig).count("P") == 1


def test_the_leaky_bucket_uses_the_same_marks():
    df = pd.DataFrame({"period_start": pd.to_datetime(["2024-01-01", "2024-02-01"]), "n_new": [3, 1],
                       "n_reactivated": [0, 1], "n_lost": [1, 2], "n_end": [10, 10], "is_complete": [True, False]})
    fig = churn_charts.leaky_bucket(df, t, "month")
    assert set(map(tuple, partial_bars(fig).values())) == {(False, True)}
    assert notes(fig).count("churn.bucket.unfinished") == 1


def test_pages_say_which_periods_are_partial(monkeypatch, tmp_path):
    """tests/fixtures/tiny: orders 2024-03-05 .. 2025-01-02, complaints in 2024 (test_overview_queries): a
    period from 2024-04-15 cuts April on both pages (months: the period is longer than 180 days)."""
    serve_fixture(monkeypatch, tmp_path, "tiny")
    cut = ["2024-04-15", "2024-12-31"]
    overview = app_test("overview", period=cut)
    assert not overview.exception
    captions = " ".join(shown_text(c.value) for c in overview.caption)
    assert "hatched bars: a month the chosen dates or the loaded orders cover only in part" in captions
    assert "data from 2024-03-05 to 2025-01-02" in captions
    whole = app_test("overview", period=["2024-04-01", "2024-12-31"])
    assert "hatched" not in " ".join(c.value for c in whole.caption)
    complaints = app_test("complaints", period=cut, lang="中文")
    assert not complaints.exception
    assert "带斜线的柱" in " ".join(c.value for c in complaints.caption)


def test_the_digest_charts_mark_the_same_partial_months(tiny_db):
    """A digest's main chart is the page's chart: tests/fixtures/tiny, 2024-04-15..2024-12-31 cuts April."""
    import datetime as dt

    from crmlens import store
    from crmlens.digest import figures

    snap = store.snapshot(tiny_db)
    for page in ("overview", "complaints"):
        fig = figures.main_chart(snap, page, dt.date(2024, 4, 15), dt.date(2024, 12, 31), t, "en")
        marks = next(iter(partial_bars(fig).values()))
        assert marks[0] and not any(marks[1:]), (page, marks)
