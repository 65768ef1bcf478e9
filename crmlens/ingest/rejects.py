"""Which rows of a staged file cannot be loaded, and why (file, row, column, value, reason).

Besides values that do not convert (invalid_<type>) and required values missing: dates
outside a plausible window, infinite numbers, scores off their scale, time zones that do
not exist, bytes that were not UTF-8, duplicate ids and order lines naming two customers.
"""

from __future__ import annotations

import datetime as dt
import os

import duckdb
import pandas as pd

from crmlens import contract
from crmlens.ingest.convert import quote_ident
from crmlens.ingest.errors import refuse

MAX_LISTED_REJECTS = 10_000
REJECTS_SQL = (
    'select $file as "file", row_no as "row", column_name as "column", value, reason '
    "from _rejects order by row_no, column_name limit $limit"
)
# Dates outside [EARLIEST_DATE, today + LATEST_DATE_AHEAD] are rejected as implausible_date;
# the server's environment may move them (CRMLENS_EARLIEST_DATE=2000-01-01, CRMLENS_DAYS_AHEAD=30).
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE_AHEAD = dt.timedelta(days=366)


def plausible_dates(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The window of plausible dates: 1900-01-01 to a year after today, unless the environment
    says otherwise. A setting that cannot be read refuses every load (fails closed)."""
    earliest, ahead = EARLIEST_DATE, LATEST_DATE_AHEAD
    if (text := os.environ.get("CRMLENS_EARLIEST_DATE")) is not None:
        try:
            earliest = dt.date.fromisoformat(text.strip())
        except ValueError:
            raise refuse("ingest.setting.bad", setting="CRMLENS_EARLIEST_DATE", value=repr(text)[:40],
                         example="1900-01-01") from None
    if (text := os.environ.get("CRMLENS_DAYS_AHEAD")) is not None:
        if not text.strip().isdigit() or int(text) > 36_500:
            raise refuse("ingest.setting.bad", setting="CRMLENS_DAYS_AHEAD", value=repr(text)[:40], example="366")
        ahead = dt.timedelta(days=int(text))
    return earliest, (today or dt.date.today()) + ahead


def text_column(col: contract.Column) -> str:
    """The column of _typed holding a checked column's cleaned text: `_text_<name>`, or the column itself for
    text (a VARCHAR column is its text: never stored twice)."""
    return quote_ident(col.name if col.type == "VARCHAR" else "_text_" + col.name)


def listed_rejects(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    return con.execute(REJECTS_SQL, {"file": name, "limit": MAX_LISTED_REJECTS}).df()


def find_rejects(con: duckdb.DuckDBPyConnection, table: contract.Table, checked: list[contract.Column],
                 check_key: bool = True, unit_price: bool = False,
                 date_window: tuple[dt.date, dt.date] | None = None, bad_text: bool = False,
                 lines: bool = False, repeated: str | None = None, status_log: bool = False) -> int:
    """Fill temp table _rejects (row_no, column_name, value, reason); return how many rows are rejected.

    Besides values that do not convert: dates outside `date_window` (implausible_date),
    infinite numbers (not_finite), scores outside their scale (out_of_range), time-zone
    offsets beyond +-14:00 (invalid_time_zone), text with bytes that were not UTF-8 in any
    column (invalid_text, when `bad_text`), and order lines of one order id naming another
    customer than its first line (conflicting_order, when `lines`). `repeated` names a table of the key
    values on more than one row (stage._repeated_keys): only their rows are looked at for duplicates.
    """
    earliest, latest = date_window or plausible_dates()
    ranges = contract.VALUE_RANGES.get(table.name, {})
    parts = [("select _row as row_no, ''::varchar as column_name, ''::varchar as value, ''::varchar as reason "
              "from _typed where false")]
    for col in checked:
        c, text = quote_ident(col.name), text_column(col)
        if text != c:  # text converts to itself: never invalid
            parts.append(
                f"select _row, '{col.name}', {text}, "
                f"'invalid_{col.type.lower()}' from _typed where {text} is not null and {c} is null"
            )
        if col.required and not col.blank_ok:
            parts.append(f"select _row, '{col.name}', null, 'missing_value' from _typed where {text} is null")
        if col.type in ("DATE", "TIMESTAMP"):
            parts.append(f"select _row, '{col.name}', {text}, 'implausible_date' from _typed "
                         f"where {c} < $earliest::date or {c} >= $latest::date + 1")
            # +25:00 converts (DuckDB adds the hours) but is no time zone.
            parts.append(
                f"select _row, '{col.name}', {text}, 'invalid_time_zone' from _typed "
                f"where regexp_matches({text}, '\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?\\s*[+-]\\d\\d:?\\d\\d$') "
                f"and (try_cast(regexp_extract({text}, '[+-](\\d\\d):?(\\d\\d)$', 1) as int) > {contract.MAX_UTC_OFFSET_HOURS} "
                f"or try_cast(regexp_extract({text}, '[+-](\\d\\d):?(\\d\\d)$', 2) as int) > 59)"
            )
        if col.type == "DOUBLE":
            parts.append(f"select _row, '{col.name}', {text}, 'not_finite' from _typed "
                         f"where {c} is not null and not isfinite({c})")
        if col.name in ranges:
            low, high = ranges[col.name]
            parts.append(f"select _row, '{col.name}', {text}, 'out_of_range' from _typed "
                         f"where isfinite({c}) and ({c} < {float(low)!r} or {c} > {float(high)!r})")
    if bad_text:
        # Unpivoted, so a wide file is one scan, not a query per column.
        parts.append("select _row, column_name, value, 'invalid_text' from "
                     "(unpivot _raw on columns(* exclude (_row)) into name column_name value value) "
                     "where contains(value, chr(65533))")
    if lines and "customer_id" in {col.name for col in checked}:
        parts.append(
            "select _row, 'customer_id', customer_id, 'conflicting_order' from "
            "(select _row, customer_id, first_value(customer_id ignore nulls) over "
            "(partition by order_id order by _row rows between unbounded preceding and unbounded following) as first "
            "from _typed where order_id is not null) where customer_id <> first"
        )
    if unit_price:
        parts.append("select _row, 'unit_price', _text_unit_price, 'invalid_double' from _typed "
                     "where _text_unit_price is not null and _unit_price is null")
        parts.append("select _row, 'amount', null, 'missing_value' from _typed where amount is null "
                     "and (_text_unit_price is null or _text_quantity is null)")
    if check_key and table.key and any(col.name == table.key for col in checked):
        k = quote_ident(table.key)
        among = f"{k} in (select {k} from {repeated})" if repeated else f"{k} is not null"
        parts.append(
            f"select _row, '{table.key}', {k}, 'duplicate_key' from "
            f"(select _row, {k}, row_number() over (partition by {k} order by _row) as n from _typed "
            f"where {among}) where n > 1"
        )
    if table.name == "complaints" and not status_log:  # (a log's created_at is each change's time, not the opening)
        for col in ("first_response_at", "resolved_at"):
            text = next((text_column(c) for c in checked if c.name == col), "null")
            parts.append(f"select _row, '{col}', {text}, 'before_created' from _typed where {col} < created_at")
    sql = "create or replace temp table _rejects as " + " union all ".join(parts)
    params = {"earliest": earliest, "latest": latest}
    con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
    return con.execute("select count(distinct row_no) from _rejects").fetchone()[0]
