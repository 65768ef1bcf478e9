"""Sales funnel (销售漏斗): where deals are lost, how fast they move, who converts."""

import streamlit as st

from crmlens import controls, fmt, forecast_view, funnel, safe, tables, ui
from crmlens.charts import funnel as charts
from crmlens.ui import t

ui.run_through_app()

snap = ui.require_data()
lang = ui.language()
PAGE_SIZE = funnel.LIST_PAGE_SIZE
STAGES, WON, LOST, PICKED = "funnel_stages", "funnel_won", "funnel_lost", "funnel_stage"

start, end = controls.period_filter(snap)
filters = {
    "owner": controls.choice_filter("owner", t("funnel.filter.owner"), list(dict.fromkeys(
        o for dimension in funnel.OWNER_OPTIONS for o in controls.filter_options(dimension)))),
    "source": controls.choice_filter("source", t("funnel.filter.source"), controls.filter_options("source")),
    "segment": controls.choice_filter("segment", t("funnel.filter.segment"), controls.filter_options("segment")),
    "region": controls.choice_filter("region", t("funnel.filter.region"), controls.filter_options("region")),
}

st.title(t("funnel.title"))
st.caption(t("funnel.caption", start=fmt.date(start, lang), end=fmt.date(end, lang),
             filters=t("funnel.caption.filtered") if any(filters.values()) else ""))

vocab = ui.run_query("funnel_stage_vocab")
if vocab.empty:
    st.info(t("funnel.no_opportunities"))
    st.stop()
labels = dict(zip(vocab["stage_key"], vocab["label"]))
keys = list(vocab["stage_key"])
proposed_order, proposed_won, proposed_lost = funnel.propose(vocab)


def _move(stage: str, step: int) -> None:
    order = list(st.session_state[STAGES])
    i = order.index(stage)
    j = min(max(i + step, 0), len(order) - 1)
    order.insert(j, order.pop(i))
    st.session_state[STAGES] = order


def _reset() -> None:
    st.session_state[STAGES], st.session_state[WON], st.session_state[LOST] = proposed_order, proposed_won, proposed_lost


def _pick_stage(step_keys: list[str]) -> None:
    points = st.session_state["funnel_chart"].selection.get("points", [])
    if points:
        st.session_state[PICKED] = step_keys[points[0]["point_index"]]


with st.expander(t("funnel.settings.title"), icon=":material/tune:"):
    st.caption(t("funnel.settings.intro"))
    order = st.multiselect(t("funnel.settings.order"), keys, default=proposed_order, format_func=labels.get,
                           key=STAGES, bind="query-params", help=t("funnel.settings.order.help"))
    left, right = st.columns(2)
    won = left.multiselect(t("funnel.settings.won"), keys, default=proposed_won, format_func=labels.get,
                           key=WON, bind="query-params", help=t("funnel.settings.won.help"))
    lost = right.multiselect(t("funnel.settings.lost"), keys, default=proposed_lost, format_func=labels.get,
                             key=LOST, bind="query-params", help=t("funnel.settings.lost.help"))
    if order:
        pick, earlier, later, reset = st.columns([3, 1, 1, 2], vertical_alignment="bottom")
        moving = pick.selectbox(t("funnel.settings.move"), order, format_func=labels.get, key="funnel_move")
        earlier.button(t("funnel.settings.earlier"), icon=":material/arrow_upward:", on_click=_move, args=(moving, -1),
                       width="stretch")
        later.button(t("funnel.settings.later"), icon=":material/arrow_downward:", on_click=_move, args=(moving, 1),
                     width="stretch")
        reset.button(t("funnel.settings.reset"), icon=":material/restart_alt:", on_click=_reset, width="stretch")
    # the conversion window, as funnel tools have it: won within N days of creation (0 = no window)
    window_days = int(controls.number_setting("funnel_window", t("funnel.window"), 0, 0, 3650, 30,
                                              help=t("funnel.window.help")))
    if overlap := [labels[k] for k in won if k in lost]:
        st.warning(t("funnel.settings.overlap", stages=safe.md_list(overlap)))

won = [k for k in won if k not in lost]
steps_keys = [k for k in order if k not in lost]
if not steps_keys:
    st.info(t("funnel.settings.no_steps"))
    st.stop()
date_columns = funnel.stage_date_columns(list(ui.run_query("funnel_columns")["column_name"]),
                                         [k for k in steps_keys if k not in won])
include_undated = funnel.covers_all_data(snap, start, end, ui.run_query("data_span"))  # undated opportunities count in the whole-data view only
params = funnel.params(start, end, order, won, lost, date_columns, include_undated, window_days, **filters)

summary = ui.run_query("funnel_summary", params).iloc[0]
n = int(summary["n_opportunities"])
if n == 0:
    st.info(t("funnel.empty_period"))
    st.stop()

# Which "reached a stage" rule applied, and what was left out.
parts = [t(f"funnel.rule.{rule}", n=fmt.number(summary[f"n_rule_{rule}"], lang),
           columns=", ".join(f"{safe.md(c)} → {safe.md(labels[s])}" for c, s in date_columns.items()))
         for rule in funnel.RULES if summary[f"n_rule_{rule}"]]
st.info(t("funnel.rule.title", n=fmt.number(n, lang)) + "\n" + "\n".join(f"- {p}" for p in parts), icon=":material/rule:")
if summary["n_outside_order"]:
    st.warning(t("funnel.warn.outside", n=fmt.number(summary["n_outside_order"], lang),
                 stages=safe.md_list(summary["outside_stages"])))
if summary["n_lost"] == 0 and summary["n_won"] > 0:
    st.warning(t("funnel.warn.no_lost"))
if summary["n_no_amount"]:
    st.caption(t("funnel.warn.no_amount", n=fmt.number(summary["n_no_amount"], lang)))
# opportunities without a creation date: dated by their earliest date, or "undated" (issue 14, item 10)
if summary["n_dated_first_stage"] or summary["n_dated_close"]:
    st.caption(t("funnel.dated.other", n_stage=fmt.number(summary["n_dated_first_stage"], lang),
                 n_close=fmt.number(summary["n_dated_close"], lang)))
if summary["n_undated"]:
    st.caption(t("funnel.dated.undated_in" if include_undated else "funnel.dated.undated_out",
                 n=fmt.number(summary["n_undated"], lang)))

CARDS = [  # (label key, value, help values)
    ("funnel.kpi.opportunities", fmt.number(n, lang), {}),
    ("funnel.kpi.won", fmt.number(summary["n_won"], lang), {}),
    ("funnel.kpi.lost", fmt.number(summary["n_lost"], lang), {}),
    ("funnel.kpi.open", fmt.number(summary["n_open"], lang), {}),
    ("funnel.kpi.win_rate", fmt.percent(summary["rate_win"]), {}),
    ("funnel.kpi.avg_won", fmt.number(summary["amt_avg_won"], lang), {}),
    ("funnel.kpi.cycle", t("funnel.kpi.days", days=fmt.number(summary["days_avg_cycle"], lang, 1)),
     {"median": fmt.number(summary["days_median_cycle"], lang, 1)}),
    # the unit in the label: a long "12,345 / day" would not fit the card
    ("funnel.kpi.velocity", fmt.number(summary["amt_velocity_per_day"], lang),
     {"month": fmt.number(summary["amt_velocity_per_day"] * 30, lang)}),
]
for row in (CARDS[:4], CARDS[4:]):
    for col, (key, value, help_values) in zip(st.columns(len(row)), row):
        col.metric(t(key), value, help=t(f"{key}.help", **help_values), border=True)

# the win rate is on closed deals: the share still open beside it, and the conversion window when one is set
st.caption(t("funnel.win_rate.definition", rate=fmt.percent(summary["rate_win"]),
             closed=fmt.number(summary["n_won"] + summary["n_lost"], lang), n_open=fmt.number(summary["n_open"], lang),
             share_open=fmt.percent(summary["rate_open"]), n=fmt.number(n, lang)))
if window_days:
    st.caption(t("funnel.window.result", days=fmt.number(window_days, lang), won=fmt.number(summary["n_won_in_window"], lang),
                 n=fmt.number(summary["n_window_elapsed"], lang), rate=fmt.percent(summary["rate_win_window"]),
                 as_of=fmt.date(summary["window_as_of"], lang), left=fmt.number(n - int(summary["n_undated_in"])
                                                                              - int(summary["n_window_elapsed"]), lang)))

percent = st.column_config.NumberColumn(format="percent")
tab_funnel, tab_speed, tab_trend, tab_groups, tab_owners, tab_forecast = controls.page_tabs(
    "funnel", ("funnel", "speed", "trend", "breakdown", "owners", "forecast"))

for _ in controls.if_open(tab_funnel):
    steps = ui.run_query("funnel_stage_counts", params)
    steps["label"] = steps["stage_key"].map(labels)
    st.plotly_chart(charts.funnel(steps, t, lang), width="stretch", key="funnel_chart", selection_mode="points",
                    on_select=lambda step_keys=list(steps["stage_key"]): _pick_stage(step_keys))
    st.caption(t("funnel.chart.select_hint"))
    st.subheader(t("funnel.steps.title"), help=t("funnel.steps.help"))
    table = steps[["label", "n_reached", "amt_reached", "rate_step", "rate_overall", "n_dropped", "amt_dropped",
                   "rate_dropped", "n_open_here", "n_lost_here", "n_reached_no_amount"]].pipe(tables.renamed, {
        "label": t("funnel.col.stage"), "n_reached": t("funnel.col.reached"), "amt_reached": t("funnel.col.value"),
        "rate_step": t("funnel.col.rate_step"), "rate_overall": t("funnel.col.rate_overall"),
        "n_dropped": t("funnel.col.dropped"), "amt_dropped": t("funnel.col.dropped_value"),
        "rate_dropped": t("funnel.col.rate_dropped"), "n_open_here": t("funnel.col.open_here"),
        "n_lost_here": t("funnel.col.lost_here"), "n_reached_no_amount": t("funnel.col.no_amount")})
    tables.show(table, "funnel_steps.csv")

    st.subheader(t("funnel.list.title"))
    pick, show, page_no = st.columns([2, 2, 1], vertical_alignment="bottom")
    list_stage = pick.selectbox(t("funnel.list.stage"), steps_keys, format_func=labels.get, key=PICKED,
                                bind="query-params")
    mode = show.segmented_control(t("funnel.list.show"), ["reached", "dropped"], default="reached",
                                  format_func=lambda m: t(f"funnel.list.{m}"), key="funnel_show",
                                  bind="query-params", required=True)
    controls.drop_infinite_link_value("funnel_page")
    page = page_no.number_input(t("funnel.list.page"), min_value=1, value=1, step=1, key="funnel_page",
                                bind="query-params", help=t("funnel.list.page.help", size=PAGE_SIZE))
    listed = ui.run_query("funnel_opportunities", {**params, "list_stage": list_stage, "list_mode": mode,
                                                   "limit": PAGE_SIZE, "offset": (int(page) - 1) * PAGE_SIZE})
    if listed.empty:
        st.caption(t("funnel.list.none"))
    else:
        total = int(listed["n_total"].iloc[0])
        st.caption(t("funnel.list.showing", first=(int(page) - 1) * PAGE_SIZE + 1,
                     last=(int(page) - 1) * PAGE_SIZE + len(listed), total=fmt.number(total, lang)))
        shown = listed.drop(columns="n_total").assign(
            status=listed["status"].map(lambda s: t(f"funnel.status.{s}")),
            rule=listed["rule"].map(lambda r: t(f"funnel.rule_short.{r}"))).pipe(tables.renamed, {
                "opportunity_id": t("funnel.col.opportunity_id"), "customer_id": t("funnel.col.customer_id"),
                "stage": t("funnel.col.current_stage"), "status": t("funnel.col.status"),
                "amount": t("funnel.col.amount"), "owner": t("funnel.col.owner"), "source": t("funnel.col.source"),
                "product": t("funnel.col.product"), "segment": t("funnel.col.segment"),
                "region": t("funnel.col.region"), "created_date": t("funnel.col.created"),
                "closed_on": t("funnel.col.closed"), "rule": t("funnel.col.rule")})
        tables.show(shown, f"funnel_opportunities_{list_stage}_{mode}_p{int(page)}.csv")

for _ in controls.if_open(tab_speed):
    times = ui.run_query("funnel_stage_times", params)
    times["label"] = times["stage_key"].map(labels)
    n_no_steps = int(times["n_no_steps"].iloc[0]) if len(times) else 0
    if n_no_steps:  # no fake step times: a creation-to-close span is a whole cycle, not the time in one step
        st.caption(t("funnel.times.no_steps", n=fmt.number(n_no_steps, lang)))
    if times["n_moved"].sum() == 0:
        st.info(t("funnel.times.empty"))
    else:
        st.plotly_chart(charts.stage_times(times, t), width="stretch")
        st.caption(t("funnel.times.help"))
        table = times[["label", "n_moved", "days_median", "days_p90", "days_mean"]].pipe(tables.renamed, {
            "label": t("funnel.col.stage"), "n_moved": t("funnel.times.n"), "days_median": t("funnel.times.median"),
            "days_p90": t("funnel.times.p90"), "days_mean": t("funnel.times.mean")}).round(1)
        tables.show(table, "funnel_stage_times.csv")

for _ in controls.if_open(tab_trend):
    cohorts = ui.run_query("funnel_cohorts", params)
    st.plotly_chart(charts.cohorts(cohorts, t), width="stretch")
    st.caption(t("funnel.cohort.help"))
    table = cohorts.assign(month_start=cohorts["month_start"].dt.strftime("%Y-%m")).pipe(tables.renamed, {
        "month_start": t("funnel.cohort.month"), "n_created": t("funnel.cohort.n_created"),
        "n_won": t("funnel.col.won"), "n_lost": t("funnel.col.lost"), "n_open": t("funnel.col.open"),
        "amt_created": t("funnel.cohort.amt_created"), "amt_won": t("funnel.cohort.amt_won"),
        "rate_win": t("funnel.cohort.rate_win"), "rate_conversion": t("funnel.cohort.rate_conversion"),
        "rate_open": t("funnel.cohort.rate_open")})
    tables.show(table, "funnel_cohorts.csv")

for _ in controls.if_open(tab_groups):
    by_col, top_col = st.columns([2, 1])
    # The five dimensions, then the columns side files add (an owner's manager, a product's series), as named.
    named = lambda d: t(f"funnel.dim.{d}") if d in funnel.BREAKDOWN_DIMENSIONS else d  # noqa: E731
    by = by_col.selectbox(t("funnel.breakdown.by"),
                          [*funnel.BREAKDOWN_DIMENSIONS, *ui.run_query("funnel_attributes")["column_name"]],
                          key="funnel_by", bind="query-params", format_func=named, help=t("funnel.breakdown.by.help"))
    top_n = int(controls.number_setting("funnel_top", t("funnel.breakdown.top"), 5, 1, 10, 1,
                                  help=t("funnel.breakdown.top.help"), container=top_col))
    dimension = named(by)
    groups = funnel.significance(ui.run_query("funnel_breakdown", {**params, "by": by}))
    groups["grp"] = groups["grp"].fillna(t("funnel.none"))
    st.subheader(t("funnel.breakdown.title", dimension=dimension),
                 help=t("funnel.breakdown.help", min_n=funnel.MIN_GROUP_SIZE))
    differs = groups[groups["verdict"].isin(["higher", "lower"])]
    st.markdown(t("funnel.breakdown.differs", groups="; ".join(
        f"**{safe.md(g)}** ({t('funnel.verdict.' + v)}, {fmt.percent(r)} vs {fmt.percent(rest)})"
        for g, v, r, rest in zip(differs["grp"], differs["verdict"], differs["rate_win"], differs["rate_win_rest"])))
        if len(differs) else t("funnel.breakdown.no_differs"))
    table = groups.assign(verdict=groups["verdict"].map(lambda v: t(f"funnel.verdict.{v}")))[[
        "grp", "n_opportunities", "amt_value", "n_won", "n_lost", "n_open", "amt_won", "amt_open_pipeline", "rate_win",
        "rate_win_rest", "rate_conversion", "days_avg_cycle", "verdict", "p_adjusted"]].pipe(tables.renamed, {
            "grp": dimension, "n_opportunities": t("funnel.col.opportunities"), "amt_value": t("funnel.col.amt_value"),
            "n_won": t("funnel.col.won"), "n_lost": t("funnel.col.lost"), "n_open": t("funnel.col.open"),
            "amt_won": t("funnel.col.amt_won"), "amt_open_pipeline": t("funnel.col.pipeline"),
            "rate_win": t("funnel.col.rate_win"), "rate_win_rest": t("funnel.col.rate_win_rest"),
            "rate_conversion": t("funnel.col.rate_conversion"), "days_avg_cycle": t("funnel.col.cycle"),
            "verdict": t("funnel.col.verdict"), "p_adjusted": t("funnel.col.p_adjusted")})
    tables.show(table, f"funnel_by_{by}.csv")
    tops = ui.run_query("funnel_breakdown_stages", {**params, "by": by, "top_n": top_n})
    tops["label"] = tops["stage_key"].map(labels)
    tops["grp_label"] = tops["grp"].fillna(t("funnel.none"))
    st.plotly_chart(charts.group_funnels(tops, t, dimension), width="stretch")

for _ in controls.if_open(tab_owners):
    st.subheader(t("funnel.owner.title"), help=t("funnel.owner.help"))
    share = controls.number_setting("funnel_risk_share", t("funnel.owner.threshold"), funnel.OWNER_SHARE_LIMIT_PCT, 1.0, 100.0, 1.0,
                              help=t("funnel.owner.threshold.help")) / 100
    owners = ui.run_query("funnel_owner_risk", {**params, "risk_share": share})
    flagged = owners.loc[owners["is_concentrated"], "owner"]
    if not len(owners) or not (owners["amt_revenue"].fillna(0) > 0).any():
        # no revenue to share out: "no owner holds 15% of it" would be a green light on nothing
        st.info(t("funnel.owner.no_revenue"), icon=":material/help:")
    elif len(flagged):
        st.warning(t("funnel.owner.flagged", owners=safe.md_list(flagged), share=fmt.percent(share, 0)))
    else:
        st.success(t("funnel.owner.none_flagged", share=fmt.percent(share, 0)))
    if len(owners):
        st.plotly_chart(charts.owner_shares(owners, t, share), width="stretch")
    table = owners.assign(is_concentrated=owners["is_concentrated"].map(
        lambda f: t("funnel.flag.yes" if f else "funnel.flag.no"))).pipe(tables.renamed, {
            "owner": t("funnel.col.owner"), "n_open": t("funnel.col.open"), "amt_open_pipeline": t("funnel.col.pipeline"),
            "n_won": t("funnel.col.won"), "n_lost": t("funnel.col.lost"), "rate_win": t("funnel.col.rate_win"),
            "n_customers": t("funnel.col.n_customers"), "n_buying_customers": t("funnel.col.n_buying_customers"),
            "amt_revenue": t("funnel.col.amt_revenue"), "rate_revenue_share": t("funnel.owner.rate_revenue_share"),
            "is_concentrated": t("funnel.col.flag")})
    tables.show(table, "funnel_owner_risk.csv")

# --- forecast: the pipeline open at the period end, weighted by each step's win rate; targets ---
for _ in controls.if_open(tab_forecast):
    forecast_view.show(end, order, won, lost, filters.get("owner") or [], labels)
