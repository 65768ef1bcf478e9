"""Bars of a value per category (a category, an owner, a severity): upright while the names are short;
horizontal, the first on top, when a name is long, as the complaints Pareto does (common.has_long_labels): the
name cut to fit the axis (common.short_labels), the whole name on hover."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from crmlens.charts.common import has_long_labels, short_labels


def horizontal(labels: Sequence) -> bool:
    return has_long_labels(labels)


def bar(labels: Sequence, values: Sequence, turned: bool, hover_value: str = "%{value}", **style) -> go.Bar:
    """One bar per label; `turned`: horizontal (labels on the y axis, cut, whole on hover). `hover_value` is
    the value's hover format with `%{value}` standing for the bar's length (e.g. "%{value:.1%}")."""
    names = [str(x) for x in labels]
    if not turned:
        return go.Bar(x=names, y=list(values), **style)
    value = hover_value.replace("%{value", "%{x")
    return go.Bar(y=short_labels(names), x=list(values), orientation="h", customdata=names, cliponaxis=False,
                  hovertemplate="%{customdata}: " + value + "<extra></extra>", **style)


def value_axis(fig: go.Figure, turned: bool, **axis) -> None:
    """Settings of the axis that measures the bars (x when turned, else y)."""
    (fig.update_xaxes if turned else fig.update_yaxes)(**axis)


def threshold_line(fig: go.Figure, turned: bool, value: float, **line) -> None:
    """A line across the bars at `value` of the measuring axis (e.g. a limit)."""
    (fig.add_vline if turned else fig.add_hline)(value, **line)


def finish_layout(fig: go.Figure, turned: bool, n: int) -> None:
    """Horizontal: the first category on top, a row per bar, hover on the bar under the pointer."""
    if turned:
        fig.update_yaxes(autorange="reversed", type="category", automargin=True)
        fig.update_layout(height=max(300, 90 + 38 * n), hovermode="closest")
