"""The funnel page's "Forecast" tab: weighted pipeline forecast, best case / commit / weighted, back-test, and
attainment against targets with a pace line. Numbers from crmlens.forecast (queries/forecast_*.sql)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from crmlens import controls, fmt, forecast, tables, ui
from crmlens.charts import forecast as charts
from crmlens.ui import t



def _settings() -> dict:
    c = st.columns(4)
    labels = {m: t(f"forecast.set.by.{m}") for m in forecast.RATE_BY}  # made in this run's language
    mode = c[0].segmented_control(t("forecast.set.by"), list(forecast.RATE_BY), default="pooled", required=True,
                                  format_func=labels.__getitem__, key="forecast_by",
                                  bind="query-params", help=t("forecast.set.by.help"))
    min_closed = controls.number_setting("forecast_min_closed", t("forecast.set.min_closed"), forecast.MIN_CLOSED,
                                         1, 10_000, 1, help=t("forecast.set.min_closed.help"), container=c[1])
    commit = controls.number_setting("forecast_commit_pct", t("forecast.set.commit"), forecast.COMMIT_MIN * 100,
                                     1.0, 100.0, 5.0, help=t("forecast.set.commit.help"), container=c[2])
    back = controls.number_setting("forecast_backtest_months", t("forecast.set.backtest"), forecast.BACKTEST_MONTHS,
                                   1, 36, 1, help=t("forecast.set.backtest.help"), container=c[3])
    return {"rate_by": mode if mode in forecast.RATE_BY else "pooled", "min_closed": int(min_closed), "commit_min": float(commit) / 100,
            "backtest_months": int(back)}


def show(end: dt.date, order: list[str], won: list[str], lost: list[str], owners: list[str], labels: dict) -> None:
    lang = ui.language()
    s = _settings()
    p = forecast.params(end, order, won, lost, owners, s["rate_by"], s["min_closed"], s["commit_min"])
    st.caption(t("forecast.caption", as_of=fmt.date(end, lang), commit=fmt.percent(s["commit_min"], 0),
                 level=fmt.percent(forecast.RANGE_LEVEL, 0)))
    steps = ui.run_query("forecast_steps", p)
    if steps["n_closed"].max() == 0 if len(steps) else True:
        st.info(t("forecast.no_history"))
        return
    opps = ui.run_query("forecast_opportunities", p)
    months = ui.run_query("forecast_months", p)
    won_so_far = ui.run_query("forecast_actuals", forecast.actuals_params(p))  # once, for every figure below
    targets = ui.run_query("forecast_targets", forecast.targets_params(p))
    snap = ui.snapshot()
    q = forecast.quarters(snap, p, months, won_so_far, targets)
    cols = st.columns(4)
    cols[0].metric(t("forecast.kpi.this_quarter"), fmt.number(q.expected_this, lang),
                   help=t("forecast.kpi.this_quarter.help", won=fmt.number(q.won_to_date, lang),
                          rest=fmt.number(q.weighted_rest, lang)), border=True)
    cols[1].metric(t("forecast.kpi.next_quarter"), fmt.number(q.weighted_next, lang),
                   help=t("forecast.kpi.next_quarter.help"), border=True)
    cols[2].metric(t("forecast.kpi.attainment"), fmt.percent(q.attainment, 0) if q.attainment is not None else "—",
                   help=t("forecast.kpi.attainment.help"), border=True)
    cols[3].metric(t("forecast.kpi.pace"), fmt.percent(q.pace, 0) if q.pace is not None else "—",
                   help=t("forecast.kpi.pace.help"), border=True)
    if q.target_this is None:
        st.caption(t("forecast.no_targets"))
    _notes(opps, steps, lang, s["min_closed"], ui.run_query("forecast_undated", forecast.undated_params(p)))

    st.subheader(t("forecast.months.title"), help=t("forecast.months.help"))
    if months["month"].notna().any():
        st.plotly_chart(charts.months(months, t, lang), width="stretch")
    _money_table(months.drop(columns=["amt_sd"]), "forecast_months.csv")

    st.subheader(t("forecast.steps.title"), help=t("forecast.steps.help"))
    shown_steps = steps.assign(stage_key=[labels.get(k, k) for k in steps["stage_key"]])
    _money_table(shown_steps, "forecast_steps.csv")

    st.subheader(t("forecast.pace.title"), help=t("forecast.pace.help"))
    if q.target_this is not None:
        st.plotly_chart(charts.pace(forecast.quarter_months(snap, p, months, won_so_far, targets), t, lang),
                        width="stretch")
    _money_table(forecast.by_owner(snap, p, opps, won_so_far, targets), "forecast_owners.csv")

    st.subheader(t("forecast.backtest.title"), help=t("forecast.backtest.help"))
    back = forecast.backtest(snap, p, s["backtest_months"], run=ui.run_query)
    then, back.attrs = back.attrs["as_of"], {}
    st.caption(t("forecast.backtest.caption", then=fmt.date(then, lang), as_of=fmt.date(end, lang),
                 expected=fmt.number(back["amt_weighted"].sum(), lang), won=fmt.number(back["amt_won"].sum(), lang)))
    if len(back):
        st.plotly_chart(charts.backtest(back, t, lang), width="stretch")
    _money_table(back, "forecast_backtest.csv")

    with st.expander(t("forecast.opps.title")):
        shown = opps.assign(stage_key=[labels.get(k, k) if isinstance(k, str) else "" for k in opps["stage_key"]])
        _money_table(shown.drop(columns=["pos"]), "forecast_opportunities.csv")


def _notes(opps: pd.DataFrame, steps: pd.DataFrame, lang: str, min_closed: int, undated: pd.DataFrame) -> None:
    n_unknown = int(opps["is_stage_unknown"].sum())
    if n_unknown:
        st.caption(t("forecast.note.stage_unknown", n=fmt.number(n_unknown, lang)))
    n_no_rate = int(opps["rate_win"].isna().sum())
    if n_no_rate:
        st.warning(t("forecast.note.no_rate", n=fmt.number(n_no_rate, lang)))
    n_no_month = int(opps["month"].isna().sum())
    if n_no_month:
        st.caption(t("forecast.note.no_month", n=fmt.number(n_no_month, lang)))
    n_no_amount = int(opps["is_amount_missing"].sum())
    if n_no_amount:
        st.caption(t("forecast.note.no_amount", n=fmt.number(n_no_amount, lang)))
    thin = steps[(steps["n_closed"] > 0) & (steps["n_closed"] < min_closed)]  # the reader's setting
    if len(thin):
        st.caption(t("forecast.note.thin", n=fmt.number(min_closed, lang)))
    row = undated.iloc[0] if len(undated) else None
    if row is not None and row["n_undated_open"]:
        st.caption(t("forecast.note.undated_open", n=fmt.number(row["n_undated_open"], lang),
                     amount=fmt.number(row["amt_undated_open"], lang)))
    if row is not None and row["n_closed_undated"]:
        st.caption(t("forecast.note.closed_undated", n=fmt.number(row["n_closed_undated"], lang)))


DATES = ("month", "expected_close_on")


def _money_table(df: pd.DataFrame, file_name: str) -> None:
    tables.show(df, file_name, "forecast", kinds={c: "date" for c in DATES if c in df.columns},
                codes={"rate_source": "forecast.rate_source"}, key=f"forecast_{file_name}")
