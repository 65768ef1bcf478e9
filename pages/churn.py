"""Churn and retention (客户流失): the leaky bucket, cohorts, survival, drivers, customers to call, what-if."""

import math

import pandas as pd
import streamlit as st

from crmlens import churn, complaints, controls, fmt, loyalty, safe, survival, tables, ui
from crmlens import margin as margins
from crmlens.charts import churn as charts
from crmlens.ui import t

ui.run_through_app()

snap = ui.require_data()
start, end = controls.period_filter(snap)
lang = ui.language()


def attribute_label(attribute: str) -> str:
    """A known attribute's name in the reader's language; extra columns keep their own name."""
    key = f"churn.attr.{attribute}"
    return t(key) if t(key) != key else attribute


filters = {key: controls.choice_filter(key, t(f"churn.filter.{key}"), controls.filter_options(key))
           for key in churn.FILTERS}

st.title(t("churn.title"))
source = ui.run_query("churn_source").iloc[0]
available = churn.available_definitions(source)
if not available:
    st.info(t("churn.nodata"))
    st.stop()

# --- settings that drive every figure below --------------------------------------------------
c1, c2, c3, c4 = st.columns([2, 2, 1, 2])
wanted = c1.selectbox(t("churn.setting.definition"), [d for d in churn.DEFINITIONS if d == "auto" or d in available],
                      format_func=lambda d: t(f"churn.definition.{d}"), key="churn_definition", bind="query-params",
                      help=t("churn.setting.definition.help"))
definition = churn.choose_definition(source, wanted)
churn_days = int(controls.number_setting("churn_days", t("churn.setting.days"), *churn.NUMBER_SETTINGS["churn_days"],
                                   help=t("churn.setting.days.help"), container=c2))
multiplier = float(controls.number_setting("churn_multiplier", t("churn.setting.multiplier"),
                                     *churn.NUMBER_SETTINGS["churn_multiplier"], help=t("churn.setting.multiplier.help"), container=c3))
grain = c4.segmented_control(t("churn.setting.grain"), churn.GRAINS, default=churn.GRAIN, required=True,
                             format_func=lambda g: t(f"churn.grain.{g}"), key="churn_grain", bind="query-params")
params = churn.query_params(start, end, definition, churn_days, multiplier, grain=grain, **filters)
if definition == "orders":
    controls.stop_without_orders(start, end, "churn.no_orders_in_period")

summary = ui.run_query("churn_summary", params).iloc[0]
as_of = summary["as_of_date"].date() if pd.notna(summary["as_of_date"]) else end
st.caption(t("churn.caption", start=fmt.date(start, lang), end=fmt.date(end, lang), as_of=fmt.date(as_of, lang)))
if definition == "orders":
    st.info(t("churn.uses.orders" if multiplier > 0 else "churn.uses.orders_fixed", days=churn_days,
              multiplier=fmt.number(multiplier, lang, 1), as_of=fmt.date(as_of, lang),
              pop_gap=f"{fmt.number(summary['usual_gap_all'], lang, 1)} {t('churn.unit.days')}"))
else:
    st.info(t("churn.uses.explicit", n_flag=fmt.number(source["n_churn_flag"], lang),
              n_date=fmt.number(source["n_churn_date"], lang), n_tenure=fmt.number(source["n_tenure"], lang),
              as_of=fmt.date(as_of, lang)))
    if source["n_churn_unknown"] > 0:
        st.warning(t("churn.unknown_flags", n=fmt.number(source["n_churn_unknown"], lang)))

undated = bool(summary["is_rate_undated"])  # explicit churn without any dates: no start of the period to count from
cards = [("n_customers", "churn.kpi.customers", fmt.number(summary["n_customers"], lang)),
         ("n_churned", "churn.kpi.churned", fmt.number(summary["n_churned"], lang))] if undated else [
         ("n_start", "churn.kpi.start", fmt.number(summary["n_start"], lang)),
         ("n_lost", "churn.kpi.lost", fmt.number(summary["n_lost"], lang))]
cards += [("rate_churn", "churn.kpi.rate_undated" if undated else "churn.kpi.rate", fmt.percent(summary["rate_churn"])),
         ("rate_churn_12m", "churn.kpi.rate_12m", fmt.percent(summary["rate_churn_12m"])),
         ("n_active", "churn.kpi.active", fmt.number(summary["n_active"], lang))]
if definition == "orders":
    cards.append(("n_at_risk", "churn.kpi.at_risk", fmt.number(summary["n_at_risk"], lang)))
per_row = 3 if len(cards) > 5 else len(cards)  # whole names on the cards (six in a row cut them off)
for row in (cards[i:i + per_row] for i in range(0, len(cards), per_row)):
    for col, (_, key, value) in zip(st.columns(per_row), row):
        col.metric(t(key), value, help=t(key + ".help"), border=True)

# the headline's definition next to it, and how it reconciles with the leaky bucket (issue 14, item 5)
if not undated and not summary["n_start"]:
    st.info(t("churn.rate.no_start", start=fmt.date(start, lang), n_lost=fmt.number(summary["n_lost"], lang)))
elif not undated:
    st.caption(t("churn.rate.definition", start=fmt.date(start, lang), as_of=fmt.date(as_of, lang),
                 n_start=fmt.number(summary["n_start"], lang), n_lost_from_start=fmt.number(summary["n_lost_from_start"], lang),
                 rate=fmt.percent(summary["rate_churn"]), n_lost=fmt.number(summary["n_lost"], lang),
                 n_lost_new=fmt.number(summary["n_lost_new"], lang), rate_12m=fmt.percent(summary["rate_churn_12m"]),
                 n_customers=fmt.number(summary["n_customers"], lang), rate_any=fmt.percent(summary["rate_churn_any"])))

tabs = controls.page_tabs("churn", ("bucket", "cohorts", "survival", "drivers", "at_risk", "whatif"))

# --- 1. leaky bucket -------------------------------------------------------------------------
for _ in controls.if_open(tabs[0]):
    bucket = ui.run_query("churn_bucket", params)
    if bucket.empty or bucket["n_start"].sum() + bucket["n_new"].sum() + bucket["n_lost"].sum() == 0:
        st.info(t("churn.bucket.empty"))
    else:
        st.plotly_chart(charts.leaky_bucket(bucket, t, grain), width="stretch", key="churn_bucket_chart")
        st.plotly_chart(charts.rates(bucket, t, grain), width="stretch", key="churn_rates_chart")
        st.caption(t("churn.bucket.help"))
        shown = bucket.assign(period_start=[charts._period_label(d, grain) for d in bucket["period_start"]])
        shown = shown[["period_start", "is_complete", "n_start", "n_new", "n_reactivated", "n_lost", "n_lost_from_start",
                       "n_end", "rate_churn", "amt_revenue_lost", "rate_revenue_churn", "rate_nrr"]]
        shown = shown.rename(columns={c: c.removeprefix("n_").removeprefix("is_").replace("period_start", "period")
                                      for c in shown.columns})
        tables.show(shown, "churn_bucket.csv", "churn", kinds={"complete": "bool", "period": "text"})

# --- 2. cohorts ------------------------------------------------------------------------------
for _ in controls.if_open(tabs[1]):
    m1, m2 = st.columns(2)
    mode = m1.radio(t("churn.cohorts.mode"), churn.COHORT_MODES, format_func=lambda m: t(f"churn.cohorts.mode.{m}"),
                    key="churn_cohort_mode", bind="query-params", horizontal=True, help=t("churn.cohorts.mode.help"))
    measure = m2.radio(t("churn.cohorts.measure"), ("customers", "revenue"), horizontal=True,
                       format_func=lambda m: t(f"churn.cohorts.measure.{m}"), key="churn_cohort_measure",
                       bind="query-params", help=t("churn.cohorts.measure.help"))
    cohorts = ui.run_query("churn_cohorts", {**params, "mode": mode})
    if cohorts.empty:
        st.info(t("churn.cohorts.empty"))
    else:
        st.plotly_chart(charts.cohort_heatmap(cohorts, t, measure), width="stretch", key="churn_cohort_chart")
        st.caption(t("churn.cohorts.note_in") if mode == "in" else t("churn.cohorts.note_or_later", days=churn_days))
        tables.show(cohorts[["cohort_month", "k", "n_cohort", "n_active", "rate_customers", "amt_cohort", "amt_active",
                             "rate_revenue", "is_unfinished"]], "churn_cohorts.csv", "churn", kinds={"cohort_month": "date"},
                    height=240)

# --- 3. survival -----------------------------------------------------------------------------
for _ in controls.if_open(tabs[2]):
    group = st.selectbox(t("churn.survival.group"), churn.SURVIVAL_GROUPS, format_func=lambda g: t(f"churn.group.{g}"),
                         key="churn_group", bind="query-params", help=t("churn.survival.group.help"))
    landmark = churn.LANDMARK_DAYS
    if group == "complaint":  # a landmark, so that staying longer does not make a complainer (immortal-time bias)
        landmark = int(controls.number_setting("churn_landmark", t("churn.survival.landmark"), churn.LANDMARK_DAYS,
                                               0, 3650, 30, help=t("churn.survival.landmark.help")))
        st.caption(t("churn.survival.landmark.note", days=fmt.number(landmark, lang)))
    lifetimes = ui.run_query("churn_survival", {**params, "group": group, "landmark_days": landmark})
    lifetimes["grp"] = lifetimes["grp"].fillna(t("churn.unknown")).replace(
        {"no complaint": t("churn.no_complaint"), "complained": t("churn.complained"), "all": t("churn.group.none")})
    if lifetimes.empty:
        st.info(t("churn.survival.empty"))
    else:
        curves = churn.survival_curves(lifetimes)
        st.plotly_chart(charts.survival(curves, t), width="stretch", key="churn_survival_chart")
        st.caption(t("churn.survival.help"))
        table = churn.survival_table(lifetimes, curves)
        table["median_months"] = [fmt.number(m, lang, 1) if pd.notna(m) else t("churn.survival.not_reached")
                                  for m in table["median_months"]]
        table = table.rename(columns={
            "grp": t("churn.survival.table.group"), "n_customers": t("churn.survival.table.customers"),
            "n_lost": t("churn.survival.table.lost"), "median_months": t("churn.survival.table.median"),
            "survival_12m": t("churn.survival.table.s12")})
        tables.show(table, "churn_survival.csv", kinds={t("churn.survival.table.s12"): "pct",
                                                        t("churn.survival.table.median"): "text"})
        st.markdown(f"**{t('churn.survival.at_risk')}**")
        at_risk_counts = churn.at_risk_counts(lifetimes).pivot(index="grp", columns="months", values="n_at_risk")
        at_risk_counts.columns = [str(c) for c in at_risk_counts.columns]
        at_risk_counts.index.name = t("churn.survival.table.group")
        tables.show(at_risk_counts, "churn_survival_at_risk.csv", index=True,
                    kinds={c: "int" for c in at_risk_counts.columns})
        test = churn.logrank(lifetimes)
        if test is not None:
            verdict = t({"real": "churn.survival.differ", "too_few": "churn.survival.too_few"}.get(
                test["verdict"], "churn.survival.same"), n=survival.MIN_GROUP)
            st.markdown(t("churn.survival.logrank", chi2=fmt.number(test["chi2"], lang, 1), df=test["df"],
                          p=fmt.p_value(test["p_value"], lang), verdict=verdict))

# --- 4. drivers ------------------------------------------------------------------------------
for _ in controls.if_open(tabs[3]):
    st.subheader(t("churn.drivers.title"))
    st.caption(t("churn.drivers.help"))
    drivers = ui.run_query("churn_drivers", params)
    skipped = ui.run_query("churn_drivers_skipped", {"max_levels": churn.MAX_LEVELS})
    if len(skipped):  # said, not dropped silently
        st.caption(t("churn.drivers.skipped", max=churn.MAX_LEVELS, columns="、".join(
            f"{attribute_label(a)} ({fmt.number(n, lang)})" for a, n in zip(skipped["attribute"], skipped["n_values"]))
            if lang == "zh" else ", ".join(f"{attribute_label(a)} ({fmt.number(n, lang)})"
                                           for a, n in zip(skipped["attribute"], skipped["n_values"]))))
    if drivers.empty:
        st.info(t("churn.drivers.empty"))
    else:
        drivers["label"] = [
            (t("churn.no_complaint") if a == "complaint_category" else t("churn.unknown")) if pd.isna(v)
            else complaints.value_label(lang, "category", v) if a == "complaint_category" else v
            for a, v in zip(drivers["attribute"], drivers["value"])]
        tests = churn.attribute_tests(drivers)
        overall = float(drivers["rate_overall"].iloc[0])
        attribute = st.selectbox(t("churn.drivers.attribute"), list(tests["attribute"]), key="churn_attribute",
                                 format_func=attribute_label, bind="query-params")
        one = drivers[drivers["attribute"] == attribute]
        st.plotly_chart(charts.drivers(one, overall, t("churn.drivers.chart_title", attribute=safe.label(attribute_label(attribute)),
                                                         overall=fmt.percent(overall)), t),
                        width="stretch", key="churn_drivers_chart")
        st.markdown(f"**{t('churn.drivers.summary')}**")
        tests = tests.assign(attribute=tests["attribute"].map(attribute_label),
                             verdict=[t(f"churn.drivers.verdict.{v}") for v in tests["verdict"]])[
            ["attribute", "n_levels", "spread", "p_value", "p_adjusted", "verdict"]]
        tables.show(tests, "churn_driver_tests.csv", "churn.drivers", kinds={"spread": "pp"})
        st.caption(t("churn.drivers.holm", n=fmt.number(int(tests["p_value"].notna().sum()), lang)))
        table = drivers.assign(value=drivers["label"], attribute=drivers["attribute"].map(attribute_label))[
            ["attribute", "value", "n_customers", "n_churned", "rate_churn", "rate_diff"]]
        tables.show(table, "churn_drivers.csv", "churn.drivers", kinds={"rate_diff": "pp"})

def subscribers_at_risk() -> None:
    """Explicit churn data with a tenure: active subscribers ranked by their chance of leaving soon."""
    lifetimes = ui.run_query("churn_survival", {**params, "group": "contract"})
    by_contract = bool(lifetimes["grp"].notna().any())
    if not by_contract:
        lifetimes = ui.run_query("churn_survival", {**params, "group": "none"})
    if lifetimes.empty:
        st.info(t("churn.at_risk.explicit"))
        return
    h = churn.RISK_HORIZON_MONTHS
    st.caption(t("churn.risk.help", h=h, like=t("churn.risk.like.contract" if by_contract else "churn.risk.like.all")))
    lifetimes = lifetimes.assign(grp=lifetimes["grp"].fillna(""))
    chances = churn.leave_chances(lifetimes, churn.survival_curves(lifetimes), horizon_months=h)
    r1, r2 = st.columns(2)
    sort = r1.selectbox(t("churn.at_risk.sort"), churn.RISK_SORTS, key="churn_risk_sort", bind="query-params",
                        format_func=lambda s: t(f"churn.risk.sort.{s}"))
    page_no = int(controls.number_setting("churn_page", t("churn.at_risk.page"), 1, 1, 100_000, 1, container=r2))
    risk = {**params, "by_contract": by_contract, "sort": sort, **churn.risk_params(chances)}
    listed = ui.run_query("churn_subscription_risk", {**risk, "limit": churn.PAGE_SIZE,
                                                      "offset": (page_no - 1) * churn.PAGE_SIZE})
    if listed.empty:
        st.info(t("churn.at_risk.empty"))
        return
    n_total = int(listed["n_total"].iloc[0])
    st.markdown(t("churn.risk.summary", n=fmt.number(n_total, lang), h=h,
                  value=fmt.number(listed["amt_total_expected_loss"].iloc[0], lang), page=page_no,
                  pages=max(1, math.ceil(n_total / churn.PAGE_SIZE))))
    full = ui.run_query("churn_subscription_risk", {**risk, "limit": churn.DOWNLOAD_ROWS, "offset": 0})
    columns = [c for c in ("customer_id", "name", "p_leave", "amt_expected_loss", "amt_at_stake", "monthly_revenue",
                           "tenure_months", "contract_type", "owner", "segment", "region")
               if full[c].notna().any()]  # a subscription export often has no names or owners
    tables.show(listed[columns], "churn_subscribers_at_risk.csv", "churn", download=full[columns],
                kinds={"customer_id": "text", "tenure_months": "days"})
    st.caption(t("churn.at_risk.download_note", n=fmt.number(churn.DOWNLOAD_ROWS, lang)))


# --- 5. at-risk list -------------------------------------------------------------------------
for _ in controls.if_open(tabs[4]):
    st.subheader(t("churn.at_risk.title"))
    if definition != "orders":
        subscribers_at_risk()
    else:
        st.caption(t("churn.at_risk.help"))
        a1, a2, a3 = st.columns(3)
        sort = a1.selectbox(t("churn.at_risk.sort"), churn.AT_RISK_SORTS, key="churn_sort", bind="query-params",
                            format_func=lambda s: t(f"churn.at_risk.sort.{s}"))
        min_value = float(controls.number_setting("churn_min_value", t("churn.at_risk.min_value"), 0.0, 0.0, 1e12, 100.0,
                                            help=t("churn.at_risk.min_value.help"), container=a2))
        page_no = int(controls.number_setting("churn_page", t("churn.at_risk.page"), 1, 1, 100_000, 1, container=a3))
        risk = {**params, "min_value": min_value, "sort": sort}
        listed = ui.run_query("churn_at_risk", {**risk, "limit": churn.PAGE_SIZE, "offset": (page_no - 1) * churn.PAGE_SIZE})
        if listed.empty and page_no == 1:
            st.info(t("churn.at_risk.empty"))
        else:
            n_total = int(listed["n_total"].iloc[0]) if len(listed) else 0
            if len(listed):
                st.markdown(t("churn.at_risk.summary", n=fmt.number(n_total, lang),
                              value=fmt.number(listed["amt_total_at_stake"].iloc[0], lang), page=page_no,
                              pages=max(1, math.ceil(n_total / churn.PAGE_SIZE))))
            columns = ["customer_id", "name", "score", "amt_at_stake", "days_since", "usual_gap", "last_order", "lost_on",
                       "owner", "segment", "region", "n_orders_12m", "last_complaint_at", "last_complaint_category"]
            full = ui.run_query("churn_at_risk", {**risk, "limit": churn.DOWNLOAD_ROWS, "offset": 0})
            tables.show(listed[columns], "churn_at_risk.csv", "churn", download=full[columns],
                        kinds={"customer_id": "text", "score": "int", "days_since": "int", "usual_gap": "days",
                               "last_order": "date", "lost_on": "date", "last_complaint_at": "date"})
            st.caption(t("churn.at_risk.download_note", n=fmt.number(churn.DOWNLOAD_ROWS, lang)))

# --- 6. what-if ------------------------------------------------------------------------------
for _ in controls.if_open(tabs[5]):
    st.subheader(t("churn.whatif.title"))
    w1, w2 = st.columns(2)
    points = float(controls.number_setting("churn_whatif_points", t("churn.whatif.points"), churn.WHATIF_POINTS, 0.0, 100.0,
                                     0.5, help=t("churn.whatif.points.help"), container=w1))
    data_margin = summary["rate_margin"]
    margin_from_data = float(data_margin) if pd.notna(data_margin) else churn.DEFAULT_MARGIN
    margin_pct, margin_set = controls.data_default_setting(  # the one margin setting, shared with the loyalty CLV
        margins.KEY, t("margin.label"), round(margin_from_data * 100, 1),
        t("churn.whatif.margin.placeholder", value=fmt.percent(margin_from_data)), *margins.RANGE,
        help=t("margin.help", fallback=fmt.percent(margins.FALLBACK)), container=w2, format="%.1f")
    margin = margin_pct / 100
    w2.caption(t("churn.whatif.margin.typed" if margin_set else
                 "churn.whatif.margin.from_data" if pd.notna(data_margin) else "churn.whatif.margin.fallback",
                 value=fmt.percent(margin)))
    with st.expander(t("churn.whatif.clv_settings")):  # the Loyalty ladder's CLV settings, same address keys
        cc = st.columns(len(churn.CLV_SETTINGS))
        clv_settings = {name: controls.number_setting(f"loyalty_{name}", t(f"loyalty.set.{name}"), *loyalty.number_setting(name),
                                                      help=t(f"loyalty.set.{name}.help"), container=cc[i])
                        for i, name in enumerate(churn.CLV_SETTINGS)}
    result = churn.what_if(summary, points, margin)
    if pd.isna(summary["rate_churn_12m"]):
        st.caption(t("churn.whatif.no_rate"))
    r1, r2, r3, r4 = st.columns(4)
    r1.metric(t("churn.whatif.rate"), fmt.percent(result["rate_after"]),
              delta=fmt.signed_points(-(result["rate_churn_12m"] or 0) + (result["rate_after"] or 0), lang),
              delta_color="inverse", border=True)
    r2.metric(t("churn.whatif.kept"), fmt.number(result["n_kept"], lang), border=True)
    r3.metric(t("churn.whatif.revenue"), fmt.number(result["amt_revenue_gained"], lang), border=True)
    r4.metric(t("churn.whatif.profit"), fmt.number(result["amt_profit_gained"], lang), border=True)
    clv_row = ui.run_query("clv_basis", churn.clv_basis_params(params, margin_pct if margin_set else None)).iloc[0] \
        if definition == "orders" else None
    basis = churn.lifetime_basis(result, definition, clv_row)
    lifetime = None if result["rate_after"] is None or basis is None else churn.what_if_lifetime(
        result, basis, clv_settings, factors=ui.run_query("churn_whatif_lifetime",
                                                          churn.lifetime_params(result, basis, clv_settings)).iloc[0])
    st.markdown(t("churn.whatif.assumptions", n_active=fmt.number(result["n_active"], lang),
                  rate=fmt.percent(result["rate_churn_12m"]), after=fmt.percent(result["rate_after"]),
                  points=fmt.number(points, lang, 1), kept=fmt.number(result["n_kept"], lang),
                  per_customer=fmt.number(result["amt_revenue_per_customer"], lang), margin=fmt.percent(margin)))
    if lifetime is None:
        st.caption(t("churn.whatif.lifetime.none" if result["rate_after"] is None else "churn.whatif.lifetime.no_history"))
    else:
        money = lambda x: fmt.number(x, lang, 2)
        st.metric(t("churn.whatif.lifetime"), fmt.number(lifetime["amt_profit_gained_lifetime"], lang),
                  help=t("churn.whatif.lifetime.help"), border=True)
        source = f"churn.whatif.lifetime.{'orders' if definition == 'orders' else 'listed'}"
        st.markdown(t("churn.whatif.lifetime.explain", r_before=fmt.percent(lifetime["rate_retention_before"]),
                      r_source=t(f"{source}.r"), n_who=t(f"{source}.who"),
                      m_who=t(f"{source}.m", per_customer=money(result["amt_revenue_per_customer"]), margin=fmt.percent(margin)),
                      r_after=fmt.percent(lifetime["rate_retention_after"]),
                      points=fmt.number((result["rate_churn_12m"] - result["rate_after"]) * 100, lang, 1),
                      m=money(lifetime["amt_margin_per_customer"]),
                      risk=fmt.percent(clv_settings["risk_cost_pct"] / 100), marketing=money(clv_settings["marketing_cost"]),
                      horizon=int(clv_settings["horizon_years"]), discount=fmt.percent(clv_settings["discount_rate"] / 100),
                      clv_before=money(lifetime["amt_clv_before"]), clv_after=money(lifetime["amt_clv_after"]),
                      n_customers=fmt.number(lifetime["n_customers"], lang), gain=fmt.number(lifetime["amt_profit_gained_lifetime"], lang)))
