"""Churn charts: the leaky bucket, rates, the cohort heatmap, survival curves, drivers."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from crmlens.charts.common import BAD, GOOD, NEUTRAL, PALETTE, layout
from crmlens.charts.partial import mark_partial

REACTIVATED = "#8CCFA9"


def _period_label(d, grain: str) -> str:
    d = pd.Timestamp(d)
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}" if grain == "quarter" else f"{d:%Y-%m}"


def leaky_bucket(df: pd.DataFrame, t: Callable[..., str], grain: str) -> go.Figure:
    """Customers flowing in (new, reactivated: up) and leaking out (lost: down), and the level at the end."""
    x = [_period_label(d, grain) for d in df["period_start"]]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=x, y=df["n_new"], name=t("churn.bucket.new"), marker_color=GOOD)
    fig.add_bar(x=x, y=df["n_reactivated"], name=t("churn.bucket.reactivated"), marker_color=REACTIVATED)
    fig.add_bar(x=x, y=-df["n_lost"], name=t("churn.bucket.lost"), marker_color=BAD,
                customdata=df["n_lost"], hovertemplate="%{customdata:,d}")
    fig.add_scatter(x=x, y=df["n_end"], name=t("churn.bucket.end"), mode="lines+markers", line_color=PALETTE[0],
                    secondary_y=True)
    fig.update_layout(barmode="relative")
    mark_partial(fig, x, df["is_complete"], t("churn.bucket.unfinished"))
    fig.update_yaxes(title_text=t("churn.bucket.count"), secondary_y=False, zeroline=True, zerolinewidth=2)
    fig.update_yaxes(title_text=t("churn.bucket.end"), secondary_y=True, showgrid=False, rangemode="tozero")
    return layout(fig, t("churn.bucket.title", grain=t(f"grain.{grain}") if grain == "month" else t("churn.grain.quarter")))


def rates(df: pd.DataFrame, t: Callable[..., str], grain: str) -> go.Figure:
    """Churn rate and revenue churn per period; NRR on its own axis."""
    x = [_period_label(d, grain) for d in df["period_start"]]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_scatter(x=x, y=df["rate_churn"], name=t("churn.rates.churn"), mode="lines+markers", line_color=BAD)
    fig.add_scatter(x=x, y=df["rate_revenue_churn"], name=t("churn.rates.revenue"), mode="lines+markers",
                    line_color=PALETTE[1])
    if df["rate_nrr"].notna().any():
        fig.add_scatter(x=x, y=df["rate_nrr"], name=t("churn.rates.nrr"), mode="lines+markers", line_color=PALETTE[0],
                        line_dash="dot", secondary_y=True)
        fig.update_yaxes(title_text=t("churn.rates.nrr"), tickformat=".0%", secondary_y=True, showgrid=False)
    fig.update_yaxes(tickformat=".1%", rangemode="tozero", secondary_y=False)
    fig.update_layout(height=320)
    return layout(fig, t("churn.rates.title"))


def cohort_heatmap(df: pd.DataFrame, t: Callable[..., str], measure: str) -> go.Figure:
    """Retention share per cohort (rows) and month k (columns); unfinished cells in grey with '*'."""
    column = "rate_customers" if measure == "customers" else "rate_revenue"
    df = df.assign(cohort=[f"{pd.Timestamp(d):%Y-%m}" for d in df["cohort_month"]])
    sizes = df.groupby("cohort")["n_cohort"].first()
    labels = [f"{c} ({sizes[c]:,})" for c in sizes.index]
    grid = df.pivot(index="cohort", columns="k", values=column).reindex(sizes.index)
    unfinished = df.pivot(index="cohort", columns="k", values="is_unfinished").reindex(sizes.index)
    unfinished = unfinished.astype("boolean").fillna(False).to_numpy(bool)
    values = grid.to_numpy(float)
    done = np.where(unfinished, np.nan, values)
    open_ = np.where(unfinished, values, np.nan)
    text = np.where(np.isnan(values), "", np.vectorize(lambda v: f"{v:.0%}" if not np.isnan(v) else "")(values))
    text = np.where(unfinished & ~np.isnan(values), np.char.add(text.astype(str), "*"), text)
    ks = list(grid.columns)
    fig = go.Figure()
    fig.add_heatmap(z=done, x=ks, y=labels, zmin=0, zmax=1, colorscale="Blues", text=text,
                    texttemplate="%{text}", hovertemplate="%{y}, k=%{x}: %{z:.1%}<extra></extra>",
                    colorbar=dict(tickformat=".0%"))
    fig.add_heatmap(z=open_, x=ks, y=labels, zmin=0, zmax=1, colorscale=[[0, "#E6E6E6"], [1, "#BDBDBD"]],
                    showscale=False, text=np.where(unfinished, text, ""), texttemplate="%{text}",
                    hovertemplate="%{y}, k=%{x}: %{z:.1%} *<extra></extra>")
    fig.update_yaxes(autorange="reversed", title_text=t("churn.cohorts.y"), type="category")
    fig.update_xaxes(title_text=t("churn.cohorts.x"), dtick=1, side="top")
    fig.update_layout(height=max(320, 28 * len(labels) + 120), hovermode="closest")
    return layout(fig, t("churn.cohorts.title"))


def survival(curves: dict[str, pd.DataFrame], t: Callable[..., str]) -> go.Figure:
    """Kaplan-Meier step curves with their confidence bands."""
    fig = go.Figure()
    for i, (grp, c) in enumerate(curves.items()):
        color = PALETTE[i % len(PALETTE)]
        rgb = tuple(int(color[j:j + 2], 16) for j in (1, 3, 5))
        fig.add_scatter(x=c["months"], y=c["upper"], mode="lines", line_shape="hv", line_width=0,
                        showlegend=False, hoverinfo="skip", legendgroup=grp)
        fig.add_scatter(x=c["months"], y=c["lower"], mode="lines", line_shape="hv", line_width=0, fill="tonexty",
                        fillcolor=f"rgba({rgb[0]},{rgb[1]},{rgb[2]},0.15)", showlegend=False, hoverinfo="skip",
                        legendgroup=grp)
        fig.add_scatter(x=c["months"], y=c["survival"], mode="lines", line_shape="hv", line_color=color, name=grp,
                        legendgroup=grp, customdata=c["n_at_risk"],
                        hovertemplate=f"{grp}: " + "%{y:.1%} (%{x:.1f}) n=%{customdata:,.0f}<extra></extra>")
    fig.add_hline(y=0.5, line_dash="dot", line_color=NEUTRAL)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title_text=t("churn.survival.y"))
    fig.update_xaxes(title_text=t("churn.survival.x"), rangemode="tozero")
    fig.update_layout(height=420, hovermode="x")
    return layout(fig, t("churn.survival.title"))


def drivers(df: pd.DataFrame, overall: float, title: str, t: Callable[..., str]) -> go.Figure:
    """Churn rate per value of one attribute, with the customer count; a line at the overall rate."""
    df = df.sort_values("rate_churn")
    colors = [BAD if r > overall else GOOD for r in df["rate_churn"]]
    fig = go.Figure()
    fig.add_bar(y=df["label"], x=df["rate_churn"], orientation="h", marker_color=colors,
                text=[f"{r:.0%} (n={n:,})" for r, n in zip(df["rate_churn"], df["n_customers"])],
                textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x:.1%}<extra></extra>")
    fig.add_vline(x=overall, line_dash="dash", line_color=NEUTRAL)
    # room to the right of the longest bar for its "43% (n=3,875)" label
    top = pd.concat([df["rate_churn"], pd.Series([overall])]).max()
    fig.update_xaxes(tickformat=".0%", title_text=t("churn.drivers.x"),
                     range=[0, (top if top > 0 else 1.0) * 1.35])
    fig.update_yaxes(type="category")
    fig.update_layout(height=max(260, 32 * len(df) + 110), hovermode="closest", showlegend=False)
    return layout(fig, title)
