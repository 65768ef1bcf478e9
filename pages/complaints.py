"""Complaints (客户投诉): volume, causes, speed, outcome, and which complaints lose customers."""

import pandas as pd
import streamlit as st

from crmlens import complaints as cx, controls, tables
from crmlens import fmt, period, safe, ui
from crmlens.charts import complaints as charts
from crmlens.ui import t

ui.run_through_app()

snap = ui.require_data()
start, end = controls.period_filter(snap)
lang = ui.language()
p = cx.params(snap, start, end)

# ---- filters (sidebar, in the URL) -----------------------------------------------------------
options = ui.run_query("complaints_filter_options", p)
opts = lambda dim: list(options.loc[options["dimension"] == dim, "value"])  # noqa: E731


def category_label(key) -> str:
    if key is None or key != key:
        return t("complaints.not_given")
    return t(f"complaints.cat.{key}") if key in cx.CATEGORIES else str(key)


category_options = opts("category")
# Streamlit writes the shown label into the URL: a label in both languages keeps shared links working in either.
chosen = st.sidebar.multiselect(t("complaints.filter.category"), category_options, default=[], key="category",
                                bind="query-params", placeholder=t("filter.all"), format_func=cx.bilingual_label,
                                help=t("complaints.filter.category.help"))
filters = {
    "category": [c for c in chosen if c in category_options],
    "severity": controls.choice_filter("complaints_severity", t("complaints.filter.severity"), opts("severity")),
    "complaint_channel": controls.choice_filter("complaints_channel", t("complaints.filter.channel"), opts("complaint_channel")),
    "region": controls.choice_filter("region", t("complaints.filter.region"), controls.filter_options("region")),
    "segment": controls.choice_filter("segment", t("complaints.filter.segment"), controls.filter_options("segment")),
    "owner": controls.choice_filter("owner", t("complaints.filter.owner"), controls.filter_options("owner")),
}
p = cx.params(snap, start, end, filters)

st.title(t("complaints.title"))
cover = ui.run_query("complaints_coverage", p).iloc[0]
if pd.notna(cover["as_of_at"]):
    st.caption(t("complaints.caption", start=fmt.date(start, lang), end=fmt.date(end, lang),
                 as_of=fmt.timestamp(cover["as_of_at"].to_pydatetime(), lang)))
else:  # nothing to age open complaints against: say what the page covers, not "aged up to –"
    st.caption(t("complaints.caption_no_data", start=fmt.date(start, lang), end=fmt.date(end, lang)))
if cover["n_complaints"] == 0:
    elsewhere = cx.loaded_outside(ui.run_query("data_span"), start, end)
    if elsewhere:
        st.info(t("complaints.empty_period", start=fmt.date(start, lang), end=fmt.date(end, lang),
                  first=fmt.date(elsewhere[0], lang), last=fmt.date(elsewhere[1], lang)), icon=":material/event_busy:")
    else:
        st.info(t("complaints.empty"))
    st.stop()

has_customer = cover["n_with_customer"] > 0
# Neither a resolution time nor a closed status anywhere: whether a complaint is open, how fast it was resolved
# and whether it breached its SLA cannot be told (every complaint would look open and late: 100% breached).
knows_resolution = cover["n_with_resolved"] > 0 or cover["n_closed_no_time"] > 0
if not knows_resolution:
    st.warning(t("complaints.no_resolution"), icon=":material/help:")
has_orders = cover["n_orders_total"] > 0
if not has_customer:
    st.warning(t("complaints.no_customer_id"))
elif not has_orders:
    st.warning(t("complaints.no_orders"))

# Sections in page order; the speed section's SLA settings are read first since every breach figure uses them.
kpi_box, volume_box, causes_box, speed_box = st.container(), st.container(), st.container(), st.container()

with speed_box:
    st.header(t("complaints.speed.header"))
    st.caption(t("complaints.speed.sla_help"))
    shown = cx.sla_settings(opts("severity"))
    sla_cols = st.columns(len(shown) + 1)
    _, lo, hi, step = cx.NUMBER_SETTINGS["complaints_sla_other"]
    sla = {}
    for i, (sev, key, default) in enumerate(shown):
        sla[sev] = controls.number_setting(key, t("complaints.sla.for", severity=safe.md(cx.value_label(lang, "severity", sev))), default, lo, hi, step,
                                     help=t("complaints.sla.help"), container=sla_cols[i])
    other = controls.number_setting("complaints_sla_other", t("complaints.sla.other"), *cx.NUMBER_SETTINGS["complaints_sla_other"],
                              help=t("complaints.sla.other.help"), container=sla_cols[-1])
p = cx.params(snap, start, end, filters, sla=sla, sla_default_hours=float(other))

# ---- 1. volume ------------------------------------------------------------------------------
with volume_box:
    st.header(t("complaints.volume.header"))
    c1, c2 = st.columns(2)
    grain = c1.segmented_control(t("complaints.grain"), ["day", "week", "month"], default=period.trend_grain(start, end),
                                 format_func=lambda g: t(f"complaints.grain.{g}"), key="complaints_grain",
                                 bind="query-params", required=True)
    measures = {"n_complaints": "complaints.measure.count"}
    if has_orders:
        measures.update(rate_per_100_customers="complaints.measure.per_100", rate_per_1000_orders="complaints.measure.per_1000")
    measure = c2.segmented_control(t("complaints.measure"), list(measures), default="n_complaints",
                                   format_func=lambda m: t(measures[m]), key="complaints_measure", bind="query-params",
                                   required=True, help=t("complaints.measure.help"))
    measure = measure if measure in measures else "n_complaints"
    vol = cx.within_data(ui.run_query("complaints_volume", {**p, "grain": grain}))
    st.plotly_chart(charts.volume(vol, measure, {
        "title": t("complaints.volume.title", grain=t(f"complaints.grain.{grain}")), "measure": t(measures[measure]),
        "backlog": t("complaints.volume.backlog"), "partial": t("complaints.volume.partial")}, grain), width="stretch")
    st.caption(t("complaints.volume.note"))
    if len(vol) and not vol["is_complete"].all():  # the chart's hatched bars, said in words
        st.caption(t("complaints.volume.partial_note", grain=t(f"complaints.grain.{grain}"),
                     first=fmt.date(vol["first_day"].min().date(), lang), last=fmt.date(vol["last_day"].max().date(), lang)))
    with st.expander(t("complaints.table")):
        tables.show(vol.drop(columns=["first_day", "last_day"]), "complaints_volume.csv", "complaints", kinds={
            "bucket_start": "date", "rate_per_100_customers": "decimal", "rate_per_1000_orders": "decimal"})

# ---- 2. causes ------------------------------------------------------------------------------
with causes_box:
    st.header(t("complaints.causes.header"))
    cols = cx.optional_columns(snap)
    dims = [d for d in cx.DIMENSIONS if d not in ("sub_category", "product") or cols[d]]
    if not has_customer:
        dims = [d for d in dims if d not in ("region", "segment") and (d != "owner" or cols["handler"])]
    dim = st.selectbox(t("complaints.dimension"), dims, format_func=lambda d: t(f"complaints.dim.{d}"),
                       key="complaints_dimension", bind="query-params", help=t("complaints.dimension.help"))
    dim = dim if dim in dims else "category"
    missing = [t(f"complaints.dim.{d}") for d in ("sub_category", "product") if not cols[d]]
    if missing:
        st.caption(t("complaints.dimension.missing", names=", ".join(missing)))
    dim_label = lambda v: category_label(v) if dim == "category" else (  # noqa: E731
        cx.value_label(lang, dim, v) if v is not None and v == v else t("complaints.not_given"))
    by_dim = ui.run_query("complaints_by_dimension", {**p, "dimension": dim})
    by_dim = by_dim.assign(label=[dim_label(v) for v in by_dim["value"]])
    left, right = st.columns(2)
    left.plotly_chart(charts.pareto(by_dim, {"title": t("complaints.pareto.title", dim=t(f"complaints.dim.{dim}")),
                                             "count": t("complaints.col.n_complaints"),
                                             "cum_share": t("complaints.col.cum_share")}), width="stretch")
    heat = ui.run_query("complaints_dimension_month", {**p, "dimension": dim})
    heat = heat.assign(label=[dim_label(v) for v in heat["value"]], month=heat["month_start"].astype(str).str[:7])
    right.plotly_chart(charts.heatmap(heat, {"title": t("complaints.heatmap.title", dim=t(f"complaints.dim.{dim}")),
                                             "count": t("complaints.col.n_complaints")}), width="stretch")
    if len(heat) and heat["n_values"].iloc[0] > p["limit"]:
        right.caption(t("complaints.heatmap.top", n=p["limit"], of=fmt.number(heat["n_values"].iloc[0], lang),
                        dim=t(f"complaints.dim.{dim}")))
    table = by_dim[["label", "n_complaints", "share", "cum_share", *(["n_customers"] if has_customer else []), "n_open",
                    "median_hours_to_resolve", "rate_breach", "avg_satisfaction"]]  # no customer id: no "Customers 0"
    tables.show(table.rename(columns={"label": t(f"complaints.dim.{dim}")}), f"complaints_by_{dim}.csv", "complaints",
                kinds={"share": "pct", "cum_share": "pct"})

# ---- 3. speed -------------------------------------------------------------------------------
speed = ui.run_query("complaints_speed", p)
total = speed[speed["level"] == "all"].iloc[0]
resolution = ui.run_query("complaints_resolution_survival", p)
km = cx.kaplan_meier(resolution)
km_median, km_p90 = cx.km_quantile(km, 0.5), cx.km_quantile(km, 0.9)

hours = lambda h: fmt.duration(h, lang)  # noqa: E731
m = st.columns(4)
m[0].metric(t("complaints.kpi.median_response"), hours(total["median_hours_to_response"]),
            help=t("complaints.kpi.median_response.help", p90=hours(total["p90_hours_to_response"])), border=True)
m[1].metric(t("complaints.kpi.km_p90"), hours(km_p90), help=t("complaints.kpi.km_p90.help"), border=True)
m[2].metric(t("complaints.kpi.median_resolved"), hours(total["median_hours_to_resolve"]),
            help=t("complaints.kpi.median_resolved.help", p90=hours(total["p90_hours_to_resolve"])), border=True)
m[3].metric(t("complaints.kpi.open"), fmt.number(total["n_open"], lang) if knows_resolution else "–",
            help=t("complaints.kpi.open.help", oldest=hours(total["max_hours_open"])), border=True)
st.caption(t("complaints.speed.censored", n_open=int(total["n_open"]), n_closed=int(total["n_closed_no_time"])))
if total["n_sla_given"]:  # the file's own verdict decides those complaints' breach, the SLA hours the rest
    st.caption(t("complaints.speed.sla_given", n=fmt.number(total["n_sla_given"], lang), column=p["sla_met_col"],
                 rest=fmt.number(total["n_complaints"] - total["n_sla_given"], lang)))

by_sev = speed[speed["level"] == "severity"].sort_values("severity", key=lambda s: s.map(cx.severity_rank), kind="stable").assign(
    label=lambda d: [cx.value_label(lang, "severity", v) if v is not None and v == v else t("complaints.not_given")
                     for v in d["severity"]])
left, right = st.columns(2)
left.plotly_chart(charts.rate_bars(by_sev, "label", "rate_breach", {"title": t("complaints.breach.title"),
                                                                    "y": t("complaints.col.rate_breach")}), width="stretch")
bands = ui.run_query("complaints_time_bands", p)
band_label = cx.band_labels(t)
bands = bands[(bands["n_response"] + bands["n_resolve"] > 0) | (bands["band"] >= 0)].assign(
    label=lambda d: [band_label[b] for b in d["band"]])
right.plotly_chart(charts.time_bands(bands, {"title": t("complaints.bands.title"), "count": t("complaints.col.n_complaints"),
                                              "response": t("complaints.bands.response"),
                                              "resolve": t("complaints.bands.resolve")}), width="stretch")
speed_table = by_sev[["label", "sla_hours", "n_complaints", "n_resolved", "n_open", "median_hours_to_response",
                      "p90_hours_to_response", "median_hours_to_resolve", "p90_hours_to_resolve", "n_breached",
                      "n_decided", "rate_breach"]]
tables.show(speed_table.rename(columns={"label": t("complaints.dim.severity")}), "complaints_speed_by_severity.csv",
            "complaints")

if km is not None:
    curve = cx.km_curve(resolution.assign(grp="all"))
    st.plotly_chart(charts.survival(curve, {"title": t("complaints.km.title"), "x": t("complaints.km.x"),
                                            "y": t("complaints.km.y")}, {"all": t("complaints.km.all")}), width="stretch")

st.subheader(t("complaints.oldest.header"))
oldest = ui.run_query("complaints_oldest_open", {**p, "limit": 20})
if oldest.empty:
    st.caption(t("complaints.oldest.none"))
else:
    oldest = oldest.assign(category=[category_label(v) for v in oldest["category"]])
    tables.show(oldest, "complaints_oldest_open.csv", "complaints", kinds={"hours_open": "int"})

# ---- 4. outcome -----------------------------------------------------------------------------
st.header(t("complaints.outcome.header"))
sat = ui.run_query("complaints_satisfaction", p)
if cover["n_rated"] == 0:
    st.caption(t("complaints.satisfaction.none"))
else:
    left, right = st.columns(2)
    sat_cat = sat[sat["kind"] == "category"].assign(label=lambda d: [category_label(v) for v in d["value"]])
    sat_band = sat[sat["kind"] == "band"].assign(band=lambda d: d["value"].astype(int)).sort_values("band")
    sat_band = sat_band[sat_band["n_rated"] > 0]
    sat_band = sat_band.assign(label=[band_label[b] for b in sat_band["band"]])
    left.plotly_chart(charts.satisfaction(sat_cat, {"title": t("complaints.satisfaction.by_category"),
                                                    "y": t("complaints.col.avg_satisfaction")}), width="stretch")
    right.plotly_chart(charts.satisfaction(sat_band, {"title": t("complaints.satisfaction.by_band"),
                                                      "y": t("complaints.col.avg_satisfaction")}), width="stretch")
    sat_table = pd.concat([sat_cat, sat_band]).assign(kind=lambda d: [t(f"complaints.kind.{k}") for k in d["kind"]])[["kind", "label", "n_resolved", "n_rated", "avg_satisfaction",
                                                "share_satisfied", "share_dissatisfied"]]
    with st.expander(t("complaints.table")):
        tables.show(sat_table, "complaints_satisfaction.csv", "complaints")
    st.caption(t("complaints.satisfaction.help"))

if has_customer:
    repeat_days = controls.number_setting("complaints_repeat_days", t("complaints.repeat_days"),
                                    *cx.NUMBER_SETTINGS["complaints_repeat_days"], help=t("complaints.repeat_days.help"))
    p["repeat_days"] = int(repeat_days)
    rep = ui.run_query("complaints_repeat", p).iloc[0]
    m = st.columns(3)
    m[0].metric(t("complaints.kpi.repeat"), fmt.percent(rep["rate_repeat"]),
                help=t("complaints.kpi.repeat.help", n=int(rep["n_repeat_complainers"]), d=int(rep["n_complainers"]),
                       days=int(repeat_days)), border=True)
    m[1].metric(t("complaints.kpi.complainers"), fmt.number(rep["n_complainers"], lang), border=True,
                help=t("complaints.kpi.complainers.help"))
    m[2].metric(t("complaints.kpi.reopened"),
                fmt.percent(rep["rate_reopened"]) if rep["n_reopen_known"] else t("complaints.kpi.reopened.unknown"),
                help=t("complaints.kpi.reopened.help", n=int(rep["n_reopened"]), d=int(rep["n_reopen_known"])),
                border=True)
    repeaters = ui.run_query("complaints_repeat_customers", {**p, "limit": 20})
    if not repeaters.empty:
        st.subheader(t("complaints.repeaters.header"))
        repeaters = repeaters.assign(categories=[", ".join(category_label(c) for c in (v or "").split(", ") if c)
                                                 for v in repeaters["categories"]])
        tables.show(repeaters, "complaints_repeat_customers.csv", "complaints", kinds={"customer_id": "text"})
else:
    st.caption(t("complaints.repeat.needs_customer"))

def followed_text(rows: pd.DataFrame) -> list[str]:
    """A bar's text: the churn within the follow-up and the customers followed the whole of it."""
    return [f"{fmt.percent(r)} · {fmt.number(n, lang)}" for r, n in zip(rows["rate_churn_followed"], rows["n_followed"])]


# ---- 5. link to churn -----------------------------------------------------------------------
st.header(t("complaints.churn.header"))
churn = pd.DataFrame()
if has_customer and has_orders:
    c = st.columns(4)
    churn_days = controls.number_setting("churn_days", t("complaints.churn_days"), *cx.NUMBER_SETTINGS["churn_days"],
                                   help=t("complaints.churn_days.help"), container=c[0])
    gap_multiple = controls.number_setting("churn_multiplier", t("complaints.gap_multiple"),
                                     *cx.NUMBER_SETTINGS["churn_multiplier"], help=t("complaints.gap_multiple.help"), container=c[1])
    revenue_days = controls.number_setting("complaints_revenue_days", t("complaints.revenue_days"),
                                     *cx.NUMBER_SETTINGS["complaints_revenue_days"], help=t("complaints.revenue_days.help"), container=c[2])
    follow_days = controls.number_setting("complaints_follow_days", t("complaints.follow_days"),
                                          *cx.NUMBER_SETTINGS["complaints_follow_days"],
                                          help=t("complaints.follow_days.help"), container=c[3])
    p.update(churn_days=int(churn_days), churn_multiplier=float(gap_multiple), revenue_days=int(revenue_days),
             follow_days=int(follow_days))
    churn = ui.run_query("complaints_churn", p)
    overall = churn[churn["kind"] == "all"].set_index("grp")
    get = lambda g, col: overall.loc[g, col] if g in overall.index else None  # noqa: E731
    m = st.columns(3)
    # like with like: both groups ordered in the period and are followed for the same days (issue 14, item 7)
    m[0].metric(t("complaints.kpi.churn_complainers"), fmt.percent(get("complainers", "rate_churn_followed")), border=True,
                help=t("complaints.kpi.churn_followed.help", n=int(get("complainers", "n_churned_followed") or 0),
                       d=int(get("complainers", "n_followed") or 0), days=int(follow_days)))
    m[1].metric(t("complaints.kpi.churn_others"), fmt.percent(get("others", "rate_churn_followed")), border=True,
                help=t("complaints.kpi.churn_followed.help", n=int(get("others", "n_churned_followed") or 0),
                       d=int(get("others", "n_followed") or 0), days=int(follow_days)))
    m[2].metric(t("complaints.kpi.revenue_lost"), fmt.number(get("complainers", "amt_revenue_lost_followed"), lang),
                border=True, help=t("complaints.kpi.revenue_lost.help", days=int(revenue_days)))
    st.caption(t("complaints.churn.like_with_like", days=int(follow_days),
                 left=fmt.number(sum(int(get(g, "n_customers") or 0) - int(get(g, "n_followed") or 0)
                                     for g in ("complainers", "others")), lang)))
    st.caption(t("complaints.churn.definition", days=int(churn_days), multiple=fmt.number(gap_multiple, lang, 1)))

    left, right = st.columns(2)
    by_cat = churn[churn["kind"] == "category"].assign(label=lambda d: [category_label(v) for v in d["grp"]])
    # the bars by the headline's measure (lost within the follow-up, of the customers followed the whole of it)
    by_cat = by_cat.assign(text=followed_text(by_cat))
    left.plotly_chart(charts.rate_bars(by_cat, "label", "rate_churn_followed", {"title": t("complaints.churn.by_category"),
                                                                                 "y": t("complaints.col.rate_churn_followed")},
                                       text="text"), width="stretch")
    by_band = churn[churn["kind"] == "band"].assign(band=lambda d: d["grp"].astype(int)).sort_values("band")
    by_band = by_band.assign(label=[band_label[b] for b in by_band["band"]], text=followed_text(by_band))
    right.plotly_chart(charts.rate_bars(by_band, "label", "rate_churn_followed", {"title": t("complaints.churn.by_band"),
                                                                                   "y": t("complaints.col.rate_churn_followed")},
                                        text="text"), width="stretch")
    st.caption(t("complaints.churn.bars_note"))
    churn_table = pd.concat([overall.reset_index().assign(label=lambda d: [t(f"complaints.grp.{g}") for g in d["grp"]]),
                             by_cat, by_band]).assign(kind=lambda d: [t(f"complaints.kind.{k}") for k in d["kind"]])[["kind", "label", "n_customers", "n_churned", "rate_churn", "amt_revenue_lost", "n_followed",
                                                        "n_churned_followed", "rate_churn_followed"]]
    tables.show(churn_table, "complaints_churn.csv", "complaints")

    surv = ui.run_query("complaints_churn_survival", p)
    test = cx.log_rank(surv)
    curve = cx.km_curve(surv)
    if not curve.empty:
        st.plotly_chart(charts.survival(curve, {"title": t("complaints.retention.title"), "x": t("complaints.retention.x"),
                                                "y": t("complaints.retention.y")},
                                        {g: t(f"complaints.grp.{g}") for g in ("complainers", "others")}), width="stretch")
        st.caption(t("complaints.retention.test", chi2=fmt.number(test["chi2"], lang, 2),
                     p=fmt.p_value(test["p_value"], lang))
                   + " " + t("complaints.retention.help"))

    st.subheader(t("complaints.cox.header"))
    cox = cx.cox(ui.run_query("complaints_churn_cox", p))
    if cox.empty:
        st.caption(t("complaints.cox.too_little"))
    else:
        terms = [t("complaints.cox.term.resolution_days") if x == "resolution_days"
                 else t("complaints.cox.term.is_breached") if x == "is_breached"
                 else t("complaints.cox.term.category", category=category_label(x.split(":", 1)[1])) for x in cox["term"]]
        cox_table = cox.assign(term=terms)[["term", "hazard_ratio", "lower", "upper", "p_value"]]
        tables.show(cox_table, "complaints_cox.csv", "complaints",
                    kinds={"hazard_ratio": "decimal", "lower": "decimal", "upper": "decimal"})
        st.caption(t("complaints.cox.help", reference=safe.md(category_label(cox["reference"].iloc[0])), max_rows=fmt.number(cx.COX_MAX_ROWS, lang)))
        if cx.cox_is_rough(cox):
            st.caption(t("complaints.cox.rough", n_lost=fmt.number(cox["n_lost"].iloc[0], lang),
                         n_terms=fmt.number(cox["n_terms"].iloc[0], lang), per_term=cx.COX_EVENTS_PER_TERM))
        blank = [safe.md(term) for term, ok in zip(terms, cox["is_estimable"]) if not ok]
        if blank:
            st.caption(t("complaints.cox.not_estimable", terms=", ".join(blank)))
elif not has_customer:
    st.caption(t("complaints.churn.needs_customer"))
else:
    st.caption(t("complaints.churn.needs_orders"))

# ---- headline (drawn at the top) ------------------------------------------------------------
with kpi_box:
    m = st.columns(4)
    m[0].metric(t("complaints.kpi.total"), fmt.number(cover["n_complaints"], lang), border=True,
                help=t("complaints.kpi.total.help"))
    m[1].metric(t("complaints.kpi.per_100"), fmt.number(cover["rate_per_100_customers"], lang, 2), border=True, help=t("complaints.kpi.per_100.help",
                n=fmt.number(cover["n_active_customers"], lang)))
    m[2].metric(t("complaints.kpi.km_median"), hours(km_median), border=True,
                help=t("complaints.kpi.km_median.help", p90=hours(km_p90)))
    m[3].metric(t("complaints.kpi.breach"), fmt.percent(total["rate_breach"]) if knows_resolution else "–", border=True,
                help=t("complaints.kpi.breach.help", n=int(total["n_breached"]), d=int(total["n_decided"]),
                       open=int(total["n_open_breached"])))
    top = (by_dim if dim == "category" else ui.run_query("complaints_by_dimension", {**p, "dimension": "category"})).iloc[0]
    if pd.isna(top["value"]) and top["share"] >= 1:  # no complaint has a category: "(not given), 100%" says nothing
        st.caption(t("complaints.kpi.no_category"))
    else:
        st.markdown(t("complaints.kpi.top_category", category=safe.md(category_label(top["value"])),
                      share=fmt.percent(top["share"])))
