"""Overview: headline figures for the period versus the previous one, and the trend."""

import streamlit as st

from crmlens import churn, controls, fmt, period, ui
from crmlens.charts import overview as charts
from crmlens.ui import t

ui.run_through_app()

snap = ui.require_data()
start, end = controls.period_filter(snap)
lang = ui.language()

st.title(t("overview.title"))
compare = st.segmented_control(t("overview.compare"), period.COMPARISONS, default="previous", required=True,
                               format_func=lambda c: t(f"overview.compare.{c}"), key="overview_compare",
                               bind="query-params", help=t("overview.compare.help"))
compare = compare if compare in period.COMPARISONS else "previous"
prev_start, prev_end = period.comparison_period(start, end, compare)
st.caption(t("overview.caption", start=fmt.date(start, lang), end=fmt.date(end, lang),
             days=(end - start).days + 1, prev_start=fmt.date(prev_start, lang), prev_end=fmt.date(prev_end, lang)))

kpis = ui.run_query("overview_kpis", {"start": start, "end": end}).set_index("period")
current = kpis.loc["current"]
# the comparison period's figures: the query's "previous" row (the days just before), else the same query on the
# comparison dates (its "current" row is that period's figures)
previous = (kpis.loc["previous"] if (prev_start, prev_end) == period.previous_period(start, end) else
            ui.run_query("overview_kpis", {"start": prev_start, "end": prev_end}).set_index("period").loc["current"])

# How much of each period the loaded data covers: a figure from a table with no rows is not shown as 0, and a
# comparison period mostly before the data began is not compared (+3,624% against 9 days of data).
span = ui.run_query("data_span").set_index("table_name")
_day = lambda d: None if d is None or d != d else (d.date() if hasattr(d, "date") else d)  # noqa: E731
SOURCE = {"n_active_customers": "orders", "n_new_customers": "orders", "amt_revenue": "orders", "n_orders": "orders",
          "amt_avg_order": "orders", "n_open_opportunities": "opportunities", "n_complaints": "complaints",
          "n_customers": "customers"}
loaded = {name: int(span.loc[name, "n_rows"]) > 0 for name in span.index}
# Orders are frequent: their own first and last day bound the data. A quiet period without complaints or new
# deals is not a gap in the data: those count from the first to the last day of any activity.
activity = span.drop(index="customers", errors="ignore")
first_any = min((_day(d) for d in activity["first_date"] if _day(d)), default=None)
last_any = max((_day(d) for d in activity["last_date"] if _day(d)), default=None)
covered = {name: period.days_covered(prev_start, prev_end, _day(span.loc[name, "first_date"]),
                                     _day(span.loc[name, "last_date"])) if name == "orders" else
           period.days_covered(prev_start, prev_end, first_any, last_any) for name in span.index}
length = (prev_end - prev_start).days + 1
subscribers = None  # without orders, a subscription export still says who is active: the Churn page's count
if not loaded.get("orders"):
    st.info(t("overview.no_orders" if loaded.get("customers") else "overview.no_orders_no_customers"),
            icon=":material/info:")
    churn_params = churn.headline_params(snap, start, end)
    if churn_params is not None and churn_params["definition"] == "explicit":
        subscribers = ui.run_query("churn_summary", churn_params).iloc[0]["n_active"]
thin = covered.get("orders", 0) < length * period.MIN_COVERED_SHARE and loaded.get("orders")
if thin:
    st.warning(t("overview.compare.thin", days=covered.get("orders", 0), length=length,
                 prev_start=fmt.date(prev_start, lang), prev_end=fmt.date(prev_end, lang)), icon=":material/history:")

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
        source = SOURCE[field]
        if field == "n_active_customers" and subscribers is not None:
            col.metric(t("kpi.active_subscribers"), fmt.number(subscribers, lang), border=True,
                       help=t("kpi.active_subscribers.help"))
            continue
        has_data = loaded.get(source, False)
        comparable = has_data and (source == "customers" or covered.get(source, 0) >= length * period.MIN_COVERED_SHARE)
        col.metric(
            t(key),
            fmt.number(current[field], lang, decimals) if has_data else "–",
            delta=fmt.signed_percent(fmt.change(current[field], previous[field])) if comparable else None,
            # More complaints is bad news: show its rise in red.
            delta_color="inverse" if field == "n_complaints" else "normal",
            help=f"{t(key + '.help')} {t('kpi.delta_help.' + compare)}" + (
                "" if comparable or not has_data else " " + t("kpi.not_compared", days=covered.get(source, 0), length=length))
            + ("" if has_data else " " + t("kpi.no_source", table=t(f"table.{source}"))),
            border=True,
        )

if current["amt_revenue_no_customer"] or current["n_orders_no_customer"]:
    # guest orders (no customer id): counted in revenue and orders, never in the customer figures
    st.caption(t("overview.no_customer", amount=fmt.number(current["amt_revenue_no_customer"], lang, 0),
                 share=fmt.percent(current["amt_revenue_no_customer"] / current["amt_revenue"])
                 if current["amt_revenue"] else "–", orders=fmt.number(current["n_orders_no_customer"], lang, 0)))

grain = period.trend_grain(start, end)
trend = ui.run_query("overview_trend", {"start": start, "end": end, "grain": grain})
if trend["n_orders"].sum() == 0:
    st.info(t("overview.trend.empty"))
else:
    st.plotly_chart(charts.revenue_and_new_customers(trend, t, grain, lang), width="stretch")
    if not trend["is_complete"].all():  # the chart's hatched bars, said in words
        st.caption(t("overview.trend.partial_note", grain=t(f"grain.{grain}"),
                     first=fmt.date(_day(span.loc["orders", "first_date"]), lang),
                     last=fmt.date(_day(span.loc["orders", "last_date"]), lang)))
