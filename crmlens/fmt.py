"""Numbers and dates formatted for the reader's language (万 and 亿 in Chinese)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from crmlens import i18n

DAYS_FROM_HOURS = 72  # from three days on a span reads in days ("110.0 days", not "2,639.6 h"); SLAs of 4-48 h in hours


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


def duration(hours, lang: str) -> str:
    """A time span given in hours as a reader takes it in: "5.2 h" under three days, "110.0 days" from three days on."""
    if _missing(hours):
        return "–"
    if abs(hours) < DAYS_FROM_HOURS:
        return i18n.translate(lang, "fmt.hours", h=number(hours, lang, 1))
    return i18n.translate(lang, "fmt.days", d=number(hours / 24, lang, 1))


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


# --- table cells: the one format of every table on screen and in its CSV download -------------------------------

CELL_KINDS = ("text", "int", "money", "money_whole", "pct", "pp", "decimal", "days", "score", "p", "date", "datetime", "bool")
CELL_DECIMALS = {"int": 0, "money": 2, "money_whole": 0, "decimal": 2, "days": 1, "score": 1}


def cell(value, kind: str, lang: str, yes_no: tuple[str, str] = ("Yes", "No")) -> str:
    """A table cell as the reader reads it, never as a program prints it: whole counts and money with
    thousands separators (money to 2 decimals, no float noise), shares as "12.3%", differences of shares in
    percentage points, p-values as "< 0.001", dates without a time of day, yes/no for flags; "" when missing
    (the page shows it as "–"; a spreadsheet keeps an empty cell)."""
    if value is None or value is pd.NA or value is pd.NaT or _missing(value):
        return ""
    if kind == "bool":
        return yes_no[0] if bool(value) else yes_no[1]
    if kind in ("date", "datetime"):
        ts = pd.Timestamp(value)
        if kind == "date" or (ts.hour, ts.minute, ts.second) == (0, 0, 0):
            return ts.strftime("%Y-%m-%d")
        return ts.strftime("%Y-%m-%d %H:%M")
    if kind == "text":
        return str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return ""
    if kind == "pct":
        return f"{x * 100:,.1f}%"
    if kind == "pp":
        return signed_points(x, lang) or ""
    if kind == "p":
        return "< 0.001" if x < 0.001 else f"{x:.3f}"
    return f"{x:,.{CELL_DECIMALS.get(kind, 2)}f}"


def cell_kind(column: str, dtype) -> str:
    """The kind of a column from its name (STYLE.md: n_ counts, amt_ money, rate_/share_ 0-1, is_ flags, p_ values,
    *_at/*_on/*_date dates) and, failing that, its type."""
    c = column.lower()
    if c.startswith("is_") or c.startswith("has_") or pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if not pd.api.types.is_numeric_dtype(dtype):
        return "text"
    if c in ("p_value", "p_adjusted") or c.startswith("p_value"):
        return "p"
    if c.startswith(("rate_", "share_", "pct_", "survival_")) or c.endswith("_share") or c in ("share", "p_leave"):
        return "pct"
    if c.startswith(("n_", "count_")) or pd.api.types.is_integer_dtype(dtype):
        return "int"
    if c.startswith("amt_") or c.endswith(("_revenue", "_value", "_amount")) or c == "amount":
        return "money"
    if "days" in c or "hours" in c or c.endswith("_months"):
        return "days"
    return "decimal"
