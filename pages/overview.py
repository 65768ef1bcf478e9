"""Overview: headline figures for the period versus the previous one, and the trend."""

import streamlit as st

from crmlens import controls, fmt, period, ui
from crmlens.charts import overview as charts
from crmlens.ui import t

ui.run_through_app()

snap = ui.require_data()
start, end = controls.period_filter(snap)
prev_start, prev_end = period.previous_period(start, end)
lang = ui.language()

st.title(t("overview.title"))
st.caption(t("overview.caption", start=fmt.date(start, lang), end=fmt.date(end, lang),
             days=(end - start).days + 1, prev_start=fmt.date(prev_start, lang), prev_end=fmt.date(prev_end, lang)))

kpis = ui.run_query("overview_kpis", {"start": start, "end": end}).set_index("period")
current, previous = kpis.loc["current"], kpis.loc["previous"]

CARDS = [  # (column, label key, decimals)
    ("n_customers", "kpi.customers", 0),
    ("n_active_customers", "kpi.active_customers", 0),
    ("n_new_customers", "kpi.new_customers", 0),
    ("amt_revenue", "kpi.revenue", 0),
    ("n_orders", "kpi.orders", 0),
    ("amt_avg_order", "kpi.avg_order", 2),
    ("n_open_opportunities", "kpi.open_opportunities", 0),
    ("n_complaints", "kpi.complaints", 0),
]
for row in (CARDS[:4], CARDS[4:]):
    for col, (field, key, decimals) in zip(st.columns(len(row)), row):
        col.metric(
            t(key),
            fmt.number(current[field], lang, decimals),
            delta=fmt.signed_percent(fmt.change(current[field], previous[field])),
            # More complaints is bad news: show its rise in red.
            delta_color="inverse" if field == "n_complaints" else "normal",
            help=f"{t(key + '.help')} {t('kpi.delta_help')}",
            border=True,
        )

grain = period.trend_grain(start, end)
trend = ui.run_query("overview_trend", {"start": start, "end": end, "grain": grain})
if trend["n_orders"].sum() == 0:
    st.info(t("overview.trend.empty"))
else:
    st.plotly_chart(charts.revenue_and_new_customers(trend, t, grain, lang), width="stretch")
