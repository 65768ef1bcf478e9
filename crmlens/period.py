"""Reporting periods: the default range and the previous period of equal length."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from crmlens import queries, store

DEFAULT_DAYS = 365


def latest_data_date(snap: store.Snapshot) -> dt.date | None:
    """The newest activity date (orders, opportunities, complaints, surveys); signups only if nothing else.
    Targets are plans (months ahead), never activity."""
    span = queries.run("data_span", snap=snap).set_index("table_name")["last_date"].dropna().drop(["targets", "activities"], errors="ignore")
    activity = span.drop("customers", errors="ignore")
    dates = activity if len(activity) else span
    return max(d.date() if hasattr(d, "date") else d for d in dates) if len(dates) else None


def default_period(snap: store.Snapshot, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 365 days up to the newest date in the data (today when there is none)."""
    return default_period_without_data(latest_data_date(snap) or today)


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def trend_grain(start: dt.date, end: dt.date) -> str:
    days = (end - start).days + 1
    return "day" if days <= 62 else "week" if days <= 180 else "month"


def orders_end_before(as_of, start: dt.date) -> dt.date | None:
    """The day the period's customers are judged as of (orders_as_of's as_of_date) when it lies before the period's
    start, else None. The default period ends at the newest date of any table: tickets newer than the orders by years
    leave a period without a single order that counts, where churn and the ladder's "lost" would be judged as of the
    last order, years before the period."""
    if as_of is None or pd.isna(as_of):
        return None
    as_of = as_of.date() if hasattr(as_of, "date") else as_of
    return as_of if as_of < start else None


def default_period_without_data(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    end = today or dt.date.today()
    return end - dt.timedelta(days=DEFAULT_DAYS - 1), end


# Comparisons a manager expects: the period just before, of equal length, or the same dates a year earlier.
COMPARISONS = ("previous", "last_year")
MIN_COVERED_SHARE = 0.5  # a comparison period with data on fewer of its days than this is not compared


def same_period_last_year(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same dates one year earlier (29 February becomes 28 February)."""
    def back(d: dt.date) -> dt.date:
        return d.replace(year=d.year - 1, day=min(d.day, 28) if (d.month, d.day) == (2, 29) else d.day)
    return back(start), back(end)


def comparison_period(start: dt.date, end: dt.date, kind: str) -> tuple[dt.date, dt.date]:
    return same_period_last_year(start, end) if kind == "last_year" else previous_period(start, end)


def days_covered(start: dt.date, end: dt.date, first: dt.date | None, last: dt.date | None) -> int:
    """Days of start..end that lie within the data's span first..last (0 when the data has none)."""
    if first is None or last is None:
        return 0
    lo, hi = max(start, first), min(end, last)
    return max(0, (hi - lo).days + 1)
