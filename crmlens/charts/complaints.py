"""Plotly figures of the complaints view. Frames come labelled from the page (labels already translated)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from crmlens.charts import bars
from crmlens.charts.common import (BAD, GOOD, NEUTRAL, PALETTE, date_axis, finish, has_long_labels, layout, nice_ticks,
                                   short_labels)
from crmlens.charts.partial import mark_partial


def volume(df: pd.DataFrame, measure: str, labels: dict, grain: str) -> go.Figure:
    """Bars: the chosen measure per bucket; line: open backlog at each bucket's end (right axis)."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=df["bucket_start"], y=df[measure], name=labels["measure"], marker_color=PALETTE[0])
    fig.add_scatter(x=df["bucket_start"], y=df["n_open_end"], name=labels["backlog"], mode="lines+markers",
                    line=dict(color=BAD, width=2), secondary_y=True)
    layout(fig, labels["title"])
    fig.update_yaxes(title_text=labels["measure"], secondary_y=False, rangemode="tozero",
                     **(_whole_numbers(df[measure].max()) if measure == "n_complaints" else {}))
    fig.update_yaxes(title_text=labels["backlog"], secondary_y=True, rangemode="tozero", showgrid=False,
                     **_whole_numbers(df["n_open_end"].max()))
    date_axis(fig, grain)
    if "is_complete" in df and "partial" in labels:  # a bucket the dates or the data cut: lighter and hatched
        mark_partial(fig, df["bucket_start"], df["is_complete"], labels["partial"])
    return finish(fig)


def pareto(df: pd.DataFrame, labels: dict) -> go.Figure:
    """Bars: complaints per value, most frequent first; line: cumulative share (right axis, 0-100%)."""
    if has_long_labels(df["label"]):  # long names: horizontal bars, most frequent on top, the whole name on hover
        return _pareto_horizontal(df, labels)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=df["label"], y=df["n_complaints"], name=labels["count"], marker_color=PALETTE[0])
    fig.add_scatter(x=df["label"], y=df["cum_share"], name=labels["cum_share"], mode="lines+markers",
                    line=dict(color=PALETTE[1]), secondary_y=True)
    layout(fig, labels["title"])
    fig.update_layout(hovermode="x")
    fig.update_yaxes(title_text=labels["count"], secondary_y=False)
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", secondary_y=True, showgrid=False)
    fig.add_hline(y=0.8, line_dash="dot", line_color=NEUTRAL, secondary_y=True)
    return finish(fig)


def _pareto_horizontal(df: pd.DataFrame, labels: dict) -> go.Figure:
    shown = short_labels(df["label"])
    fig = go.Figure(go.Bar(y=shown, x=df["n_complaints"], orientation="h", marker_color=PALETTE[0],
                           name=labels["count"], customdata=np.column_stack([df["label"].astype(str), df["cum_share"]]),
                           text=[f"{n:,} · {c:.0%}" for n, c in zip(df["n_complaints"], df["cum_share"])],
                           textposition="outside", cliponaxis=False,
                           hovertemplate="%{customdata[0]}: %{x:,} (" + labels["cum_share"] + " %{customdata[1]:.0%})"
                                         "<extra></extra>"))
    layout(fig, labels["title"])
    fig.update_layout(hovermode="closest", showlegend=False, height=max(300, 90 + 38 * len(df)))
    fig.update_yaxes(autorange="reversed", type="category", automargin=True)
    fig.update_xaxes(title_text=labels["count"])
    return finish(fig)


def heatmap(df: pd.DataFrame, labels: dict) -> go.Figure:
    """Categories (rows) by month (columns), cell = complaints."""
    wide = df.pivot_table(index="label", columns="month", values="n_complaints", aggfunc="sum", fill_value=0)
    wide = wide.loc[wide.sum(axis=1).sort_values().index]
    full = [[str(name)] * len(wide.columns) for name in wide.index]  # the whole name on hover
    fig = go.Figure(go.Heatmap(z=wide.to_numpy(), x=list(wide.columns), y=short_labels(wide.index),
                               colorscale="Blues", colorbar=dict(title=labels["count"]), texttemplate="%{z}",
                               customdata=full, hovertemplate="%{customdata} · %{x}: %{z}<extra></extra>"))
    layout(fig, labels["title"])
    fig.update_layout(hovermode="closest", height=max(280, 60 + 34 * len(wide)))
    fig.update_xaxes(type="category")
    fig.update_yaxes(automargin=True)
    return finish(fig)


def time_bands(df: pd.DataFrame, labels: dict) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=df["label"], y=df["n_response"], name=labels["response"], marker_color=PALETTE[2])
    fig.add_bar(x=df["label"], y=df["n_resolve"], name=labels["resolve"], marker_color=PALETTE[0])
    layout(fig, labels["title"])
    fig.update_layout(barmode="group", hovermode="x")
    fig.update_yaxes(title_text=labels["count"])
    return finish(fig)


def survival(curve: pd.DataFrame, labels: dict, names: dict) -> go.Figure:
    """Kaplan-Meier step curves with 95% bands, one per group."""
    fig = go.Figure()
    for i, (grp, sub) in enumerate(curve.groupby("grp", sort=True)):
        colour = PALETTE[i % len(PALETTE)]
        name = names.get(grp, str(grp))
        fig.add_scatter(x=sub["t"], y=sub["upper"], mode="lines", line=dict(width=0, shape="hv"), showlegend=False,
                        hoverinfo="skip")
        fig.add_scatter(x=sub["t"], y=sub["lower"], mode="lines", line=dict(width=0, shape="hv"), fill="tonexty",
                        fillcolor=_alpha(colour), showlegend=False, hoverinfo="skip")
        fig.add_scatter(x=sub["t"], y=sub["surv"], mode="lines", name=name, line=dict(color=colour, shape="hv", width=2))
    layout(fig, labels["title"])
    fig.update_layout(hovermode="x")
    # Stop the axis where the curves flatten out near 0 (a long empty tail hides the interesting part).
    low = curve.loc[curve["surv"] <= 0.02, "t"]
    x_max = low.min() if len(low) else curve["t"].max()
    fig.update_xaxes(title_text=labels["x"], range=[0, max(float(x_max), 1.0) * 1.05])
    fig.update_yaxes(title_text=labels["y"], range=[0, 1.02], tickformat=".0%")
    return finish(fig)


def rate_bars(df: pd.DataFrame, x: str, y: str, labels: dict, highlight: str | None = None,
              percent: bool = True, text: str | None = None) -> go.Figure:
    """Bars of a rate per group, optionally one bar coloured as the bad one; horizontal when a name is long."""
    colours = [BAD if highlight is not None and v == highlight else PALETTE[0] for v in df[x]]
    turned = bars.horizontal(df[x])
    fig = go.Figure(bars.bar(df[x], df[y], turned, "%{value:.1%}" if percent else "%{value:,.2f}",
                             marker_color=colours, text=df[text] if text else None, textposition="outside"))
    layout(fig, labels["title"])
    fig.update_layout(hovermode="x", showlegend=False)
    bars.value_axis(fig, turned, title_text=labels["y"], tickformat=".0%" if percent else None, rangemode="tozero")
    bars.finish_layout(fig, turned, len(df))
    return finish(fig)


def satisfaction(df: pd.DataFrame, labels: dict) -> go.Figure:
    """Average satisfaction (1-5) per group; horizontal when a name (a long category) is long."""
    colours = [GOOD if v >= 4 else BAD if v < 3 else PALETTE[1] for v in df["avg_satisfaction"].fillna(0)]
    turned = bars.horizontal(df["label"])
    fig = go.Figure(bars.bar(df["label"], df["avg_satisfaction"], turned, "%{value:.2f}", marker_color=colours,
                             text=df["avg_satisfaction"].round(2), textposition="outside"))
    layout(fig, labels["title"])
    fig.update_layout(hovermode="x", showlegend=False)
    bars.value_axis(fig, turned, title_text=labels["y"], range=[0, 5.3])
    bars.finish_layout(fig, turned, len(df))
    return finish(fig)


def _whole_numbers(max_value) -> dict:
    """Axis settings for counts: ticks on whole numbers only (no 0.5 complaints)."""
    top = float(max_value) if max_value == max_value and max_value else 1.0
    ticks = nice_ticks(top)
    step = max(1, int(ticks[1] - ticks[0])) if len(ticks) > 1 else 1
    return {"tick0": 0, "dtick": step, "tickformat": ",d", "range": [0, max(top * 1.08, 1.2)]}


def _alpha(hex_colour: str, a: float = 0.15) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{a})"
