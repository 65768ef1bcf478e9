"""Periods the chart shows only in part (the period filter or the end of the data cuts them): their bars
lighter and hatched, a note under each, so a half month never reads as a fall."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from crmlens.charts.common import NEUTRAL

PARTIAL_OPACITY = 0.45
HATCH = "/"


def mark_partial(fig: go.Figure, x: Sequence, is_complete: Sequence, note: str) -> go.Figure:
    """Every bar trace: the bars of unfinished periods (is_complete False) lighter and hatched; `note` (e.g.
    "partial") written under each of them. Lines are left as they are."""
    complete = [bool(c) for c in is_complete]
    if all(complete):
        return fig
    bars = [trace for trace in fig.data if trace.type == "bar"]
    for trace in bars:
        trace.marker.opacity = [1.0 if c else PARTIAL_OPACITY for c in complete]
        trace.marker.pattern = dict(shape=["" if c else HATCH for c in complete], solidity=0.25)
    if not complete[0]:  # a legend draws a bar trace as its first bar: keep its key solid with a plain square
        for i, trace in enumerate(bars):
            group = trace.legendgroup or f"partial_{i}"
            trace.update(legendgroup=group, showlegend=False)
            fig.add_scatter(x=[None], y=[None], mode="markers", name=trace.name, legendgroup=group, hoverinfo="skip",
                            legendrank=1 + i,
                            marker=dict(symbol="square", size=12, color=trace.marker.color))
    stacked = fig.layout.barmode in ("relative", "stack")
    for i, (xi, c) in enumerate(zip(x, complete)):
        if not c:  # above the bar (under it would sit on the axis's date)
            heights = [max(float(trace.y[i]), 0.0) for trace in bars if trace.y is not None and trace.y[i] == trace.y[i]]
            top = (sum(heights) if stacked else max(heights)) if heights else 0.0
            fig.add_annotation(x=xi, y=top, yref="y", text=note, showarrow=False, yanchor="bottom", yshift=2,
                               font_color=NEUTRAL, font_size=11)
    return fig
