"""A view's headline figures, its main chart as a PNG, and the value an alert watches.

The figures are the page's section of `python -m crmlens metrics --json`, made by the same public
functions (metrics.overview and each view module's headline) for the view's period, filters and
settings, read from the view's address by crmlens.viewparams as `metrics --json --params` reads them:
a digest shows exactly what `metrics --json --params PARAMS` prints for its page. A value the page
would refuse is left out, as the page leaves it out, and the message says so.
"""

from __future__ import annotations

import datetime as dt
import time

import plotly.graph_objects as go

from crmlens import churn, complaints, funnel, loyalty, metrics, period, queries, store, viewparams
from crmlens.charts import churn as churn_charts
from crmlens.charts import complaints as complaints_charts
from crmlens.charts import funnel as funnel_charts
from crmlens.charts import loyalty as loyalty_charts
from crmlens.charts import overview as overview_charts
from crmlens.digest import chart_png, model

IMAGE_SIZE = (900, 450)
WEEK_DAYS = 7
OWNER_SHARE_LIMIT = 15.0  # the funnel page's default "share of revenue" limit (percent)

# What a message shows of each page's section: (label key, path in the section, kind). The label is the page's
# own name for the figure (its card or ladder row), so a figure has one name in the app and in its digest.
SHOWN: dict[str, list[tuple[str, tuple, str]]] = {
    "overview": [("kpi.customers", ("customers",), "count"),
                 ("kpi.active_customers", ("n_active_customers",), "count"),
                 ("kpi.new_customers", ("n_new_customers",), "count"),
                 ("kpi.revenue", ("revenue",), "money"),
                 ("kpi.orders", ("orders",), "count"),
                 ("kpi.avg_order", ("amt_avg_order",), "money2"),
                 ("kpi.open_opportunities", ("n_open_opportunities",), "count"),
                 ("kpi.complaints", ("n_complaints",), "count")],
    "funnel": [("funnel.kpi.won", ("won",), "count"), ("funnel.kpi.lost", ("lost",), "count"),
               ("funnel.kpi.open", ("open",), "count"), ("funnel.kpi.win_rate", ("win_rate",), "percent"),
               ("funnel.kpi.cycle", ("avg_cycle_days",), "days")],
    "loyalty": [*[(f"loyalty.rung.{r}", ("rungs", r), "count") for r in loyalty.RUNGS],
                ("loyalty.kpi.top_share", ("top20_revenue_share",), "percent")],
    "churn": [("churn.kpi.rate", ("overall_churn_rate",), "percent"),
              ("churn.kpi.at_risk", ("at_risk_count",), "count")],
    "complaints": [("complaints.kpi.total", ("total",), "count"),
                   ("complaints.kpi.km_median", ("median_resolution_hours",), "hours"),
                   ("complaints.kpi.breach", ("sla_breach_rate",), "percent"),
                   ("complaints.kpi.churn_complainers", ("churn_rate_complainers",), "percent"),
                   ("complaints.kpi.churn_others", ("churn_rate_others",), "percent")],
}
# Values a page's label takes ("Top 20% of customers hold": the headline's share is of the top 20%).
LABEL_VALUES: dict[str, dict] = {"loyalty.kpi.top_share": {"pct": "20%"}}
# A figure's unit as its page writes it: "66.9 days" (a span in hours: fmt.duration, "12.5 h" or "110.0 days").
UNIT_KEYS = {"days": ("funnel.kpi.days", "days")}


def view_period(snap: store.Snapshot, params: list[tuple[str, str]]) -> tuple[dt.date, dt.date]:
    """The view's own period, or the pages' default (the 365 days up to the newest date in the data)."""
    return model.params_period(params) or period.default_period(snap)


def view_settings(snap: store.Snapshot, page: str, params: list[tuple[str, str]], start: dt.date,
                  end: dt.date) -> viewparams.Reading:
    """The page's filters and settings in the view's address: `.kwargs` is what its headline and main chart
    take, `.applied` and `.refused` the pairs used and left out (as the page leaves them out)."""
    return viewparams.read(snap, page, params, start, end)


def section(snap: store.Snapshot, page: str, start: dt.date, end: dt.date, settings: dict | None = None) -> dict:
    """The page's section of `metrics --json --start START --end END --params ...` (settings: view_settings' kwargs)."""
    if page == "overview":
        return metrics.overview(snap, start, end)
    module = {"funnel": funnel, "loyalty": loyalty, "churn": churn, "complaints": complaints}[page]
    return module.headline(snap, start, end, **(settings or {}))


def value_at(sec: dict, path: tuple):
    for part in path:
        sec = sec.get(part) if isinstance(sec, dict) else None
    return sec


def previous_value(sec: dict, path: tuple):
    """The overview's figure in the previous period of equal length (None elsewhere)."""
    prev = sec.get("previous_period")
    if not prev:
        return None
    key = {"customers": "n_customers", "orders": "n_orders", "revenue": "amt_revenue"}.get(path[0], path[0])
    return prev.get(key)


# --- the main chart ----------------------------------------------------------------------------

def main_chart(snap: store.Snapshot, page: str, start: dt.date, end: dt.date, t, lang: str,
               settings: dict | None = None) -> go.Figure | None:
    """The chart at the top of the page for the view's filters and settings (view_settings' kwargs, turned into
    query parameters by the view's headline_params, as its headline does), drawn by the page's own chart
    function (None when there is nothing to draw)."""
    kw = settings or {}
    if page == "overview":
        grain = period.trend_grain(start, end)
        trend = queries.run("overview_trend", {"start": start, "end": end, "grain": grain}, snap=snap)
        return None if trend["n_orders"].sum() == 0 else overview_charts.revenue_and_new_customers(trend, t, grain, lang)
    if page == "churn":
        p = churn.headline_params(snap, start, end, **kw)
        if p is None:
            return None
        bucket = queries.run("churn_bucket", p, snap=snap)
        return None if bucket.empty else churn_charts.leaky_bucket(bucket, t, p["grain"])
    if page == "funnel":
        steps = queries.run("funnel_stage_counts", funnel.headline_params(snap, start, end, **kw), snap=snap)
        labels = dict(zip(*queries.run("funnel_stage_vocab", snap=snap)[["stage_key", "label"]].T.values))
        steps["label"] = [labels.get(k, k) for k in steps["stage_key"]]
        return None if steps.empty else funnel_charts.funnel(steps, t, lang)
    if page == "loyalty":
        summary = queries.run("loyalty_summary", loyalty.headline_params(snap, start, end, **kw), snap=snap)
        rungs = summary[summary["kind"] == "rung"]
        return None if rungs.empty else loyalty_charts.ladder(rungs, t, lang, "amt_revenue_period",
                                                              t("loyalty.ladder.value.revenue"))
    if page == "complaints":
        vol = queries.run("complaints_volume", {**complaints.headline_params(snap, start, end, **kw), "grain": "month"},
                          snap=snap)
        labels = {"title": t("complaints.volume.title", grain=t("complaints.grain.month")),
                  "measure": t("complaints.measure.count"), "backlog": t("complaints.volume.backlog"),
                  "partial": t("complaints.volume.partial")}  # a month cut by the dates or the data, as on the page
        return None if vol.empty else complaints_charts.volume(vol, "n_complaints", labels, "month")
    raise KeyError(page)


EXPORT_ATTEMPTS = 3


def png(fig: go.Figure | None) -> bytes | None:
    """The chart as PNG (crmlens.digest.chart_png: Plotly's static export, kaleido 1.x driving the system Chromium)."""
    if fig is None:
        return None
    width, height = IMAGE_SIZE
    for attempt in range(1, EXPORT_ATTEMPTS + 1):
        try:
            return chart_png.render(fig.to_dict(), width, height)
        except (RuntimeError, OSError):
            # On a busy machine kaleido's page can be asked before its script has loaded
            # ("ReferenceError: kaleido_scopes is not defined"); a second try finds it ready.
            if attempt == EXPORT_ATTEMPTS:
                raise
            time.sleep(attempt)


# --- what alerts watch -------------------------------------------------------------------------

def alert_value(snap: store.Snapshot, alert: model.Alert) -> float | None:
    """The figure an alert's rule is about, for the alert's period (default: the pages' default period) and the
    filters and settings of the view it was made on (as the page reads them)."""
    start, end = view_period(snap, alert.params)
    kw = view_settings(snap, alert.page, alert.params, start, end).kwargs
    m = alert.metric
    if m == "churn_rate":
        return churn.headline(snap, start, end, **kw)["overall_churn_rate"]
    if m == "at_risk_value":
        p = churn.headline_params(snap, start, end, **kw, min_value=0.0, sort="value", limit=1, offset=0)
        if p is None or p["definition"] != "orders":
            return None
        rows = queries.run("churn_at_risk", p, snap=snap)
        return float(rows["amt_total_at_stake"].iloc[0]) if len(rows) else 0.0
    if m == "sla_breach_rate":
        return complaints.headline(snap, start, end, **kw)["sla_breach_rate"]
    if m == "complaints_week_ratio":
        this_week = _complaints(snap, end - dt.timedelta(days=WEEK_DAYS - 1), end, kw)
        last_week = _complaints(snap, end - dt.timedelta(days=2 * WEEK_DAYS - 1), end - dt.timedelta(days=WEEK_DAYS), kw)
        if last_week == 0:
            return None if this_week == 0 else float("inf")
        return this_week / last_week
    if m == "owner_revenue_share":
        p = {**funnel.headline_params(snap, start, end, **kw), "risk_share": OWNER_SHARE_LIMIT}
        owners = queries.run("funnel_owner_risk", p, snap=snap)
        shares = owners["rate_revenue_share"].dropna()
        return float(shares.max()) if len(shares) else None
    if m == "load_rejected_rows":
        loads = queries.run("data_loads", {"limit": 1000}, snap=snap)
        if loads.empty:
            return None
        latest = loads[loads["version"] == loads["version"].max()]
        return float(latest["n_rejected"].sum())
    raise KeyError(m)


def _complaints(snap: store.Snapshot, start: dt.date, end: dt.date, kw: dict) -> int:
    speed = queries.run("complaints_speed", complaints.headline_params(snap, start, end, **kw), snap=snap)
    total = speed.loc[speed["severity"].isna() & (speed["level"] == "all")]
    return int(total["n_complaints"].iloc[0]) if len(total) else 0
