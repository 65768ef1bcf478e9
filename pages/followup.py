"""Follow-up and handover (回访与交接): who is followed up after an order, complaint or won deal, what it is
worth, who still waits for a call; and the books of salespeople who left."""

import pandas as pd
import streamlit as st

from crmlens import churn, controls, departures, downloads, fmt, followup, queries, safe, survival, tables, ui
from crmlens.charts import churn as churn_charts
from crmlens.charts import followup as charts
from crmlens.ui import t

ui.run_through_app()

snap = ui.require_data()
start, end = controls.period_filter(snap)
lang = ui.language()
owners = controls.choice_filter("owner", t("followup.filter.owner"), controls.filter_options("owner"))

def show(df: pd.DataFrame, file_name: str) -> None:
    tables.show(df, file_name, "followup")


def setting(key: str, ranges: dict, container) -> int:
    return int(controls.number_setting(key, t(f"followup.set.{key}"), *ranges[key], help=t(f"followup.set.{key}.help"),
                                       container=container))


st.title(t("followup.title"))
st.caption(t("followup.caption", start=fmt.date(start, lang), end=fmt.date(end, lang)))
c = st.columns(4)
days = setting("followup_days", followup.SETTING_RANGES, c[0])
outcome_days = setting("followup_outcome_days", followup.SETTING_RANGES, c[1])
churn_days = int(controls.number_setting("churn_days", t("churn.setting.days"), *churn.NUMBER_SETTINGS["churn_days"],
                                         help=t("churn.setting.days.help"), container=c[2]))
multiplier = float(controls.number_setting("churn_multiplier", t("churn.setting.multiplier"),
                                           *churn.NUMBER_SETTINGS["churn_multiplier"],
                                           help=t("churn.setting.multiplier.help"), container=c[3]))
p = followup.params(start, end, days, outcome_days, owners, churn_days, multiplier,
                    **followup.stage_lists(ui.run_query("funnel_stage_vocab")))

# --- 1. follow-up coverage (回访) -------------------------------------------------------------
st.header(t("followup.coverage.title"), anchor="follow-up")
coverage = ui.run_query("followup_coverage", p)
total = coverage[coverage["dim"] == "total"]
n_activities = int(total["n_activities"].iloc[0]) if len(total) and pd.notna(total["n_activities"].iloc[0]) else 0
if not n_activities:
    st.info(t("followup.no_activities"))
elif total["n_events"].iloc[0] == 0:
    st.info(t("followup.no_events", days=days))
else:
    row = total.iloc[0]
    st.caption(t("followup.coverage.caption", days=days, n=fmt.number(row["n_events"], lang),
                 pending=fmt.number(row["n_pending"], lang)))
    k = st.columns(4)
    k[0].metric(t("followup.kpi.coverage"), fmt.percent(row["rate_coverage"]), help=t("followup.kpi.coverage.help", days=days),
                border=True)
    k[1].metric(t("followup.kpi.delay"), f"{fmt.number(row['median_delay_days'], lang, 1)} {t('followup.unit.days')}",
                help=t("followup.kpi.delay.help"), border=True)
    k[2].metric(t("followup.kpi.never"), fmt.percent(row["n_customers_never"] / row["n_customers"]),
                help=t("followup.kpi.never.help", n=fmt.number(row["n_customers_never"], lang),
                       of=fmt.number(row["n_customers"], lang)), border=True)
    k[3].metric(t("followup.kpi.always"), fmt.percent(row["n_customers_always"] / row["n_customers"]),
                help=t("followup.kpi.always.help", n=fmt.number(row["n_customers_always"], lang)), border=True)
    st.caption(t("followup.seed"))
    by_owner = coverage[coverage["dim"] == "owner"].fillna({"key": t("followup.not_set")})
    by_month = coverage[coverage["dim"] == "month"]
    left, right = st.columns(2)
    left.plotly_chart(charts.coverage_bars(by_owner, t, float(row["rate_coverage"])), width="stretch")
    right.plotly_chart(charts.coverage_trend(by_month, t), width="stretch")
    table = coverage[coverage["dim"].isin(["owner", "kind"])].copy()
    table["key"] = [t(f"followup.kind.{k}") if d == "kind" else (k if isinstance(k, str) else t("followup.not_set"))
                    for d, k in zip(table["dim"], table["key"])]
    table["dim"] = [t(f"followup.dim.{d}") for d in table["dim"]]
    table = table.assign(share_never=table["n_customers_never"] / table["n_customers"].where(table["n_customers"] > 0),
                         share_always=table["n_customers_always"] / table["n_customers"].where(table["n_customers"] > 0))
    with st.expander(t("followup.coverage.table")):
        show(table[["dim", "key", "n_events", "n_followed", "rate_coverage", "median_delay_days", "n_customers",
                    "share_never", "share_always", "n_pending"]], "followup_coverage.csv")

    # payoff: followed up against not, same eligibility and window
    st.subheader(t("followup.payoff.title"))
    payoff = ui.run_query("followup_payoff", p)
    st.caption(t("followup.payoff.caption", days=days, outcome=outcome_days, churn_days=churn_days,
                 multiplier=fmt.number(multiplier, lang, 1)))
    if set(payoff["grp"]) != set(followup.GROUPS):
        st.info(t("followup.payoff.too_few", days=days + outcome_days))
    else:
        shown = payoff.assign(grp=[t(f"followup.grp.{g}") for g in payoff["grp"]])
        show(shown[["grp", "n_customers", "n_churned", "rate_churn", "n_repeat", "rate_repeat", "n_surveyed",
                    "avg_satisfaction"]], "followup_payoff.csv")
        for measure, (verdict, p_value) in followup.verdicts(payoff).items():
            key = "too_few_to_tell" if verdict == "too_few" else verdict  # followup.payoff.too_few: no groups at all
            st.markdown(t(f"followup.payoff.{key}", measure=t(f"followup.measure.{measure}"),
                          p=fmt.p_value(p_value, lang), n=survival.MIN_GROUP))

    # the work list
    st.subheader(t("followup.work.title"))
    work = ui.run_query("followup_worklist", p)
    n_total = int(work["n_total"].iloc[0]) if len(work) else 0
    st.caption(t("followup.work.caption", days=days, n=fmt.number(n_total, lang), shown=fmt.number(len(work), lang)))
    if not len(work):
        st.success(t("followup.work.empty", days=days))
    else:
        codes = {"kind": "followup.kind"}
        table = tables.Table(work.drop(columns=["n_total"]), "followup", codes=codes)
        st.dataframe(table.styler(), hide_index=True, width="stretch", column_config=table.column_config(),
                     placeholder=tables.MISSING)
        snapshot = ui.snapshot()
        full_params = {**p, "limit": followup.EXPORT_ROWS}

        def export_rows() -> bytes:  # runs on click, on its own thread: no session state here
            full = queries.run("followup_worklist", full_params, snap=snapshot)
            return tables.Table(full.drop(columns=["n_total"]), "followup", codes=codes, lang=lang).csv()

        downloads.button(t("followup.work.download", n=fmt.number(min(n_total, followup.EXPORT_ROWS), lang)), export_rows,
                         file_name="followup_worklist.csv", key="followup_worklist_download", icon=":material/download:")

# --- 2. departures (客户随着销售员的流失而流失) ------------------------------------------------
st.header(t("departures.title"), anchor="departures")
c = st.columns(4)
inactive = setting("departure_inactive_days", departures.SETTING_RANGES, c[0])
window = setting("departure_window_days", departures.SETTING_RANGES, c[1])
dp = departures.params(end, inactive, window, churn_days, multiplier)
found = ui.run_query("departures", dp)
st.caption(t("departures.caption", days=inactive, window=window, churn_days=churn_days,
             multiplier=fmt.number(multiplier, lang, 1)))
if not n_activities:
    st.caption(t("departures.no_activities"))
if not len(found):
    st.info(t("departures.none", days=inactive))
else:
    shown = found.assign(how=[t(f"departures.how.{h}") for h in found["how"]])
    show(shown[["owner", "left_on", "how", "last_seen", "n_customers", "n_active", "amt_revenue_year", "share_revenue",
                "days_followed", "n_lost", "rate_churn_after", "n_comparable", "n_comparable_lost", "rate_churn_comparable"]],
         "departures.csv")
    for r in found.itertuples(index=False):
        if pd.notna(r.rate_churn_after) and pd.notna(r.rate_churn_comparable):
            st.markdown(t("departures.sentence", owner=safe.md(r.owner),
                          left_on=fmt.date(pd.Timestamp(r.left_on).date(), lang), n=fmt.number(r.n_active, lang),
                          share=fmt.percent(r.share_revenue), after=fmt.percent(r.rate_churn_after),
                          comparable=fmt.percent(r.rate_churn_comparable), days=int(r.days_followed)))
        elif r.days_followed < churn_days:  # nobody followed long enough for the churn rule: no comparison
            st.markdown(t("departures.too_early", owner=safe.md(r.owner),
                          left_on=fmt.date(pd.Timestamp(r.left_on).date(), lang), n=fmt.number(r.n_active, lang),
                          days=int(r.days_followed), churn_days=churn_days))
    names = list(found["owner"])
    pick = st.selectbox(t("departures.pick"), names, key="departure_owner", bind="query-params")
    pick = pick if pick in names else names[0]
    sp = {**dp, "departed_owner": pick}
    frame = ui.run_query("departures_survival", sp)
    curves = departures.curves(frame)
    if curves:
        labelled = {t(f"departures.grp.{g}", owner=pick): c for g, c in curves.items()}
        fig = churn_charts.survival(labelled, t)
        fig.update_layout(title_text=t("departures.survival.title"))
        fig.update_xaxes(title_text=t("departures.survival.x"))
        st.plotly_chart(fig, width="stretch")
        test = departures.logrank(frame)
        st.markdown(t(f"departures.logrank.{test['verdict']}", p=fmt.p_value(test["p_value"], lang), n=survival.MIN_GROUP))
    st.subheader(t("departures.handover.title", owner=safe.md(pick)))
    handover = ui.run_query("departures_handover", sp)
    st.caption(t("departures.handover.caption", n=fmt.number(len(handover), lang)))
    if len(handover):
        show(handover, "departures_handover.csv")
