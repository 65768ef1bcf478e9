"""The controls every page shares: the period, filters and settings, all kept in the address; table downloads."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from crmlens import downloads, export, fmt, period, share, store
from crmlens.ui import PERIOD_KEY, language, run_query, stop_when_damaged, t


@st.cache_data(max_entries=64, show_spinner=False)
def _default_period(db: str, identity: tuple, _snap: store.Snapshot) -> tuple[dt.date, dt.date]:
    return period.default_period(_snap)


def stop_without_orders(start: dt.date, end: dt.date, message_key: str) -> None:
    """Say so and stop the page when the period holds no order (period.orders_end_before): its figures would be judged
    as of the last order, years before the period."""
    last = period.orders_end_before(run_query("orders_as_of", {"end": end})["as_of_date"].iloc[0], start)
    if last is not None:
        lang = language()
        st.warning(t(message_key, start=fmt.date(start, lang), end=fmt.date(end, lang), last=fmt.date(last, lang)),
                   icon=":material/event_busy:")
        st.stop()


PERIOD_BOUNDS = (dt.date(1900, 1, 1), dt.date(2199, 12, 31))  # any date of any export


def period_filter(snap: store.Snapshot | None) -> tuple[dt.date, dt.date]:
    """The sidebar date range (kept in the URL as ?period=start&period=end)."""
    with stop_when_damaged():
        default = _default_period(str(snap.path), snap.identity, snap) if snap else period.default_period_without_data()
    value = st.sidebar.date_input(
        t("sidebar.period"),
        value=default,
        # (Streamlit's own bounds are the default's start and end -/+ 10 years: orders of 2011 beside tickets of
        #  2022 could not be chosen)
        min_value=PERIOD_BOUNDS[0],
        max_value=PERIOD_BOUNDS[1],
        key=PERIOD_KEY,
        bind="query-params",
        help=t("sidebar.period.help"),
        format="YYYY-MM-DD",
    )
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(value)
    st.sidebar.caption(t("sidebar.period_invalid"))
    return default


def filter_options(dimension: str) -> list[str]:
    """Values of a dimension in the data (see queries/filter_options.sql), most frequent first."""
    options = run_query("filter_options")
    return list(options.loc[options["dimension"] == dimension, "value"])


def choice_filter(key: str, label: str, options: list[str], container=None) -> list[str]:
    """A multi-select kept in the URL (?key=a&key=b). Empty means all.

    Pass the result to SQL as a list parameter: `(len($key) = 0 or list_contains($key, col))`.
    """
    container = container or st.sidebar
    chosen = container.multiselect(label, options, default=[], key=key, bind="query-params",
                                   placeholder=t("filter.all"))
    return [c for c in chosen if c in options]


def number_setting(key: str, label: str, default: float, min_value: float, max_value: float,
                   step: float, help: str | None = None, container=None, **kwargs) -> float:
    """A threshold or other setting kept in the URL, shown next to what it drives."""
    container = container or st
    share.drop_infinite_number(key)
    return container.number_input(label, min_value=min_value, max_value=max_value, value=default, step=step,
                                  key=key, bind="query-params", help=help, **kwargs)


def data_default_setting(key: str, label: str, from_data: float, placeholder: str, min_value: float,
                         max_value: float, step: float, help: str | None = None, container=None,
                         format: str | None = None) -> tuple[float, bool]:
    """A setting whose default is computed from the data in scope (the what-if margin, ...).

    The box stays empty until the reader types a value: empty means "take it from the data", so the
    value follows every filter change and a shared link (which carries the filters and the data version,
    not a stale number) gives the recipient the value the sender's view used. A typed value goes into
    the address and wins. Returns (the value used, whether the reader set it).
    """
    typed = number_setting(key, label, None, min_value, max_value, step, help=help, container=container,
                           placeholder=placeholder, format=format)
    return (float(from_data), False) if typed is None else (float(typed), True)


def drop_infinite_link_value(key: str) -> None:
    """See share.drop_infinite_number: call before a number box bound to the address."""
    share.drop_infinite_number(key)


def download_csv(df: pd.DataFrame, file_name: str, key: str | None = None) -> None:
    """A download button for a table (UTF-8 with BOM for Excel; spreadsheet formulas neutralised)."""
    downloads.button(t("common.download_csv"), lambda: export.to_csv_bytes(df), file_name=file_name,
                     key=key or f"download_{file_name}", icon=":material/download:")


def page_tabs(page: str, keys: tuple[str, ...]) -> list:
    """The page's tabs. Only the open one runs its queries (the rest would cost every visit their time),
    and which one is open lives in the address (`<page>_tab`), so a shared link opens the same tab."""
    return st.tabs([t(f"{page}.tab.{k}") for k in keys], key=f"{page}_tab", bind="query-params", on_change="rerun")


def if_open(tab):
    """`for _ in if_open(tab):` runs its body inside the tab when that tab is the open one, else not at all
    (a loop of zero or one turn: the body keeps the indentation a `with tab:` block has)."""
    if tab.open:
        with tab:
            yield tab
