"""Follow-up charts: coverage per owner against the overall rate, coverage by month."""

from __future__ import annotations

from typing import Callable

import pandas as pd
import plotly.graph_objects as go

from crmlens.charts.common import BAD, GOOD, NEUTRAL, PALETTE, layout


def coverage_bars(df: pd.DataFrame, t: Callable[..., str], overall: float) -> go.Figure:
    """Share followed up per owner, lowest first; a dashed line at the overall share."""
    df = df.sort_values("rate_coverage", ascending=False)
    fig = go.Figure()
    fig.add_bar(y=df["key"], x=df["rate_coverage"], orientation="h",
                marker_color=[BAD if r < overall else GOOD for r in df["rate_coverage"]],
                text=[f"{r:.0%} (n={n:,})" for r, n in zip(df["rate_coverage"], df["n_events"])],
                textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x:.1%}<extra></extra>")
    fig.add_vline(x=overall, line_dash="dash", line_color=NEUTRAL)
    fig.update_xaxes(range=[0, 1.25], tickformat=".0%", title_text=t("followup.chart.share"))
    fig.update_layout(height=max(320, 28 * len(df) + 120), showlegend=False, hovermode="closest")
    return layout(fig, t("followup.chart.by_owner"))


def coverage_trend(df: pd.DataFrame, t: Callable[..., str]) -> go.Figure:
    """Share followed up per month."""
    df = df.sort_values("key")
    fig = go.Figure()
    fig.add_scatter(x=df["key"], y=df["rate_coverage"], mode="lines+markers", line_color=PALETTE[0],
                    customdata=df["n_events"], hovertemplate="%{x}: %{y:.1%} (n=%{customdata:,})<extra></extra>")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title_text=t("followup.chart.share"))
    fig.update_layout(height=360, showlegend=False)
    return layout(fig, t("followup.chart.by_month"))
