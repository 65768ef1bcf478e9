"""Loyalty ladder (客户忠诚度阶梯): rungs and their worth, movements, ABC, RFM, CLV, value quadrants, customers."""

import pandas as pd
import streamlit as st

from crmlens import churn, climb, controls, downloads, fmt, future_value_view, loyalty, margin, queries, tables, ui
from crmlens.charts import loyalty as charts
from crmlens.ui import t

ui.run_through_app()

snap = ui.require_data()
start, end = controls.period_filter(snap)
lang = ui.language()
filters = {f: controls.choice_filter(f, t(f"loyalty.filter.{f}"), controls.filter_options(f)) for f in loyalty.FILTERS}
coverage = loyalty.Coverage.from_row(ui.run_query("loyalty_coverage").iloc[0])
D = loyalty.DEFAULTS


def setting(name: str, container=None) -> float:
    """A loyalty_<name> setting with its default and range (loyalty.number_setting: one type, as Streamlit wants)."""
    return controls.number_setting(f"loyalty_{name}", t(f"loyalty.set.{name}"), *loyalty.number_setting(name),
                             help=t(f"loyalty.set.{name}.help"), container=container)


COLUMNS = {  # column -> its kind of cell (crmlens.fmt.cell)
    "customer_id": "text", "name": "text", "segment": "text", "channel": "text", "owner": "text", "region": "text",
    "rung": "text", "state": "text", "from_state": "text", "to_state": "text", "abc_class": "text",
    "rfm_segment": "text", "quadrant": "text", "direction": "text", "group": "text", "treatment": "text",
    "is_lapsed": "bool", "n_customers": "int", "n_lapsed": "int", "n_without_survey": "int", "n_orders": "int",
    "n_unresolved": "int", "n_referrals": "int", "n_complaints_period": "int", "days_since_order": "int",
    "n_prev_active": "int", "n_retained": "int", "n_active_year": "int",
    "share_customers": "pct", "share_value_period": "pct", "rate_retention": "pct",
    "amt_revenue_period": "money", "amt_profit_period": "money", "amt_value_period": "money", "amt_avg": "money",
    "amt_revenue_lifetime": "money", "amt_margin_lifetime": "money", "amt_value_lifetime": "money",
    "amt_clv_forward": "money", "amt_revenue_between": "money", "amt_revenue": "money", "amt_margin_year_per_active": "money",
    "last_ordered_at": "date", "latest_satisfaction": "score", "latest_nps": "score",
    "r_score": "int", "f_score": "int", "m_score": "int",
}


def show_table(df, file_name: str) -> None:
    """The table and its download in one readable form (crmlens.tables)."""
    tables.show(df, file_name, "loyalty", kinds=COLUMNS)


def labelled(df, **columns):
    """Replace code values (rungs, segments, ...) by their translated names: column=prefix."""
    return df.assign(**{c: [t(f"{prefix}.{v}") if isinstance(v, str) and v else t("loyalty.common.not_set") for v in df[c]]
                        for c, prefix in columns.items()})


def choice(name: str, options: tuple, container=None, disabled: bool = False) -> str:
    box = container or st
    value = box.segmented_control(t(f"loyalty.set.{name}"), list(options), default=D[name], required=True,
                                  format_func=lambda o: t(f"loyalty.opt.{o}"), key=f"loyalty_{name}",
                                  bind="query-params", help=t(f"loyalty.set.{name}.help"), disabled=disabled)
    return value if value in options else D[name]


st.title(t("loyalty.title"))
st.caption(t("loyalty.caption", end=fmt.date(end, lang), start=fmt.date(start, lang)))
if not coverage.knows_customers:  # only tickets loaded: no settings or tabs for a ladder of nobody
    st.info(t("loyalty.no_customers_loaded"), icon=":material/info:")
    st.stop()
controls.stop_without_orders(start, end, "loyalty.no_orders_in_period")

# --- settings, each next to what it drives (the layout is filled in once every setting is read) ---
with st.expander(t("loyalty.rules.title"), icon=":material/tune:"):
    cols = st.columns(4)
    s = {
        "min_orders_client": setting("min_orders_client", container=cols[0]),
        # lost: the churn page's rule and the same keys in the address, so both pages agree on every customer
        "churn_days": int(controls.number_setting("churn_days", t("churn.setting.days"), *churn.NUMBER_SETTINGS["churn_days"],
                                            help=t("churn.setting.days.help"), container=cols[0])),
        "churn_multiplier": float(controls.number_setting("churn_multiplier", t("churn.setting.multiplier"),
                                                    *churn.NUMBER_SETTINGS["churn_multiplier"],
                                                    help=t("churn.setting.multiplier.help"), container=cols[0])),
        "satisfaction_min": setting("satisfaction_min", container=cols[1]),
        "nps_supporter_min": setting("nps_supporter_min", container=cols[1]),
        "max_unresolved": setting("max_unresolved", container=cols[1]),
        "nps_advocate_min": setting("nps_advocate_min", container=cols[2]),
        "min_referrals": setting("min_referrals", container=cols[2]),
        "survey_days": setting("survey_days", container=cols[3]),
    }
    s["use_partner_flag"] = cols[3].toggle(t("loyalty.set.use_partner_flag"), value=D["use_partner_flag"],
                                           key="loyalty_use_partner_flag", bind="query-params",
                                           help=t("loyalty.set.use_partner_flag.help"))
rules_box = st.container()
ladder_box = st.container()
tabs = controls.page_tabs("loyalty", ("moves", "abc", "rfm", "clv", "quad", "climb", "customers", "future"))
tab_moves, tab_abc, tab_rfm, tab_clv, tab_quad, tab_climb, tab_customers, tab_future = tabs

with tab_abc:
    c = st.columns(4)
    s["measure"] = choice("measure", loyalty.MEASURES, c[0], disabled=not coverage.has_cost)
    if not coverage.has_cost:
        s["measure"] = "revenue"
    s["abc_a"] = setting("abc_a", container=c[1])
    s["abc_b"] = setting("abc_b", container=c[2])
    s["top_pct"] = setting("top_pct", container=c[3])
with tab_clv:
    c = st.columns(4)
    s["discount_rate"] = setting("discount_rate", container=c[0])
    s["horizon_years"] = setting("horizon_years", container=c[1])
    s["marketing_cost"] = setting("marketing_cost", container=c[2])
    s["risk_cost_pct"] = setting("risk_cost_pct", container=c[3])
    # the one margin setting, shared with the churn page's what-if (same address key): empty = each order's cost,
    #   else margin.FALLBACK of the revenue
    s["margin_pct"] = controls.number_setting(
        margin.KEY, t("margin.label"), None, *margin.RANGE, help=t("margin.help", fallback=fmt.percent(margin.FALLBACK)),
        container=c[0], format="%.1f",
        placeholder=t("margin.placeholder.costs" if coverage.has_cost else "margin.placeholder.fallback",
                      value=fmt.percent(margin.FALLBACK)))
with tab_quad:
    c = st.columns(4)
    s["value_pct"] = setting("value_pct", container=c[0])
    s["risk_measure"] = choice("risk_measure", loyalty.RISK_MEASURES, c[1])
    s["risk_days"] = setting("risk_days", container=c[2])
    s["risk_complaints"] = setting("risk_complaints", container=c[3])
with tab_moves:
    grain = choice("grain", loyalty.GRAINS)

p = loyalty.params(start, end, s, filters)
summary = ui.run_query("loyalty_summary", p)
part = {kind: df for kind, df in summary.groupby("kind")}
total = part["total"].iloc[0]
value_label = t(f"loyalty.word.{s['measure']}")

value_col = "amt_profit_period" if s["measure"] == "profit" else "amt_revenue_period"

# --- the ladder ---
rungs = part.get("rung")
n = 0 if pd.isna(total["n_customers"]) else int(total["n_customers"])
if not n or rungs is None:  # no customer known (only tickets loaded: the count is NULL): nothing to rank or warn about
    with ladder_box:
        st.info(t("loyalty.empty"))
    st.stop()
with rules_box:
    numbers = {k: fmt.number(v, lang) for k, v in s.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    st.caption(t("loyalty.rules.summary", **{"survey_days": fmt.number(s["survey_days"], lang), **numbers},
                 partner=t("loyalty.rules.partner_on" if s["use_partner_flag"] else "loyalty.rules.partner_off")))
    for key in coverage.blind_spots():
        st.warning(t(key), icon=":material/visibility_off:")
with ladder_box:
    upper = rungs.loc[rungs["key"].isin(loyalty.UPPER_RUNGS), "n_customers"].sum()
    cols = st.columns(4)
    cols[0].metric(t("loyalty.kpi.customers"), fmt.number(n, lang), help=t("loyalty.kpi.customers.help"), border=True)
    cols[1].metric(t("loyalty.kpi.upper"), fmt.percent(upper / n), help=t("loyalty.kpi.upper.help"), border=True)
    cols[2].metric(t("loyalty.kpi.lapsed"), fmt.number(total["n_lapsed"], lang),
                   help=t("loyalty.kpi.lapsed.help", days=s["churn_days"], multiplier=fmt.number(s["churn_multiplier"], lang, 1)), border=True)
    cols[3].metric(t("loyalty.kpi.top_share", pct=f"{s['top_pct']:g}%"), fmt.percent(total["share_value_top"]),
                   help=t("loyalty.kpi.top_share.help", measure=value_label), border=True)
    st.plotly_chart(charts.ladder(rungs, t, lang, value_col, t(f"loyalty.ladder.value.{s['measure']}")), width="stretch")
    for key in coverage.merged_rungs().values():
        st.caption(t(key))
    table = rungs.set_index("key").reindex(loyalty.RUNGS).fillna({"n_customers": 0}).reset_index()
    table = table.assign(rung=table["key"], amt_avg=table["amt_revenue_period"] / table["n_customers"].where(table["n_customers"] > 0))
    shown = ["rung", "n_customers", "share_customers", "n_lapsed", "n_without_survey", "amt_revenue_period", "amt_avg"]
    shown += ["amt_profit_period"] if coverage.has_cost else []
    with st.expander(t("loyalty.ladder.table")):
        show_table(labelled(table[shown], rung="loyalty.rung"), "loyalty_ladder.csv")

# --- movements ---
for _ in controls.if_open(tab_moves):
    moves = ui.run_query("loyalty_movements", {**p, "grain": grain})
    if moves.empty:
        st.info(t("loyalty.moves.empty"))
    else:
        st.caption(t("loyalty.moves.caption", days=s["churn_days"], multiplier=fmt.number(s["churn_multiplier"], lang, 1)))
        st.plotly_chart(charts.movement_trend(moves, t, grain, lang), width="stretch")
        ends = sorted({d.date() for d in moves["to_date"]}, reverse=True)
        pick = st.selectbox(t("loyalty.moves.pick"), [d.isoformat() for d in ends], key="loyalty_move_to",
                            bind="query-params", help=t("loyalty.moves.pick.help"))
        step = moves[moves["to_date"].dt.date.astype(str) == (pick or ends[0].isoformat())]
        from_date, to_date = step["from_date"].iloc[0].date(), step["to_date"].iloc[0].date()
        st.plotly_chart(charts.sankey(step, t, fmt.date(from_date, lang), fmt.date(to_date, lang)), width="stretch")
        matrix = step.pivot_table(index="from_state", columns="to_state", values="n_customers", aggfunc="sum", fill_value=0)
        matrix = matrix.reindex(index=[x for x in loyalty.STATES if x in matrix.index],
                                columns=[x for x in loyalty.STATES if x in matrix.columns])
        matrix.index = [t(f"loyalty.state.{x}") for x in matrix.index]
        matrix.columns = [t(f"loyalty.state.{x}") for x in matrix.columns]
        st.markdown(f"**{t('loyalty.moves.matrix', start=fmt.date(from_date, lang), end=fmt.date(to_date, lang))}**")
        tables.show(matrix.rename_axis(t("loyalty.moves.from")), "loyalty_transitions.csv", index=True,
                    kinds={c: "int" for c in matrix.columns})
        flows = step.assign(stayed=step["direction"] == "stayed").sort_values(["stayed", "n_customers"], ascending=[True, False])
        options = [f"{a}>{b}" for a, b in zip(flows["from_state"], flows["to_state"])]
        sizes = dict(zip(options, flows["n_customers"]))
        flow = st.selectbox(t("loyalty.moves.flow"), options, key="loyalty_flow", bind="query-params", help=t("loyalty.moves.flow.help"),
                            format_func=lambda o: t("loyalty.moves.flow.option", a=t(f"loyalty.state.{o.split('>')[0]}"),
                                                    b=t(f"loyalty.state.{o.split('>')[1]}")))
        if flow in sizes:
            st.caption(t("loyalty.moves.flow.count", n=fmt.number(sizes[flow], lang)))
            pages = max(1, -(-int(sizes[flow]) // loyalty.PAGE_SIZE))
            page_no = controls.number_setting("loyalty_flow_page", t("loyalty.common.page", pages=pages), 1, 1, pages, 1)
            a, b = flow.split(">")
            who = ui.run_query("loyalty_flow_customers", {**p, "from_date": from_date, "to_date": to_date, "from_state": a,
                                                          "to_state": b, "limit": loyalty.PAGE_SIZE,
                                                          "offset": (int(page_no) - 1) * loyalty.PAGE_SIZE})
            who = labelled(who.drop(columns=["n_matching", "from_state", "to_state"]),
                           from_rung="loyalty.state", to_rung="loyalty.state")  # "Lost", "Not yet known" too
            show_table(who, "loyalty_flow_customers.csv")

# --- ABC / Pareto ---
for _ in controls.if_open(tab_abc):
    abc = part.get("abc")
    if abc is None:
        st.info(t("loyalty.abc.empty"))
    else:
        st.markdown(t("loyalty.abc.sentence", pct=f"{s['top_pct']:g}%", n_top=fmt.number(total["n_top"], lang),
                      n=fmt.number(abc["n_customers"].sum(), lang), share=fmt.percent(total["share_value_top"]),
                      measure=value_label, start=fmt.date(start, lang), end=fmt.date(end, lang)))
        st.plotly_chart(charts.pareto(part["pareto"], t, s["abc_a"], s["abc_b"], s["top_pct"], value_label), width="stretch")
        show_table(labelled(abc[["key", "n_customers", "share_customers", "amt_value_period", "share_value_period"]]
                            .rename(columns={"key": "abc_class"}), abc_class="loyalty.abc.class"), "loyalty_abc.csv")

# --- RFM ---
for _ in controls.if_open(tab_rfm):
    rfm = part.get("rfm")
    if rfm is None:
        st.info(t("loyalty.rfm.empty"))
    else:
        st.caption(t("loyalty.rfm.caption"))
        left, right = st.columns([1, 1])
        left.plotly_chart(charts.rfm_grid(part["rfm_grid"], t, lang), width="stretch")
        right.plotly_chart(charts.segment_bars(rfm, list(loyalty.RFM_SEGMENTS), lambda k: t(f"loyalty.rfm.seg.{k}"),
                                               charts.SEGMENT_COLORS, "amt_revenue_period", t("loyalty.col.amt_revenue_period"),
                                               t("loyalty.rfm.bars_title"), t, lang), width="stretch")
        shown = rfm.set_index("key").reindex(loyalty.RFM_SEGMENTS).dropna(subset=["n_customers"]).reset_index()
        shown = shown.rename(columns={"key": "rfm_segment", "amt_avg_recency_days": "days_since_order"})
        show_table(labelled(shown[["rfm_segment", "n_customers", "share_customers", "amt_revenue_period", "days_since_order",
                                   "amt_clv_forward"]], rfm_segment="loyalty.rfm.seg"), "loyalty_rfm.csv")

# --- customer lifetime value ---
for _ in controls.if_open(tab_clv):
    v = loyalty.clv_formula_values(total, s)
    source = margin.source(s["margin_pct"], coverage.has_cost)
    st.caption(t(f"margin.used.{source}", value=fmt.percent(margin.rate(s["margin_pct"]) or margin.FALLBACK)))
    if v["retention"] != v["retention"] or not total["n_active_year"]:
        st.info(t("loyalty.clv.no_history"))
    else:
        money = lambda x: fmt.number(x, lang, 2)  # noqa: E731
        st.markdown(t("loyalty.clv.definition"))
        st.code(t("loyalty.clv.formula", margin=money(v["margin"]), risk=fmt.percent(v["risk"]), marketing=money(v["marketing"]),
                  retention=fmt.percent(v["retention"]), discount=fmt.percent(v["discount"]), horizon=v["horizon"],
                  factor=f"{v['factor']:.3f}", clv=money(v["clv"]), years=f"{v['years']:.2f}",
                  prev=fmt.number(total["n_prev_active"], lang), kept=fmt.number(total["n_retained"], lang),
                  active=fmt.number(total["n_active_year"], lang)), language=None)
        st.caption(t("loyalty.clv.textbook", value=fmt.number(1500 * 12 * 10, lang)))
        group = st.segmented_control(t("loyalty.clv.group"), ["segment", "channel", "rfm", "rung"], default="segment",
                                     required=True, key="loyalty_clv_group", bind="query-params",
                                     format_func=lambda g: t(f"loyalty.clv.group.{g}")) or "segment"
        groups = part.get(group)
        if groups is not None:
            prefix = {"rfm": "loyalty.rfm.seg", "rung": "loyalty.rung"}.get(group)
            groups = groups.assign(key=[t(f"{prefix}.{k}") if prefix and isinstance(k, str) else k for k in groups["key"]])
            st.plotly_chart(charts.clv_compare(groups, t, lang, t(f"loyalty.clv.group.{group}")), width="stretch")
            basis = groups["retention_basis"].iloc[0]
            st.caption(t(f"loyalty.clv.basis.{basis}", retention=fmt.percent(total["rate_retention"])))
            shown = groups.rename(columns={"key": "group"})[["group", "n_customers", "n_active_year", "n_prev_active", "n_retained",
                                                              "rate_retention", "amt_margin_year_per_active", "amt_clv_forward",
                                                              "amt_margin_lifetime"]]
            if basis != "own":  # the group's own counts would show the 100% / 0% its definition forces
                shown = shown.drop(columns=["n_prev_active", "n_retained"])
            show_table(shown.fillna({"group": t("loyalty.common.not_set")}), f"loyalty_clv_{group}.csv")

# --- value quadrants ---
for _ in controls.if_open(tab_quad):
    quads = part.get("quadrant")
    if quads is None:
        st.info(t("loyalty.quad.empty"))
    else:
        risk_label = (t("loyalty.quad.risk.complaints", n=s["risk_complaints"]) if s["risk_measure"] == "complaints"
                      else t("loyalty.quad.risk.recency", days=s["risk_days"]))
        st.caption(t("loyalty.quad.caption", pct=f"{s['value_pct']:g}", measure=value_label, risk=risk_label))
        if s["risk_measure"] == "recency":  # risk measured by recency: the high-risk customers have stopped buying
            st.caption(t("loyalty.quad.recency_note", days=s["risk_days"]))
        st.plotly_chart(charts.quadrants(quads, t, lang, t("loyalty.quad.value_axis", measure=value_label), risk_label,
                                         s["risk_measure"]), width="stretch")
        shown = quads.set_index("key").reindex(loyalty.QUADRANTS).dropna(subset=["n_customers"]).reset_index()
        shown = shown.assign(quadrant=shown["key"], treatment=[t(loyalty.treatment_key(q, s["risk_measure"])) for q in shown["key"]])
        show_table(labelled(shown[["quadrant", "n_customers", "share_customers", "amt_value_lifetime", "amt_clv_forward", "treatment"]],
                            quadrant="loyalty.quad"), "loyalty_quadrants.csv")

# --- the ladder as an investment: climbs, what they are worth and cost, next to the triage per rung ---
for _ in controls.if_open(tab_climb):
    st.caption(t("climb.caption"))
    c = st.columns(len(climb.COST_DEFAULTS))
    costs = {r: float(controls.number_setting(climb.cost_key(r), t("climb.set.cost", rung=t(f"loyalty.rung.{r}")),
                                              float(d), *map(float, climb.COST_RANGE), help=t("climb.set.cost.help"),
                                              container=c[i]))
             for i, (r, d) in enumerate(climb.COST_DEFAULTS.items())}
    climbs = ui.run_query("loyalty_climb", p)
    if not climbs["n_entered"].sum():
        st.info(t("climb.too_short"))
    else:
        worth = climb.worth(climbs, summary, costs)
        st.plotly_chart(charts.climb(worth, t, lang), width="stretch")
        shown = worth.assign(is_paying=[t(climb.verdict_key(x)) for x in worth["is_paying"]])
        cols = ["from_rung", "to_rung", "n_entered", "n_climbed", "rate_12m", "median_days", "n_too_recent", "amt_clv_from",
                "amt_clv_to", "amt_value_climb", "amt_cost_climb", "amt_net_climb", "is_paying"]
        tables.show(shown[cols], "loyalty_climb.csv", "climb", kinds={"is_paying": "text"},
                    codes={"from_rung": "loyalty.rung", "to_rung": "loyalty.rung"})
        for r in worth.itertuples(index=False):
            if r.n_entered and r.is_paying is None:
                st.markdown(t("climb.sentence.unknown", a=t(f"loyalty.rung.{r.from_rung}"), b=t(f"loyalty.rung.{r.to_rung}"),
                              rate=fmt.percent(r.rate_12m)))
            elif r.n_entered:
                st.markdown(t("climb.sentence.pays" if r.is_paying else "climb.sentence.loses",
                              a=t(f"loyalty.rung.{r.from_rung}"), b=t(f"loyalty.rung.{r.to_rung}"),
                              rate=fmt.percent(r.rate_12m), value=fmt.number(r.amt_value_climb, lang),
                              cost=fmt.number(r.amt_cost_climb, lang), net=fmt.number(abs(r.amt_net_climb), lang)))
    st.subheader(t("climb.triage.title"))
    st.caption(t("climb.triage.caption"))
    tri = climb.triage(ui.run_query("loyalty_triage", p))
    tri.index = [t(f"loyalty.rung.{r}") for r in tri.index]
    tri.columns = [t(f"climb.triage.{c}") for c in tri.columns]
    st.dataframe(tri, width="stretch", placeholder=tables.MISSING)
    controls.download_csv(tri.rename_axis(t("loyalty.col.rung")).reset_index(), "loyalty_triage.csv")

# --- customers ---
for _ in controls.if_open(tab_customers):
    c = st.columns([2, 2, 1, 1])
    search = c[0].text_input(t("loyalty.cust.search"), key="loyalty_q", bind="query-params", placeholder=t("loyalty.cust.search.hint"))
    states = c[1].multiselect(t("loyalty.cust.states"), [*loyalty.RUNGS, "lost"], key="loyalty_states", bind="query-params",
                              format_func=lambda x: t(f"loyalty.state.{x}"), placeholder=t("filter.all"))
    sort = c[2].selectbox(t("loyalty.cust.sort"), loyalty.SORTS, key="loyalty_sort", bind="query-params",
                          format_func=lambda x: t(f"loyalty.cust.sort.{x}"))
    c = st.columns(3)
    abc_classes = c[0].multiselect(t("loyalty.cust.abc"), loyalty.ABC_CLASSES, key="loyalty_abc", bind="query-params",
                                   placeholder=t("filter.all"))
    segs = c[1].multiselect(t("loyalty.cust.rfm"), loyalty.RFM_SEGMENTS, key="loyalty_rfm", bind="query-params",
                            format_func=lambda x: t(f"loyalty.rfm.seg.{x}"), placeholder=t("filter.all"))
    quad_pick = c[2].multiselect(t("loyalty.cust.quad"), loyalty.QUADRANTS, key="loyalty_quad", bind="query-params",
                                 format_func=lambda x: t(f"loyalty.quad.{x}"), placeholder=t("filter.all"))
    query = {**p, "search": (search or "").strip(), "states": states, "abc_classes": abc_classes, "rfm_segments": segs,
             "quadrants": quad_pick, "sort": sort or "lifetime"}
    first = ui.run_query("loyalty_customers", {**query, "limit": loyalty.PAGE_SIZE, "offset": 0})
    n_match = int(first["n_matching"].iloc[0]) if len(first) else 0
    pages = max(1, -(-n_match // loyalty.PAGE_SIZE))
    page_no = int(c[0].number_input(t("loyalty.common.page", pages=pages), 1, pages, 1, key="loyalty_page") if pages > 1 else 1)
    rows = first if page_no == 1 else ui.run_query("loyalty_customers", {**query, "limit": loyalty.PAGE_SIZE,
                                                                          "offset": (page_no - 1) * loyalty.PAGE_SIZE})
    st.caption(t("loyalty.cust.count", n=fmt.number(n_match, lang), page=page_no, pages=pages))
    rows = labelled(rows.drop(columns=["n_matching"]), rung="loyalty.rung", rfm_segment="loyalty.rfm.seg", quadrant="loyalty.quad")
    table = tables.Table(rows, "loyalty", kinds=COLUMNS)
    st.dataframe(table.styler(), hide_index=True, width="stretch", column_config=table.column_config(),
                 placeholder=tables.MISSING)
    snapshot = ui.snapshot()
    codes = {"rung": "loyalty.rung", "rfm_segment": "loyalty.rfm.seg", "quadrant": "loyalty.quad"}

    def export_rows() -> bytes:  # runs when the button is clicked, on its own thread: no session state here
        full = queries.run("loyalty_customers", {**query, "limit": loyalty.EXPORT_LIMIT, "offset": 0}, snap=snapshot)
        return tables.Table(full.drop(columns=["n_matching"]), "loyalty", kinds=COLUMNS, codes=codes, lang=lang).csv()

    downloads.button(t("loyalty.cust.download", n=fmt.number(min(n_match, loyalty.EXPORT_LIMIT), lang)), export_rows,
                     file_name="loyalty_customers.csv", icon=":material/download:",
                     key="loyalty_customers_download", help=t("loyalty.cust.download.help", limit=fmt.number(loyalty.EXPORT_LIMIT, lang)))

# --- future value (BG/NBD + Gamma-Gamma, calibration ending at the period end) ---
for _ in controls.if_open(tab_future):  # fitted only when asked for: seconds on a large customer base
    future_value_view.show(end, p)
