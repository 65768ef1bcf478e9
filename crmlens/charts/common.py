"""Looks shared by every chart: fonts that show Chinese, colours, layout."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from crmlens import fmt, safe
from crmlens.charts import axes

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, WenQuanYi Micro Hei, sans-serif"
PALETTE = ["#2E6FBA", "#E07B39", "#3A9E6F", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]
GOOD, BAD, NEUTRAL = "#3A9E6F", "#C44E52", "#8C8C8C"


def _language() -> str:
    """The reader's language in a page run (a chart made elsewhere, e.g. for a digest, reads English)."""
    try:
        from crmlens import ui
        return ui.language()
    except Exception:  # noqa: BLE001 - no page run (a digest rendered by the CLI): no reader to ask
        return "en"


def layout(fig: go.Figure, title: str, lang: str | None = None) -> go.Figure:
    """Fonts, margins, legend; values from data in the traces shown as text (safe.figure); round, localised
    ticks and numeric dates (axes.readable): call it once, after the traces are added."""
    safe.figure(fig)
    axes.readable(fig, lang or _language())
    fig.update_layout(
        # the title on its own line at the top, the legend on the next one: a long title and a wide legend in a
        # half-width chart never overlap
        title=dict(text=title, y=0.985, yref="container", yanchor="top"), font_family=FONT, hovermode="x unified",
        margin=dict(l=10, r=10, t=88, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
    )
    return fig


LABEL_WIDTH = 28  # characters of a category label on an axis; the full text is one hover away
LONG_LABEL = 14  # bars turn horizontal when a label is longer than this


def _width(text: str) -> int:
    """Display width: a Chinese character is as wide as two Latin letters."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def short_label(text, width: int = LABEL_WIDTH) -> str:
    """A label for an axis, cut with "…" when wider than `width` (one line: charts show data as plain text, see
    safe.figure, so no line breaks); the chart shows the whole text on hover."""
    text = str(text)
    if _width(text) <= width:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            break
        out += ch
    return out.rstrip() + "…"


def short_labels(texts) -> list[str]:
    """short_label of each, kept distinct (two long names alike at the start would share one bar or row)."""
    out, seen = [], set()
    for text in texts:
        label, n = short_label(text), 1
        while label in seen:
            n += 1
            label = f"{short_label(text, LABEL_WIDTH - 3)} {n}"
        seen.add(label)
        out.append(label)
    return out


def has_long_labels(labels) -> bool:
    return any(_width(str(x)) > LONG_LABEL for x in labels)


def finish(fig: go.Figure, lang: str | None = None) -> go.Figure:
    """For a chart that changes its axes after layout(): the ticks worked out again from its final axes."""
    return axes.readable(fig, lang or _language())


def nice_ticks(max_value: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to just above max_value (steps of 1, 2 or 5 x 10^k)."""
    if not max_value or max_value <= 0 or math.isnan(max_value):
        return [0]
    raw = max_value / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(int(max_value // step) + 2)]


def value_axis(fig: go.Figure, max_value: float, lang: str, **axis) -> None:
    """A y axis whose labels read naturally in the language (万 and 亿 in Chinese)."""
    ticks = nice_ticks(max_value)
    fig.update_yaxes(tickmode="array", tickvals=ticks, ticktext=[fmt.compact(v, lang) for v in ticks],
                     range=[0, ticks[-1]], **axis)


def date_axis(fig: go.Figure, grain: str) -> None:
    """Dates written the same way in both languages: 2026-03 for months, 03-15 for days."""
    fig.update_xaxes(tickformat="%Y-%m" if grain == "month" else "%Y-%m-%d")
