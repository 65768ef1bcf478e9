"""Sales funnel charts. Inputs are funnel_* query results with a `label` column for stages."""

from __future__ import annotations

from typing import Callable

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from crmlens import fmt
from crmlens.charts import bars
from crmlens.charts.common import BAD, GOOD, NEUTRAL, PALETTE, layout

COUNT_COLOR, VALUE_COLOR = PALETTE[0], PALETTE[2]


def _pct(x) -> str:
    return fmt.percent(x, 0)


def funnel(steps: pd.DataFrame, t: Callable[..., str], lang: str) -> go.Figure:
    """Opportunities and value reaching each step, side by side, with step and overall conversion."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=(t("funnel.chart.count"), t("funnel.chart.value")))
    count_text = [
        f"{fmt.number(n, lang)}  ·  {t('funnel.chart.step_short')} {_pct(s)}  ·  {t('funnel.chart.overall_short')} {_pct(o)}"
        if i else f"{fmt.number(n, lang)}"
        for i, (n, s, o) in enumerate(zip(steps["n_reached"], steps["rate_step"], steps["rate_overall"]))
    ]
    fig.add_bar(y=steps["label"], x=steps["n_reached"], orientation="h", marker_color=COUNT_COLOR,
                text=count_text, textposition="auto", name=t("funnel.chart.count"),
                customdata=steps[["stage_key"]], hovertemplate="%{y}: %{x:,}<extra></extra>", row=1, col=1)
    fig.add_bar(y=steps["label"], x=steps["amt_reached"], orientation="h", marker_color=VALUE_COLOR,
                text=[fmt.number(v, lang) for v in steps["amt_reached"]], textposition="auto",
                name=t("funnel.chart.value"), customdata=steps[["stage_key"]],
                hovertemplate="%{y}: %{x:,.0f}<extra></extra>", row=1, col=2)
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=list(steps["label"]))
    fig.update_layout(showlegend=False, hovermode="closest", clickmode="event+select", dragmode=False,
                      height=120 + 55 * len(steps))
    return layout(fig, t("funnel.chart.title"))


def stage_times(times: pd.DataFrame, t: Callable[..., str]) -> go.Figure:
    """Median and 90th-percentile days in each step; horizontal when a step's name is long."""
    turned = bars.horizontal(times["label"])
    fig = go.Figure()
    for col, key, color in (("days_median", "funnel.times.median", PALETTE[0]), ("days_p90", "funnel.times.p90", PALETTE[1])):
        fig.add_trace(bars.bar(times["label"], times[col], turned, hover_value="%{value:.1f}", name=t(key),
                               marker_color=color, text=[f"{v:.1f}" if pd.notna(v) else "" for v in times[col]],
                               textposition="outside"))
    fig.update_layout(barmode="group", height=340)
    bars.value_axis(fig, turned, title_text=t("funnel.times.days"), rangemode="tozero")
    bars.finish_layout(fig, turned, 2 * len(times))
    return layout(fig, t("funnel.times.title"))


def cohorts(df: pd.DataFrame, t: Callable[..., str]) -> go.Figure:
    """Per creation month: won, lost and still-open opportunities, with win rate and conversion."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for col, key, color in (("n_won", "funnel.status.won", GOOD), ("n_lost", "funnel.status.lost", BAD),
                            ("n_open", "funnel.status.open", NEUTRAL)):
        fig.add_bar(x=df["month_start"], y=df[col], name=t(key), marker_color=color, secondary_y=False)
    fig.add_scatter(x=df["month_start"], y=df["rate_win"], name=t("funnel.cohort.rate_win"), mode="lines+markers",
                    line_color=PALETTE[0], secondary_y=True)
    fig.add_scatter(x=df["month_start"], y=df["rate_conversion"], name=t("funnel.cohort.rate_conversion"),
                    mode="lines+markers", line=dict(color=PALETTE[4], dash="dot"), secondary_y=True)
    fig.update_layout(barmode="stack", height=380)
    fig.update_yaxes(title_text=t("funnel.cohort.n_created"), secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text=t("funnel.cohort.rate"), secondary_y=True, tickformat=".0%", rangemode="tozero",
                     showgrid=False)
    return layout(fig, t("funnel.cohort.title"))


def group_funnels(df: pd.DataFrame, t: Callable[..., str], dimension_label: str) -> go.Figure:
    """Share of each top group's opportunities reaching every step (overall conversion)."""
    fig = go.Figure()
    for i, (grp, part) in enumerate(df.groupby("grp_label", sort=False)):
        fig.add_bar(x=part["label"], y=part["rate_overall"], name=str(grp), marker_color=PALETTE[i % len(PALETTE)],
                    text=[_pct(v) for v in part["rate_overall"]], textposition="outside")
    fig.update_layout(barmode="group", height=380)
    fig.update_yaxes(title_text=t("funnel.chart.overall"), tickformat=".0%", range=[0, 1.12])
    return layout(fig, t("funnel.breakdown.chart_title", dimension=dimension_label))


def owner_shares(df: pd.DataFrame, t: Callable[..., str], threshold: float) -> go.Figure:
    colors = [BAD if flag else PALETTE[0] for flag in df["is_concentrated"]]
    turned = bars.horizontal(df["owner"])  # long owner names (a team, a branch): horizontal bars
    fig = go.Figure(bars.bar(df["owner"], df["rate_revenue_share"], turned, "%{value:.1%}", marker_color=colors,
                             text=[_pct(v) for v in df["rate_revenue_share"]], textposition="outside",
                             name=t("funnel.owner.rate_revenue_share")))
    bars.threshold_line(fig, turned, threshold, line_dash="dash", line_color=BAD,
                        annotation_text=t("funnel.owner.threshold_line", share=_pct(threshold)))
    fig.update_layout(height=360, showlegend=False)
    bars.value_axis(fig, turned, title_text=t("funnel.owner.rate_revenue_share"), tickformat=".0%", rangemode="tozero")
    bars.finish_layout(fig, turned, len(df))
    return layout(fig, t("funnel.owner.chart_title"))
