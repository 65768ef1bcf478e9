"""Overview charts."""

from __future__ import annotations

from typing import Callable

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from crmlens.charts.common import PALETTE, date_axis, layout, value_axis
from crmlens.charts.partial import mark_partial

REVENUE_COLOR, CUSTOMER_COLOR = PALETTE[0], PALETTE[1]


def revenue_and_new_customers(df: pd.DataFrame, t: Callable[..., str], grain: str, lang: str) -> go.Figure:
    """Bars of revenue and a line of new customers per bucket, on two axes."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=df["bucket_start"], y=df["amt_revenue"], name=t("overview.trend.revenue"),
                marker_color=REVENUE_COLOR, secondary_y=False)
    fig.add_scatter(x=df["bucket_start"], y=df["n_new_customers"], name=t("overview.trend.new_customers"),
                    mode="lines+markers", line_color=CUSTOMER_COLOR, secondary_y=True)
    value_axis(fig, df["amt_revenue"].max(), lang, title_text=t("overview.trend.revenue"), secondary_y=False)
    value_axis(fig, df["n_new_customers"].max(), lang, title_text=t("overview.trend.new_customers"),
               secondary_y=True, showgrid=False)
    date_axis(fig, grain)
    if "is_complete" in df:  # a month the dates or the data cut: lighter and hatched, not a fall
        mark_partial(fig, df["bucket_start"], df["is_complete"], t("overview.trend.partial"))
    return layout(fig, t("overview.trend.title", grain=t(f"grain.{grain}")))
