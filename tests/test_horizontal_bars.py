"""Issue 16, defect 5 (left over): long category names squash upright bars. Besides the complaints Pareto,
the bars of a value per category turn horizontal when a name is long (crmlens.charts.bars, the Pareto's
rule: common.has_long_labels): the name cut on the axis, whole on hover, the first category on top; short
names keep upright bars."""

from __future__ import annotations

import pandas as pd
import pytest

from crmlens.charts import complaints as complaint_charts
from crmlens.charts import funnel as funnel_charts

LONG = "Delivery arrived damaged and the courier refused to take the parcel back"


def t(key, **values):
    return key


def only_bar(fig):
    (bar,) = [trace for trace in fig.data if trace.type == "bar"]
    return bar


@pytest.mark.parametrize("names", [[LONG, "Price"], ["华东区大客户部第二销售团队（含代理商渠道）", "价格"]])
def test_complaint_rates_and_satisfaction_turn_horizontal_for_long_names(names):
    df = pd.DataFrame({"label": names, "rate_churn": [0.4, 0.1], "avg_satisfaction": [2.5, 4.2]})
    for fig, value in ((complaint_charts.rate_bars(df, "label", "rate_churn", {"title": "T", "y": "Y"}), [0.4, 0.1]),
                       (complaint_charts.satisfaction(df, {"title": "T", "y": "Y"}), [2.5, 4.2])):
        bar = only_bar(fig)
        assert bar.orientation == "h"
        assert list(bar.x) == value
        assert list(bar.customdata) == names  # the whole name on hover
        assert bar.y[0].endswith("…") and bar.y[1] == names[1]
        assert bar.hovertemplate.startswith("%{customdata}")
        assert fig.layout.yaxis.autorange == "reversed"  # the first (highest ranked) on top
        assert fig.layout.xaxis.title.text == "Y"


def test_short_names_keep_upright_bars():
    df = pd.DataFrame({"label": ["High", "Low"], "rate_breach": [0.3, 0.1]})
    bar = only_bar(complaint_charts.rate_bars(df, "label", "rate_breach", {"title": "T", "y": "Y"}))
    assert bar.orientation in (None, "v") and list(bar.x) == ["High", "Low"]


def test_owner_shares_turn_horizontal_with_the_limit_as_a_vertical_line():
    df = pd.DataFrame({"owner": ["Key Accounts East (reseller channel)", "Amy"], "rate_revenue_share": [0.6, 0.4],
                       "is_concentrated": [True, False]})
    fig = funnel_charts.owner_shares(df, t, 0.15)
    bar = only_bar(fig)
    assert bar.orientation == "h" and list(bar.customdata) == list(df["owner"])
    (line,) = fig.layout.shapes
    assert (line.x0, line.x1) == (0.15, 0.15)  # the 15% limit across the horizontal bars
    upright = funnel_charts.owner_shares(df.assign(owner=["Bob", "Amy"]), t, 0.15)
    assert only_bar(upright).orientation in (None, "v") and upright.layout.shapes[0].y0 == 0.15


def test_step_times_turn_horizontal_when_a_step_name_is_long():
    """Stage names are the user's own (a CRM's "Negotiation/Review with legal and procurement"): both bars of
    a step turn, the whole name on hover, the days on the x axis; short names stay upright."""
    df = pd.DataFrame({"label": ["Negotiation/Review with legal and procurement", "Won"],
                       "days_median": [12.0, 3.0], "days_p90": [40.0, 9.0]})
    fig = funnel_charts.stage_times(df, t)
    median, p90 = [trace for trace in fig.data if trace.type == "bar"]
    assert (median.orientation, p90.orientation) == ("h", "h")
    assert list(median.x) == [12.0, 3.0] and list(p90.x) == [40.0, 9.0]
    assert list(median.customdata) == list(df["label"]) and median.y[0].endswith("…")
    assert fig.layout.xaxis.title.text == "funnel.times.days"
    upright = funnel_charts.stage_times(df.assign(label=["Qualified", "Won"]), t)
    assert [b.orientation for b in upright.data] == [None, None] and list(upright.data[0].x) == ["Qualified", "Won"]


def test_a_bar_labelled_at_the_axis_end_has_room_for_its_label():
    """After-sales repair at 50% with "50.0% · 2" outside its end: the axis stopped at its last tick, 50%, and the
    chart's edge cut the label to "2". The axis now runs past the last tick (the ticks stay 0-50%); bars without a
    label leave the axis at its last tick."""
    from crmlens.charts import complaints as complaint_charts

    def value_axis(values, text=True):
        df = pd.DataFrame({"label": ["After-sales repair", "Price", "Product quality"], "rate": values,
                           "text": [f"{v:.1%} · 2" for v in values]})
        fig = complaint_charts.rate_bars(df, "label", "rate", {"title": "t", "y": "y"}, text="text" if text else None)
        return fig.layout.xaxis

    labelled = value_axis([0.5, 0.2, 0.4])
    assert list(labelled.tickvals)[-1] == pytest.approx(0.5) and labelled.range[1] > 0.6
    assert value_axis([0.5, 0.2, 0.4], text=False).range[1] == pytest.approx(0.5)
