"""Numbers and dates formatted for the reader's language (万 and 亿 in Chinese)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def json_value(value):
    """A query result's value as plain JSON: None for missing, floats to 4 places, ISO dates
    (a date-time at midnight is a date)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def p_value(p, lang: str) -> str:
    """A test's p-value after "p": "< 0.001" when tiny, else "= 0.034"."""
    if _missing(p):
        return "= –"
    return "< 0.001" if p < 0.001 else "= " + number(p, lang, 3)


def number(x, lang: str, decimals: int = 0) -> str:
    """A count or amount, shortened when large: 12,345 / 1.23万 / 4.56亿 / 1.23M."""
    if _missing(x):
        return "–"
    x = float(x)
    size = abs(x)
    if lang == "zh":
        if size >= 1e8:
            return f"{x / 1e8:,.2f}亿"
        if size >= 1e4:
            return f"{x / 1e4:,.2f}万"
    else:
        if size >= 1e9:
            return f"{x / 1e9:,.2f}B"
        if size >= 1e6:
            return f"{x / 1e6:,.2f}M"
    return f"{x:,.{decimals}f}"


def compact(x, lang: str) -> str:
    """A short axis label: 200万 / 1.5亿 in Chinese, 2M / 500K in English; trailing zeros dropped."""
    if _missing(x):
        return ""
    x = float(x)
    units = [(1e8, "亿"), (1e4, "万")] if lang == "zh" else [(1e9, "B"), (1e6, "M"), (1e3, "K")]
    for size, unit in units:
        if abs(x) >= size:
            return f"{x / size:.2f}".rstrip("0").rstrip(".") + unit
    return f"{x:.2f}".rstrip("0").rstrip(".")


def percent(x, decimals: int = 1) -> str:
    """A share (0-1) as a percentage."""
    return "–" if _missing(x) else f"{float(x) * 100:.{decimals}f}%"


def change(current, previous) -> float | None:
    """Relative change from previous to current (None when there is no base)."""
    if _missing(current) or _missing(previous) or float(previous) == 0:
        return None
    return (float(current) - float(previous)) / abs(float(previous))


def signed_percent(x, decimals: int = 1) -> str | None:
    return None if x is None else f"{x * 100:+.{decimals}f}%"


def signed_points(x, lang: str, decimals: int = 1) -> str | None:
    """A difference of two rates (0-1 each) in percentage points: "-5.0 pp" / "-5.0个百分点"."""
    if _missing(x):
        return None
    return f"{x * 100:+.{decimals}f}" + ("个百分点" if lang == "zh" else " pp")


def date(d: dt.date | None, lang: str) -> str:
    if d is None:
        return "–"
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else d.isoformat()


def timestamp(ts: dt.datetime | None, lang: str) -> str:
    if ts is None:
        return "–"
    return f"{date(ts.date(), lang)} {ts:%H:%M}"
