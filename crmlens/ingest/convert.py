"""SQL that turns a file's text values into the contract's types (NULL when it cannot).

Every expression works on a column of temp view (or table) _clean (trimmed text, 'missing'
spellings already NULL). Layout choices that depend on the whole column (month- or
day-first dates, decimal comma) are made by counting in SQL first.
"""

from __future__ import annotations

import re

import duckdb

from crmlens import contract, vocab

NULL_TOKENS = ["", "na", "n/a", "null", "none", "nan", "-", "--", "#n/a", "无", "空", "?"]  # "?": ServiceNow's empty field
# A value that is one of NULL_TOKENS, in any case, with spaces around it (or only spaces).
NULL_PATTERN = "\\s*(" + "|".join(re.escape(t) for t in NULL_TOKENS if t) + ")?\\s*"
BLANKS = "' \t\r\n'"
# A value that may change when cleaned: blank space (\s: space, \t, \n, \f, \r) at either end, or a whole
# value that is one of NULL_TOKENS or empty. Any other value is its own cleaned value (nothing to trim, not missing).
NEEDS_CLEANING = "^\\s|\\s$|^(?:" + "|".join(re.escape(t) for t in NULL_TOKENS if t) + ")?$"  # what a value is trimmed of (DuckDB's trim alone takes spaces only)
TRUE_TOKENS = list(vocab.TRUE_TOKENS)
FALSE_TOKENS = list(vocab.FALSE_TOKENS)

# Date and date-time layouts, by family. ISO-like and Chinese layouts are never
# ambiguous; month-first and day-first are, so a column uses one of the two:
# whichever parses more of its values (day-first wins a tie only if asked).
ISO_FORMATS = ["%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y.%m.%d", "%Y%m%d"]
CN_FORMATS = ["%Y年%m月%d日", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日%H:%M", "%Y年%m月%d日%H时%M分"]
# Two-digit years come first: DuckDB's %Y also accepts "11" (as the year 11), while %y
# refuses "2011"; formats are tried in order.
MDY_FORMATS = ["%m/%d/%y", "%m/%d/%y %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m-%d-%Y"]
DMY_FORMATS = ["%d/%m/%y", "%d/%m/%y %H:%M", "%d/%m/%y %H:%M:%S", "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
               "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d-%m-%Y"]
EXCEL_EPOCH = "1899-12-30"
DETECT_SAMPLE = 200_000  # values looked at to choose a column's layout
# Date-times with a zone offset but no seconds, which DuckDB's cast does not take.
OFFSET_FORMATS = ["%Y-%m-%d %H:%M%z", "%Y-%m-%dT%H:%M%z", "%Y/%m/%d %H:%M%z",
                  "%Y-%m-%d %H:%M:%S %z"]  # the last: Shopify's "2025-10-07 09:50:26 +0200"

CURRENCY = "^[¥￥$€£]\\s*|^(RMB|CNY|USD|EUR|GBP)\\s*|\\s*(元|RMB|CNY|USD|EUR|GBP)$"
# 1.234,56 / 1234,5 (decimal comma) versus 1,234.56 / 1234.5
DECIMAL_COMMA = "^-?\\d{1,3}(\\.\\d{3})+(,\\d+)?$|^-?\\d+,\\d+$"
DECIMAL_POINT = "^-?\\d{1,3}(,\\d{3})+(\\.\\d+)?$|^-?\\d+\\.\\d+$"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_list(items: list[str]) -> str:
    # Our own constants, never user input.
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


def cleaned(header: str) -> str:
    """A file column as trimmed text, with the usual 'missing' spellings (NA, null, -) as NULL."""
    h = quote_ident(header)
    # One regular expression per column (our own constant): `in (select unnest(...))` takes
    # gigabytes on a wide file, list_contains seconds (2,000 columns, 3 rows: 8.5 s against 1.6 s;
    # 2M rows of 5 columns: 2.4 s against 1.6 s; both on a busy 2-core machine).
    # Tabs trimmed too: Douyin (抖店) and other Chinese exports put one before long ids so that Excel
    # keeps them as text ("\t6917926768823643751"); see tests/fixtures/real_headers/README.md.
    # Most values have nothing to trim and are no 'missing' word: one cheap test (NEEDS_CLEANING) lets them
    # through as they are; only the others take the trim and the full pattern (2M rows: 3x less work).
    return (f"case when regexp_matches({h}, '{NEEDS_CLEANING}', 'i') "
            f"then if(regexp_full_match({h}, '{NULL_PATTERN}', 'i'), null, trim({h}, {BLANKS})) else {h} end")


def _date_families(con: duckdb.DuckDBPyConnection, v: str, day_first: bool) -> list[list[str]] | None:
    """Pick month-first or day-first layouts for a column; None means Excel serial numbers.

    Only values that do not start like a year (2024-, 2024/, 2024年) can be ambiguous, and
    a sample of them tells (trying every layout on millions of ISO dates would be slow).
    """
    mdy, dmy, serial, total = con.execute(
        f"with candidates as (select {v} as v from _clean where {v} is not null "
        f"and not regexp_matches({v}, '^\\d{{4}}[-/.年]') limit {DETECT_SAMPLE}) "
        f"select count(try_strptime(v, {sql_list(MDY_FORMATS)})), count(try_strptime(v, {sql_list(DMY_FORMATS)})), "
        f"count(*) filter (where try_cast(v as double) between 1 and 80000), count(*) from candidates"
    ).fetchone()
    if total and serial == total:  # every sampled value a day number: unless the column also has year-first dates
        year_first = con.execute(f"select count(*) from (select 1 from _clean where regexp_matches({v}, "
                                 f"'^\\d{{4}}[-/.年]') limit 1)").fetchone()[0]
        if not year_first:
            return None
    if mdy == dmy:
        middle = DMY_FORMATS if day_first else MDY_FORMATS
    else:
        middle = DMY_FORMATS if dmy > mdy else MDY_FORMATS
    return [ISO_FORMATS, CN_FORMATS, middle]


def _uses_decimal_comma(con: duckdb.DuckDBPyConnection, v: str) -> bool:
    stripped = f"regexp_replace({v}, '{CURRENCY}|[\\s%\u00a0]', '', 'g')"
    comma, point = con.execute(
        f"select count(*) filter (where regexp_matches({stripped}, '{DECIMAL_COMMA}')), "
        f"count(*) filter (where regexp_matches({stripped}, '{DECIMAL_POINT}')) "
        f"from (select {v} from _clean where {v} is not null limit {DETECT_SAMPLE})"
    ).fetchone()
    return comma > point


def _date_expr(con: duckdb.DuckDBPyConnection, v: str, day_first: bool) -> str:
    families = _date_families(con, v, day_first)
    if families is None:
        # Excel serial days; the fraction is the time of day (45294.75 = 2024-01-03 18:00).
        return (
            f"timestamp '{EXCEL_EPOCH}' + "
            f"to_microseconds(try_cast(round(try_cast({v} as double) * 86400e6) as bigint))"
        )
    *year_first, middle = families
    formats = sql_list([f for family in year_first for f in family])
    # Casts and year-first layouts only for values that start with a 4-digit year:
    # DuckDB's cast reads '1/2/11' as 11 February of the year 1.
    return (
        f"coalesce(case when regexp_matches({v}, '^\\d{{4}}') then coalesce("
        f"case when regexp_matches({v}, '(Z|[+-]\\d\\d:?\\d\\d)$') "
        f"then coalesce(try_cast({v} as timestamptz), try_strptime({v}, {sql_list(OFFSET_FORMATS)})) "
        f"at time zone 'UTC' end, "
        f"try_cast({v} as timestamp), try_strptime({v}, {formats})) end, "
        f"try_strptime({v}, {sql_list(middle)}))"
    )


def _number_expr(con: duckdb.DuckDBPyConnection, v: str, type_: str) -> str:
    text = f"regexp_replace({v}, '{CURRENCY}|[\\s\u00a0]', '', 'g')"
    comma = _uses_decimal_comma(con, v)
    if comma:
        text = f"replace(replace({text}, '.', ''), ',', '.')"
    else:
        text = f"replace({text}, ',', '')"
    number = (
        f"case when ends_with({text}, '%') "
        f"then try_cast(rtrim({text}, '%') as double) / 100 else try_cast({text} as double) end"
    )
    if not comma:
        # A plain number (1234.5) reads as it is, without the currency, space and thousands rewriting, which
        # leaves such a value unchanged anyway (no symbol, space, comma or % in it).
        number = f"coalesce(try_cast({v} as double), {number})"
    return f"try_cast({number} as {type_})"


def convert_expr(con: duckdb.DuckDBPyConnection, column: contract.Column, v: str, day_first: bool) -> str:
    """SQL turning the cleaned text column `v` of _clean into the canonical type (NULL if it cannot)."""
    if column.type in ("DATE", "TIMESTAMP"):
        # An ISO date (2024-03-01) is what the layouts below read as a cast anyway: cast it first.
        return (f"coalesce(case when regexp_full_match({v}, '\\d{{4}}-\\d\\d-\\d\\d') then try_cast({v} as {column.type}) end, "
                f"({_date_expr(con, v, day_first)})::{column.type})")
    if column.type in ("DOUBLE", "INTEGER"):
        return _number_expr(con, v, column.type)
    if column.type == "BOOLEAN":
        return (
            f"case when list_contains($true_tokens, lower({v})) then true "
            f"when list_contains($false_tokens, lower({v})) then false end"
        )
    return v
