"""Pipeline forecast charts: expected revenue per month with its range, the back-test, and the quarter's pace."""

from __future__ import annotations

from typing import Callable

import pandas as pd
import plotly.graph_objects as go

from crmlens import fmt
from crmlens.charts.common import NEUTRAL, PALETTE, layout


def _month_labels(months, lang: str) -> list[str]:
    return [fmt.date(m, lang)[:7] if lang != "zh" else f"{m.year}年{m.month}月" for m in pd.to_datetime(months)]


def _by_month(fig: go.Figure) -> go.Figure:
    """One mark per month, named as the tables name it: Plotly would read "2026-11" as a date, put it at the month's
    first day and label its own ticks (2026-12-31 under January's bar, a quarter's target reached on its second
    month's first day)."""
    return fig.update_xaxes(type="category")


def months(df: pd.DataFrame, t: Callable[..., str], lang: str) -> go.Figure:
    """Weighted forecast per month with its range (error bars), best case and commit beside it."""
    df = df[df["month"].notna()]
    x = _month_labels(df["month"], lang)
    fig = go.Figure()
    fig.add_bar(x=x, y=df["amt_best_case"], name=t("forecast.col.amt_best_case"), marker_color=NEUTRAL, opacity=0.45)
    fig.add_bar(x=x, y=df["amt_commit"], name=t("forecast.col.amt_commit"), marker_color=PALETTE[2])
    fig.add_bar(x=x, y=df["amt_weighted"], name=t("forecast.col.amt_weighted"), marker_color=PALETTE[0],
                error_y=dict(type="data", symmetric=False, array=df["amt_high"] - df["amt_weighted"],
                             arrayminus=df["amt_weighted"] - df["amt_low"]))
    fig.update_layout(barmode="group")
    return layout(_by_month(fig), t("forecast.chart.months"))


def backtest(df: pd.DataFrame, t: Callable[..., str], lang: str) -> go.Figure:
    x = _month_labels(df["month"], lang)
    fig = go.Figure()
    fig.add_bar(x=x, y=df["amt_weighted"], name=t("forecast.col.amt_weighted"), marker_color=PALETTE[0],
                error_y=dict(type="data", symmetric=False, array=df["amt_high"] - df["amt_weighted"],
                             arrayminus=df["amt_weighted"] - df["amt_low"]))
    fig.add_bar(x=x, y=df["amt_won"], name=t("forecast.col.amt_won"), marker_color=PALETTE[1])
    fig.update_layout(barmode="group")
    return layout(_by_month(fig), t("forecast.chart.backtest"))


def pace(df: pd.DataFrame, t: Callable[..., str], lang: str) -> go.Figure:
    """The quarter month by month: cumulative target (the pace line), won so far and won + weighted forecast."""
    x = _month_labels(df["month"], lang)
    fig = go.Figure()
    fig.add_scatter(x=x, y=df["amt_target_cum"], name=t("forecast.col.target_cum"), mode="lines+markers",
                    line=dict(color=NEUTRAL, dash="dash"))
    fig.add_scatter(x=x, y=df["amt_won_cum"], name=t("forecast.col.won_cum"), mode="lines+markers",
                    line=dict(color=PALETTE[1]))
    fig.add_scatter(x=x, y=df["amt_expected_cum"], name=t("forecast.col.expected_cum"), mode="lines+markers",
                    line=dict(color=PALETTE[0]))
    return layout(_by_month(fig), t("forecast.chart.pace"))
