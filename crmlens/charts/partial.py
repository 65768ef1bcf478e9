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
    for trace in fig.data:
        if trace.type == "bar":
            trace.marker.opacity = [1.0 if c else PARTIAL_OPACITY for c in complete]
            trace.marker.pattern = dict(shape=["" if c else HATCH for c in complete], solidity=0.25)
    for xi, c in zip(x, complete):
        if not c:
            fig.add_annotation(x=xi, y=0, yref="y", text=note, showarrow=False, yshift=-12, font_color=NEUTRAL,
                               font_size=11)
    return fig
