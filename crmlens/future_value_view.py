"""The loyalty page's "Future value" tab: BG/NBD + Gamma-Gamma per customer, with sums per rung and segment.

The fit is cached per data version and calibration end (crmlens.future_value does the work)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from crmlens import controls, fmt, future_value, store, tables, ui
from crmlens.customer_base import TooLittleData
from crmlens.ui import t

MONTHS_KEY = "fv_months"


@st.cache_data(max_entries=16, show_spinner=False)
def _computed(db: str, identity: tuple, end: dt.date, months: float, _snap: store.Snapshot):
    summary = future_value.summary(_snap, end)
    try:
        return future_value.compute(summary, end, months), None
    except TooLittleData as e:
        return None, str(e)


def show(end: dt.date, loyalty_params: dict) -> None:
    lang = ui.language()
    snap = ui.snapshot()
    st.caption(t("fv.caption", end=fmt.date(end, lang)))
    months = controls.number_setting(MONTHS_KEY, t("fv.set.months"), future_value.DEFAULT_MONTHS, 1, 60, 1,
                                     help=t("fv.set.months.help"), container=st.columns(4)[0])
    with st.spinner(t("fv.fitting")):
        fv, problem = _computed(str(snap.path), snap.identity, end, float(months), snap)
    if fv is None or not future_value.check_numbers(fv):
        st.info(t("fv.cannot", reason=problem or t("fv.cannot.diverged")))
        return
    n_months = fmt.number(months, lang)
    cols = st.columns(4)
    cols[0].metric(t("fv.kpi.customers"), fmt.number(len(fv.customers), lang), border=True)
    cols[1].metric(t("fv.kpi.alive"), fmt.number(fv.n_alive, lang), help=t("fv.kpi.alive.help", one_time=fmt.number(fv.n_one_time, lang)), border=True)
    cols[2].metric(t("fv.kpi.purchases", months=n_months), fmt.number(fv.expected_purchases, lang),
                   help=t("fv.kpi.purchases.help"), border=True)
    cols[3].metric(t("fv.kpi.value", months=n_months), fmt.number(fv.expected_value, lang),
                   help=t("fv.kpi.value.help"), border=True)
    if fv.expected_holdout is not None:
        st.caption(t("fv.holdout", weeks=fmt.number(fv.holdout_weeks, lang, 1),
                     expected=fmt.number(fv.expected_holdout, lang), actual=fmt.number(fv.actual_holdout, lang)))
    else:
        st.caption(t("fv.no_holdout"))
    groups = ui.run_query("future_value_rungs", loyalty_params)
    # one above the other, full width: side by side, each table's last columns (the averages) were scrolled out of view
    st.markdown(f"**{t('fv.by_rung')}**")
    per_rung = future_value.by_group(fv, groups, "rung")
    per_rung["rung"] = [t(f"loyalty.rung.{r}") if r else t("loyalty.common.not_set") for r in per_rung["rung"]]
    _table(per_rung, "future_value_rungs.csv")
    st.markdown(f"**{t('fv.by_segment')}**")
    per_segment = future_value.by_group(fv, groups, "segment")
    per_segment["segment"] = [s or t("loyalty.common.not_set") for s in per_segment["segment"]]
    _table(per_segment, "future_value_segments.csv")
    st.markdown(f"**{t('fv.top')}**")
    top = future_value.top_customers(fv, groups)
    top["rung"] = [t(f"loyalty.rung.{r}") if isinstance(r, str) and r else "" for r in top["rung"]]
    _table(top, "future_value_customers.csv")
    with st.expander(t("fv.params")):
        params = fv.model.params
        st.caption(t("fv.params.help"))
        st.dataframe(pd.DataFrame({"param": list(params), "value": [round(v, 4) for v in params.values()]}),
                     hide_index=True, column_config={"param": t("fv.col.param"), "value": t("fv.col.value")})


# p_alive is a probability, n_expected a count the model expects (fractional), weeks a duration in weeks
KINDS = {"p_alive": "pct", "p_alive_avg": "pct", "n_expected": "decimal", "weeks_recency": "decimal",
         "weeks_age": "decimal"}


def _table(df: pd.DataFrame, file_name: str) -> None:
    tables.show(df, file_name, "fv", kinds={c: k for c, k in KINDS.items() if c in df.columns}, key=f"fv_{file_name}")
