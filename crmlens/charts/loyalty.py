"""Loyalty ladder charts: the ladder, movements, Pareto curve, RFM grid, CLV comparison, value quadrants."""

from __future__ import annotations

from typing import Callable

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from crmlens import fmt
from crmlens.charts.common import BAD, GOOD, NEUTRAL, PALETTE, layout
from crmlens.loyalty import RUNGS, treatment_key

T = Callable[..., str]
RUNG_COLORS = dict(zip(RUNGS, ["#B8C7DC", "#8FB0D6", "#5E8FC7", "#3A9E6F", "#E07B39", "#8172B3"]))
STATE_COLORS = {**RUNG_COLORS, "new": "#DDDDDD", "lost": BAD}
DIRECTION_COLORS = {"climbed": GOOD, "joined": "#7FC8A9", "returned": "#2E6FBA", "stayed": "#D9D9D9",
                    "fell": "#E8A33D", "left": BAD}
SEGMENT_COLORS = {"champions": "#1B7F4C", "loyal": GOOD, "potential": "#7FC8A9", "new": "#2E6FBA",
                  "at_risk": "#E8A33D", "cant_lose": BAD, "hibernating": "#A0A0A0", "lost": "#6B6B6B"}
QUADRANT_COLORS = {"key": GOOD, "risky": "#E8A33D", "marginal": "#2E6FBA", "dog": NEUTRAL}


def _state(t: T, s: str) -> str:
    return t(f"loyalty.state.{s}")


def ladder(df: pd.DataFrame, t: T, lang: str, value_col: str, value_label: str) -> go.Figure:
    """Customers per rung (on the ladder / lapsed) next to what each rung is worth in the period."""
    df = df.set_index("key").reindex(RUNGS).fillna({"n_customers": 0, "n_lapsed": 0})
    labels = [t(f"loyalty.rung.{r}") for r in RUNGS]
    active = df["n_customers"] - df["n_lapsed"]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.55, 0.45], horizontal_spacing=0.03,
                        subplot_titles=(t("loyalty.ladder.customers_axis"), value_label))
    fig.add_bar(y=labels, x=active, orientation="h", name=t("loyalty.ladder.active"),
                marker_color=[RUNG_COLORS[r] for r in RUNGS], row=1, col=1,
                hovertemplate="%{y}: %{x:,}<extra>" + t("loyalty.ladder.active") + "</extra>")
    fig.add_bar(y=labels, x=df["n_lapsed"], orientation="h", name=t("loyalty.ladder.lapsed"),
                marker=dict(color="rgba(196,78,82,0.25)", line=dict(color=BAD, width=[1 if v else 0 for v in df["n_lapsed"]])),
                row=1, col=1,
                text=[f"{fmt.number(n, lang)} · {fmt.percent(s)}" for n, s in zip(df["n_customers"], df["share_customers"])],
                textposition="outside", cliponaxis=False,
                hovertemplate="%{y}: %{x:,}<extra>" + t("loyalty.ladder.lapsed") + "</extra>")
    values = df[value_col].fillna(0)
    avg = values / df["n_customers"].where(df["n_customers"] > 0)
    fig.add_bar(y=labels, x=values, orientation="h", name=value_label, showlegend=False,
                marker_color=[RUNG_COLORS[r] for r in RUNGS], row=1, col=2,
                text=[f"{fmt.number(v, lang)} · {t('loyalty.ladder.avg_short')} {fmt.number(a, lang)}" for v, a in zip(values, avg)],
                textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x:,.0f}<extra></extra>")
    fig = layout(fig, t("loyalty.ladder.title"))
    fig.update_layout(barmode="stack", height=400, hovermode="closest", margin=dict(l=10, r=10, t=60, b=40),
                      legend=dict(orientation="h", yanchor="top", y=-0.02, xanchor="left", x=0))
    fig.update_xaxes(showticklabels=False, showgrid=False)
    fig.update_xaxes(range=[0, max(df["n_customers"].max(), 1) * 1.35], row=1, col=1)
    fig.update_xaxes(range=[0, max(values.max(), 1) * 1.6], row=1, col=2)
    return fig


def movement_trend(moves: pd.DataFrame, t: T, grain: str, lang: str) -> go.Figure:
    """Per period end: customers who climbed, joined, returned (up) and fell or left (down). Each bar is labelled with
    its own end date (the day the date picker below names): on a date axis a bar at 10-31 stood under the tick of
    the next month."""
    per = moves.groupby(["to_date", "direction"], as_index=False)["n_customers"].sum()
    per["to_date"] = pd.to_datetime(per["to_date"]).dt.date
    ends = sorted(set(per["to_date"]))
    fig = go.Figure()
    for direction, sign in (("climbed", 1), ("joined", 1), ("returned", 1), ("fell", -1), ("left", -1)):
        part = per[per["direction"] == direction]
        fig.add_bar(x=[fmt.date(d, lang) for d in part["to_date"]], y=sign * part["n_customers"],
                    name=t(f"loyalty.direction.{direction}"), marker_color=DIRECTION_COLORS[direction],
                    customdata=part["n_customers"],
                    hovertemplate="%{x}: %{customdata:,}<extra>" + t(f"loyalty.direction.{direction}") + "</extra>")
    fig.update_layout(barmode="relative", height=340)
    fig.update_yaxes(title_text=t("loyalty.moves.customers_axis"), zeroline=True, zerolinecolor="#666")
    fig.update_xaxes(title_text=t(f"loyalty.moves.axis.{grain}"), type="category", categoryorder="array",
                     categoryarray=[fmt.date(d, lang) for d in ends])
    return layout(fig, t("loyalty.moves.trend_title"))


def sankey(flows: pd.DataFrame, t: T, from_label: str, to_label: str) -> go.Figure:
    """From-state (left) to to-state (right), coloured by direction."""
    froms = [s for s in ("new", *RUNGS, "lost") if s in set(flows["from_state"])]
    tos = [s for s in (*RUNGS, "lost") if s in set(flows["to_state"])]
    index = {("f", s): i for i, s in enumerate(froms)} | {("t", s): len(froms) + i for i, s in enumerate(tos)}
    labels = [f"{_state(t, s)} ({from_label})" for s in froms] + [f"{_state(t, s)} ({to_label})" for s in tos]
    colors = [STATE_COLORS[s] for s in froms] + [STATE_COLORS[s] for s in tos]
    link_colors = [DIRECTION_COLORS[d] for d in flows["direction"]]
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=labels, color=colors, pad=14, thickness=16),
        link=dict(source=[index[("f", s)] for s in flows["from_state"]],
                  target=[index[("t", s)] for s in flows["to_state"]],
                  value=flows["n_customers"], color=[c + "99" if c.startswith("#") else c for c in link_colors],
                  customdata=[t(f"loyalty.direction.{d}") for d in flows["direction"]],
                  hovertemplate="%{source.label} → %{target.label}: %{value:,} (%{customdata})<extra></extra>"),
    ))
    fig.update_layout(height=460, hovermode="closest")
    return layout(fig, t("loyalty.moves.sankey_title", start=from_label, end=to_label))


def pareto(curve: pd.DataFrame, t: T, abc_a: float, abc_b: float, top_pct: float, measure_label: str) -> go.Figure:
    """Cumulative share of value against share of customers, with the A/B lines and the top-X% mark."""
    x = [0.0] + list(curve["key"].astype(int) / 100.0)
    y = [0.0] + list(curve["share_value_cumulative"])
    fig = go.Figure()
    fig.add_scatter(x=x, y=y, mode="lines", line=dict(color=PALETTE[0], width=3), name=t("loyalty.abc.curve"),
                    hovertemplate=t("loyalty.abc.hover") + "<extra></extra>")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color=NEUTRAL, dash="dot"), name=t("loyalty.abc.equal"),
                    hoverinfo="skip")
    for share, cls in ((abc_a / 100, "A"), ((abc_a + abc_b) / 100, "B")):
        fig.add_hline(y=share, line=dict(color=NEUTRAL, dash="dash"),
                      annotation_text=t("loyalty.abc.line", cls=cls, pct=fmt.percent(share, 0)), annotation_position="bottom right")
    fig.add_vline(x=top_pct / 100, line=dict(color=PALETTE[1], dash="dash"),
                  annotation_text=t("loyalty.abc.top_line", pct=f"{top_pct:g}%"), annotation_position="top left")
    fig.update_xaxes(title_text=t("loyalty.abc.x"), tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title_text=t("loyalty.abc.y", measure=measure_label), tickformat=".0%", range=[0, 1.02])
    fig.update_layout(height=380, hovermode="closest")
    return layout(fig, t("loyalty.abc.chart_title", measure=measure_label))


def rfm_grid(grid: pd.DataFrame, t: T, lang: str) -> go.Figure:
    """5 x 5 grid of recency score against frequency-monetary score, coloured by named segment."""
    cells = {(int(r), int(fm)): (n, seg) for r, fm, n, seg in
             zip(grid["key"], grid["key2"], grid["n_customers"], grid["grid_segment"])}
    fig = go.Figure()
    for r in range(1, 6):
        for fm in range(1, 6):
            n, seg = cells.get((r, fm), (0, None))
            fig.add_shape(type="rect", x0=fm - 0.48, x1=fm + 0.48, y0=r - 0.48, y1=r + 0.48,
                          line=dict(color="#DDDDDD", width=1), fillcolor=SEGMENT_COLORS.get(seg, "#F4F4F4"))
            if seg:
                fig.add_annotation(x=fm, y=r, text=f"<b>{fmt.number(n, lang)}</b><br>{t(f'loyalty.rfm.seg.{seg}')}",
                                   showarrow=False, font=dict(size=12, color="white"))
    fig.add_scatter(x=[fm for (_, fm) in cells], y=[r for (r, _) in cells], mode="markers", opacity=0,
                    customdata=[[n, t(f"loyalty.rfm.seg.{s}")] for n, s in cells.values()],
                    hovertemplate="R %{y} · FM %{x}: %{customdata[0]:,} (%{customdata[1]})<extra></extra>", showlegend=False)
    fig.update_xaxes(title_text=t("loyalty.rfm.fm_axis"), tickvals=[1, 2, 3, 4, 5], range=[0.5, 5.5], showgrid=False)
    fig.update_yaxes(title_text=t("loyalty.rfm.r_axis"), tickvals=[1, 2, 3, 4, 5], range=[0.5, 5.5], showgrid=False)
    fig.update_layout(height=460, hovermode="closest", plot_bgcolor="white")
    return layout(fig, t("loyalty.rfm.grid_title"))


def segment_bars(df: pd.DataFrame, order: list[str], label: Callable[[str], str], colors: dict[str, str],
                 value_col: str, value_label: str, title: str, t: T, lang: str) -> go.Figure:
    """Customers (bars) and value (bars on a second axis) per group."""
    df = df.set_index("key").reindex(order).dropna(subset=["n_customers"])
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=(t("loyalty.common.customers"), value_label))
    names = [label(k) for k in df.index]
    fig.add_bar(x=df["n_customers"], y=names, orientation="h", marker_color=[colors.get(k, PALETTE[0]) for k in df.index],
                text=[fmt.number(v, lang) for v in df["n_customers"]], textposition="auto", showlegend=False, row=1, col=1)
    fig.add_bar(x=df[value_col], y=names, orientation="h", marker_color=[colors.get(k, PALETTE[0]) for k in df.index],
                text=[fmt.number(v, lang) for v in df[value_col]], textposition="auto", showlegend=False, row=1, col=2)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=80 + 34 * max(len(df), 3), hovermode="closest")
    return layout(fig, title)


def clv_compare(df: pd.DataFrame, t: T, lang: str, group_label: str) -> go.Figure:
    """Forward CLV per active customer by group, with each group's retention in the label."""
    df = df.dropna(subset=["amt_clv_forward"]).sort_values("amt_clv_forward", ascending=True)
    names = [k if isinstance(k, str) and k else t("loyalty.common.not_set") for k in df["key"]]
    fig = go.Figure(go.Bar(
        x=df["amt_clv_forward"], y=names, orientation="h", marker_color=PALETTE[0],
        text=[f"{fmt.number(v, lang)} · {t('loyalty.clv.retention_short')} {fmt.percent(r, 0)}"
              for v, r in zip(df["amt_clv_forward"], df["rate_retention"])],
        textposition="auto", hovertemplate="%{y}: %{x:,.0f}<extra></extra>"))
    fig.update_xaxes(title_text=t("loyalty.clv.axis"))
    fig.update_layout(height=90 + 36 * max(len(df), 3), hovermode="closest")
    return layout(fig, t("loyalty.clv.compare_title", group=group_label))


def quadrants(df: pd.DataFrame, t: T, lang: str, value_label: str, risk_label: str, risk_measure: str) -> go.Figure:
    """The four value quadrants as tiles: high value top, high risk right, each with the treatment the table gives it
    (crmlens.loyalty.treatment_key: worded for customers who stopped buying when risk is recency)."""
    pos = {"key": (0, 1), "risky": (1, 1), "marginal": (0, 0), "dog": (1, 0)}
    df = df.set_index("key")
    fig = go.Figure()
    for quad, (x, y) in pos.items():
        n = df["n_customers"].get(quad, 0)
        value = df["amt_value_lifetime"].get(quad, 0)
        fig.add_shape(type="rect", x0=x, x1=x + 0.98, y0=y, y1=y + 0.98, line_width=0,
                      fillcolor=QUADRANT_COLORS[quad], opacity=0.85)
        fig.add_annotation(
            x=x + 0.49, y=y + 0.49, showarrow=False, font=dict(color="white", size=13),
            text=(f"<b>{t(f'loyalty.quad.{quad}')}</b><br>{t('loyalty.quad.tile', n=fmt.number(n, lang), value=fmt.number(value, lang))}"
                  f"<br><i>{t(treatment_key(quad, risk_measure))}</i>"))
    fig.update_xaxes(range=[0, 2], tickvals=[0.5, 1.5], ticktext=[t("loyalty.quad.low_risk"), t("loyalty.quad.high_risk")],
                     title_text=risk_label, showgrid=False, zeroline=False)
    fig.update_yaxes(range=[0, 2], tickvals=[0.5, 1.5], ticktext=[t("loyalty.quad.low_value"), t("loyalty.quad.high_value")],
                     title_text=value_label, showgrid=False, zeroline=False)
    fig.update_layout(height=440, hovermode=False, plot_bgcolor="white")
    return layout(fig, t("loyalty.quad.title"))


def climb(df: pd.DataFrame, t: Callable[..., str], lang: str) -> go.Figure:
    """Per climb: the value it adds (CLV above minus below) against what it costs; green when it pays."""
    labels = [f"{t(f'loyalty.rung.{a}')} → {t(f'loyalty.rung.{b}')}" for a, b in zip(df["from_rung"], df["to_rung"])]
    fig = go.Figure()
    fig.add_bar(x=labels, y=df["amt_value_climb"], name=t("climb.col.amt_value_climb"),
                marker_color=[NEUTRAL if p is None else GOOD if p else BAD for p in df["is_paying"]],
                customdata=df["rate_12m"], hovertemplate="%{x}: %{y:,.0f} (12m: %{customdata:.0%})<extra></extra>")
    fig.add_scatter(x=labels, y=df["amt_cost_climb"], mode="markers", marker_symbol="line-ew-open", marker_size=40,
                    marker_line_width=3, marker_color=NEUTRAL, name=t("climb.col.amt_cost_climb"))
    fig.update_yaxes(title_text=t("climb.chart.y"))
    fig.update_layout(height=380)
    return layout(fig, t("climb.chart.title"))
