"""Looks shared by every chart: fonts that show Chinese, colours, layout."""

from __future__ import annotations

import plotly.graph_objects as go

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, WenQuanYi Micro Hei, sans-serif"
PALETTE = ["#2E6FBA", "#E07B39", "#3A9E6F", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]
GOOD, BAD, NEUTRAL = "#3A9E6F", "#C44E52", "#8C8C8C"


def layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title=title, font_family=FONT, hovermode="x unified", margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
    )
    return fig
