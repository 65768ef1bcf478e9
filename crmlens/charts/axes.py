"""Axes a manager reads at a glance, set once for every chart (called by charts.common.layout):

- numbers on round ticks (1, 2, 2.5 or 5 x 10^k) labelled the reader's way (200万 / 1.5亿 in Chinese, 2M in
  English, percentages as 20%), so a value axis never says "100M" beside bar labels in 亿 and 万, and a
  secondary axis never ticks at 199, 462, 725;
- bars start at zero; a line alone starts near its lowest value (it is not squashed against a zero it never
  reaches), and never below zero when the data is not;
- dates as numbers (2026-03, 2026-03-15), never month names in English ("Jan 2026") in the Chinese UI.

Axes a chart set itself (tickvals given) are left alone.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crmlens import fmt

STEPS = (1, 2, 2.5, 5, 10)
N_TICKS = 5
# Date ticks as numbers whatever the zoom (dtick in milliseconds): days, then months, then years.
DATE_TICK_FORMATS = [
    dict(dtickrange=[None, 86_400_000], value="%m-%d %H:%M"),
    dict(dtickrange=[86_400_000, "M1"], value="%Y-%m-%d"),
    dict(dtickrange=["M1", "M12"], value="%Y-%m"),
    dict(dtickrange=["M12", None], value="%Y"),
]


def nice_step(span: float, count: int = N_TICKS) -> float:
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in STEPS if m * magnitude >= raw * 0.999)


def round_ticks(lo: float, hi: float, count: int = N_TICKS, whole: bool = False) -> list[float]:
    """Round ticks covering lo..hi (lo == hi gets a span of its own); `whole`: counts, no tick between two
    whole numbers (no 0.25 complaints)."""
    if hi == lo:
        hi, lo = (hi + abs(hi) * 0.5 + 1, lo - abs(lo) * 0.5) if lo else (1.0, 0.0)
    step = nice_step(hi - lo, count)
    if whole:
        step = max(1.0, math.ceil(step)) if step < 1 or step == 2.5 else step
        step = 2.0 if step == 3 else step
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def _axis_key(ref: str | None, letter: str) -> str:
    ref = ref or letter
    return f"{letter}axis{ref[1:]}"


ISO_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?([T ][\d:.]+)?")


def _is_date(values) -> bool:
    """Dates, or text Plotly reads as dates (it turns datetimes into ISO text, and takes "2026-03" as a month)."""
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        return True
    sample = [v for v in arr[:20] if v is not None]
    return bool(sample) and all(isinstance(v, (dt.date, pd.Timestamp)) or isinstance(v, str) and ISO_DATE.fullmatch(v)
                                for v in sample)


def _numbers(values) -> np.ndarray | None:
    arr = np.asarray(values)
    if arr.dtype.kind in "iuf":
        return arr.astype(float)
    return None


def _collect(fig: go.Figure) -> tuple[dict, set, set, set]:
    """Per value axis: the values drawn (stacked bars summed); axes carrying bars; axes of dates; all axes."""
    values: dict[str, list[float]] = {}
    stacks: dict[tuple[str, object], list[float]] = {}
    bar_axes, date_axes = set(), set()
    stacked = fig.layout.barmode in ("stack", "relative")
    for tr in fig.data:
        if tr.type not in ("bar", "scatter", "scattergl"):
            continue
        x, y = getattr(tr, "x", None), getattr(tr, "y", None)
        if x is None or y is None:
            continue
        xk, yk = _axis_key(tr.xaxis, "x"), _axis_key(tr.yaxis, "y")
        horizontal = tr.type == "bar" and tr.orientation == "h"
        value_key, value, where = (xk, x, y) if horizontal else (yk, y, x)
        if _is_date(where):
            date_axes.add(yk if horizontal else xk)
        nums = _numbers(value)
        if nums is None:
            continue
        if tr.type == "bar":
            bar_axes.add(value_key)
            if stacked:
                for w, v in zip(list(where), nums):
                    if not math.isnan(v):
                        stacks.setdefault((value_key, w), []).append(v)
                continue
        values.setdefault(value_key, []).extend(v for v in nums if not math.isnan(v))
    for (key, _), vs in stacks.items():
        values.setdefault(key, []).extend([sum(v for v in vs if v > 0), sum(v for v in vs if v < 0)])
    return values, bar_axes, date_axes


def _undo(fig: go.Figure) -> None:
    """Forget the ticks an earlier call set (a chart that changes its axes after layout() calls readable again);
    a range the chart set itself since then stays."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    for key, set_range in (meta.get("readable_axes") or {}).items():
        axis = fig.layout[key]
        if axis.range is not None and list(axis.range) == set_range:
            axis.range = None
        axis.update(tickmode=None, tickvals=None, ticktext=None)


def readable(fig: go.Figure, lang: str) -> go.Figure:
    _undo(fig)
    done = {}
    values, bar_axes, date_axes = _collect(fig)
    for key in date_axes:
        if fig.layout[key].type != "category":  # labels drawn as they are written
            fig.layout[key].update(tickformatstops=DATE_TICK_FORMATS, hoverformat="%Y-%m-%d")
    for key, vs in values.items():
        axis = fig.layout[key]
        if axis.tickvals is not None or axis.type in ("category", "log") or not vs:
            continue
        lo, hi = (float(axis.range[0]), float(axis.range[1])) if axis.range else (min(vs), max(vs))
        if not axis.range and (key in bar_axes or axis.rangemode == "tozero" or lo >= 0 and lo < (hi - lo) * 0.25):
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        percent = "%" in (axis.tickformat or "")
        whole = not percent and all(float(v).is_integer() for v in vs)
        ticks = round_ticks(lo, hi, whole=whole)
        if not axis.range and min(vs) >= 0:
            ticks = [v for v in ticks if v >= 0] or [0.0]
        text = [_percent(v, ticks) if percent else fmt.compact(v, lang) for v in ticks]
        set_range = None if axis.range else [ticks[0], ticks[-1] + _label_room(fig, key, ticks)]
        axis.update(tickmode="array", tickvals=ticks, ticktext=text, range=list(axis.range) if axis.range else set_range)
        done[key] = set_range
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    fig.layout.meta = {**meta, "readable_axes": done}
    return fig


def _label_room(fig: go.Figure, key: str, ticks: list[float]) -> float:
    """Room past the last tick when bars on this axis carry their label outside their end (the longest bar ends
    within a step of the last tick): a horizontal bar's "50.0% · 2" at the axis's end was cut to "2" by the chart's
    edge."""
    span = ticks[-1] - ticks[0]
    labelled = [tr for tr in fig.data if tr.type == "bar" and tr.textposition == "outside" and tr.text is not None
                and _axis_key(tr.xaxis if tr.orientation == "h" else tr.yaxis, "x" if tr.orientation == "h" else "y") == key]
    if not labelled or span <= 0:
        return 0.0
    return (0.3 if any(tr.orientation == "h" for tr in labelled) else 0.1) * span


def _percent(v: float, ticks: list[float]) -> str:
    step = (ticks[1] - ticks[0]) if len(ticks) > 1 else 1
    decimals = max(0, -math.floor(math.log10(step * 100))) if step else 0
    return f"{v * 100:.{decimals}f}%"
