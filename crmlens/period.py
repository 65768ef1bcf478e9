"""Reporting periods: the default range and the previous period of equal length."""

from __future__ import annotations

import datetime as dt

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


def default_period_without_data(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    end = today or dt.date.today()
    return end - dt.timedelta(days=DEFAULT_DAYS - 1), end
