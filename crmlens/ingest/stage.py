"""Staging one file: map its headers, convert its values, find its rejects (`rejects`), fold order lines (and a
ticket status log: `status_log`).

Everything happens in temp tables of the given connection (_raw -> _clean -> _typed,
_rejects, then _accepted); nothing is written to the store here.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from crmlens import contract, vocab
from crmlens.ingest import convert, guess, layouts, read, status_log, truncated
from crmlens.ingest.convert import quote_ident
from crmlens.ingest.errors import column_list, missing_key, refuse
from crmlens.ingest.rejects import find_rejects, listed_rejects, plausible_dates, text_column

MAX_EXTRA_NAME = 60  # characters of a header used to name its column
PREVIEW_ROWS = 10
# Order lines: a unit price column lets amount = quantity x unit price.
UNIT_PRICE_ALIASES = ("unit_price", "unitprice", "price", "lineitem_price", "单价", "商品单价", "销售单价")
# A file is order lines (one row per product of an order) only when at least this share of its
# rows belong to an order id on several rows with different products and one customer; below
# that, a repeated id is a duplicate (rejected), never a reason to merge orders.
ORDER_LINES_MIN_SHARE = 0.2
@dataclass
class FileResult:
    """What staging (and then loading) a file found."""

    file_name: str
    table: str
    encoding: str
    mapping: dict[str, str]  # canonical column -> file header
    extras: dict[str, str]  # stored column -> file header, for columns outside the contract
    n_read: int  # data rows in the file
    n_loaded: int  # rows stored (orders, when order lines were folded)
    rejects: pd.DataFrame = field(repr=False)  # file, row, column, value, reason
    delimiter: str = ","
    headers: list[str] = field(default_factory=list)
    n_rejected: int = 0  # file rows rejected
    n_lines: int = 0  # accepted order lines folded into orders (0 when the file is not order lines)
    n_cancelled: int = 0  # orders kept as cancelled (cancel marker, negative quantity or status)
    n_changes: int = 0  # accepted status changes folded into complaints (0 when the file is not a status log)
    preview: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    generated_ids: bool = False  # the file had no order id: each line got one (file name + row number)
    saved_mapping: bool = False  # the mapping saved for this header was used
    kept_own_columns: list[str] = field(default_factory=list)  # saved fixed values not used: the file has them
    guesses: list = field(default_factory=list)  # guess.Guess for each column guessed (doubtful ones left out)
    layout: str = ""  # id of the known export layout (crmlens/layouts.json) the mapping came from
    sheet: str = ""  # an Excel workbook's sheet
    row_offset: int = 0  # added to row numbers shown: a workbook's rows above its header
    header_row: int = 1  # the header's line or row in the file (0: the file has no header row)
    header_detected: int = 1  # the one detection found

    @property
    def is_order_lines(self) -> bool:
        return self.n_lines > 0

    @property
    def is_status_log(self) -> bool:
        return self.n_changes > 0


def guess_table(headers: list[str], file_name: str) -> contract.Table:
    """The table most of the file's columns fit; on a tie, one whose required columns are all
    there, then the one the file name names (`dup_headers_case.csv` with order columns is orders)."""
    stem = contract.normalize_header(pathlib.Path(file_name).stem)

    def score(table: contract.Table) -> tuple[int, bool, bool]:
        mapping = contract.match_columns(table, headers)
        complete = not _missing_required(table, mapping, headers)
        named = any(contract.normalize_header(h) in stem for h in table.file_hints)
        return (len(mapping), complete, named)

    return max(contract.TABLES.values(), key=score)


def detect_table(headers: list[str], file_name: str) -> contract.Table:
    """The table a file is for (guess_table), provided all its required columns are present.

    A file that fits one table best but lacks a required column is refused, never loaded
    into a lesser match (an orders export without amounts must not replace the customers).
    """
    best = guess_table(headers, file_name)
    missing = _missing_required(best, contract.match_columns(best, headers), headers)
    if len(missing) >= 2 and (side := _keyed_list(headers)):
        return side  # far from the best table, and a list keyed by its first column: a side file
    if missing:
        raise refuse(missing_key("ingest.table", missing), file=file_name, table=best.name,
                     columns=", ".join(missing), found=column_list(headers))
    return best


def _keyed_list(headers: list[str]) -> contract.Table | None:
    """The table a list keyed by its first column is for (an accounts list keyed by account: customers; a
    product list: product_attributes; sales teams keyed by sales agent: owners), if any."""
    first = headers[:1]
    for table in (contract.CUSTOMERS, *(contract.TABLES[n] for n in contract.SIDE_TABLES)):
        if contract.match_columns(table, first).get(table.key) == first[0] if first else False:
            return table
    return None


def unit_price_header(headers: list[str], mapping: dict[str, str]) -> str | None:
    names = {contract.normalize_header(a) for a in UNIT_PRICE_ALIASES}
    used = set(mapping.values())
    return next((h for h in headers if h not in used and contract.normalize_header(h) in names), None)


def generates_order_ids(table: contract.Table, mapping: dict[str, str]) -> bool:
    """Transaction lines without an order id (customer, date, amount per line, as old exports and
    the CDNOW sample have): each line becomes an order whose id is the file name and row number."""
    return table.name == "orders" and "order_id" not in mapping and {"customer_id", "order_date"} <= set(mapping)


def generated_order_id(file_name: str, row: int) -> str:
    """The id a line without one gets (row = the row number a spreadsheet shows, header = 1)."""
    return f"{file_name}#{row}"


def _missing_required(table: contract.Table, mapping: dict[str, str], headers: list[str]) -> list[str]:
    missing = table.missing(mapping)
    if generates_order_ids(table, mapping):
        missing = [c for c in missing if c != "order_id"]
    # Order lines carry quantity x unit price instead of an amount.
    if table.name == "orders" and missing == ["amount"] and "quantity" in mapping and unit_price_header(headers, mapping):
        return []
    return missing


FIXED_PREFIX = "="  # a mapping value "=lead" puts the text "lead" in every row


def is_fixed(value: str) -> bool:
    return value.startswith(FIXED_PREFIX) and len(value) > len(FIXED_PREFIX)


def resolve_mapping(table: contract.Table, headers: list[str], name: str,
                    chosen: dict[str, str | None] | None, partial: bool = False) -> dict[str, str]:
    """The automatic mapping, or the user's (checked: headers exist, required columns present).

    A partial mapping names only some columns (None: leave this column out); the others are
    matched as usual, among the headers it does not use.
    """
    # (matched by a header's words too: _staged checks those guesses against the values)
    if chosen is None:
        mapping = contract.match_columns(table, headers, words=True)
    else:
        unknown = {c: h for c, h in chosen.items() if (h is not None and h not in headers and not is_fixed(h))
                   or c not in {col.name for col in table.columns}}
        if unknown:
            raise refuse("ingest.mapping.unknown", file=name, table=table.name, unknown=str(unknown)[:300],
                         found=column_list(headers))
        if partial:
            used = set(chosen.values())
            detected = contract.match_columns(table, [h for h in headers if h not in used], words=True)
            chosen = {**detected, **chosen}
        mapping = {col.name: chosen[col.name] for col in table.columns if chosen.get(col.name)}
    missing = _missing_required(table, mapping, headers)
    if missing:
        raise refuse(missing_key("ingest.mapping", missing), file=name, table=table.name,
                     columns=", ".join(missing), found=column_list(headers))
    return mapping


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: pathlib.Path,
    table: contract.Table | None = None,
    day_first: bool = False,
    name: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    max_bytes: int | None = None,
    partial_mapping: bool = False,
    source: read.Source | None = None,
    date_window: tuple[dt.date, dt.date] | None = None,
) -> FileResult:
    """Read, map, convert and check one file into temp table _accepted; nothing is written yet.

    `name` is the file name to report (an upload's own name when `path` is a temporary copy);
    `mapping` (canonical column -> header) and `encoding` override what is detected (a
    `partial_mapping` only for the columns it names). `source` is the file already opened by
    read.open_source (outside the write transaction); without it, `con` must not be in one.
    `date_window` (default plausible_dates()) bounds the dates accepted.
    """
    name = name or path.name
    if source is None:
        source = read.open_source(con, path, name, encoding, max_bytes)
        try:
            return stage_file(con, path, table, day_first, name, mapping, encoding, max_bytes, partial_mapping,
                              source, date_window)
        finally:
            source.close()
    try:
        return _staged(con, source, table, day_first, name, mapping, partial_mapping, date_window)
    except duckdb.OutOfMemoryException as e:  # a file too big for the server's memory, never a traceback
        raise refuse("ingest.csv.memory", file=name) from e


def _staged(con: duckdb.DuckDBPyConnection, source: read.Source, table: contract.Table | None, day_first: bool,
            name: str, mapping: dict[str, str] | None, partial_mapping: bool,
            date_window: tuple[dt.date, dt.date] | None) -> FileResult:
    headers = read.read_raw(con, source, name)
    n_read = con.execute("select count(*) from _raw_text").fetchone()[0]
    if n_read == 0:
        raise refuse("ingest.file.no_rows", file=name)
    table = table or detect_table(headers, name)
    chosen = mapping
    mapping = resolve_mapping(table, headers, name, chosen, partial_mapping)
    # Guessed columns are checked against their values; a doubtful guess is left out (guess.py).
    guessed = set(mapping) if chosen is None else (set(mapping) - set(chosen) if partial_mapping else set())
    mapping, guesses = guess.checked_mapping(con, "_raw", table, mapping, guessed, headers)
    price_header = unit_price_header(headers, mapping) if table.name == "orders" else None
    if "amount" in mapping:
        price_header = None
    extras = _extra_columns(table, headers, mapping, price_header)

    clean_cols = {h: f"_v{i}" for i, h in enumerate(headers)}
    # Fixed values (a mapping "=lead") become constant columns, bound as parameters.
    fixed = sorted({v for c, v in mapping.items() if v not in headers and is_fixed(v)})
    clean_cols.update({v: f"_f{i}" for i, v in enumerate(fixed)})
    clean_kind = _make_clean(con, headers, clean_cols, fixed, source.missing)
    read_as, label_params = _labelled(clean_cols, layouts.value_labels(headers))
    typed, checked = ["_row"], []
    generated = generates_order_ids(table, mapping)
    for col in table.columns:
        if col.name == "order_id" and generated:
            # The file's own line (or a sheet's row): past title lines, or from 1 without a header row.
            typed.append(f"$file_name || '#' || (_row + {int(source.header_row) - 1})::varchar as order_id")
        elif col.name in mapping:
            # (a label is text: a coded header mapped to a number or a date converts its codes, as typed)
            v = read_as(mapping[col.name]) if col.type == "VARCHAR" else clean_cols[mapping[col.name]]
            typed.append(f"{convert.convert_expr(con, col, v, day_first)} as {quote_ident(col.name)}")
            if text_column(col) != quote_ident(col.name):  # text is kept as it is: its own text
                typed.append(f"{v} as {text_column(col)}")
            checked.append(col)
        elif col.name == "amount" and price_header:
            price = convert.convert_expr(con, contract.Column("unit_price", "DOUBLE"), clean_cols[price_header], day_first)
            qty = convert.convert_expr(con, table.column("quantity"), clean_cols[mapping["quantity"]], day_first)
            typed.append(f"({qty}) * ({price}) as amount")
            typed.append(f"{price} as _unit_price, {clean_cols[price_header]} as _text_unit_price")
        else:
            typed.append(f"null::{col.type} as {quote_ident(col.name)}")
    typed += [f"{read_as(h)} as {quote_ident(n)}" for n, h in extras.items()]
    sql = "create or replace temp table _typed as select " + ", ".join(typed) + " from _clean"
    tokens = {"true_tokens": convert.TRUE_TOKENS, "false_tokens": convert.FALSE_TOKENS, "file_name": name,
              **label_params}
    con.execute(sql, {k: v for k, v in tokens.items() if f"${k}" in sql})
    con.execute(f"drop {clean_kind} _clean")  # each full copy of a file dropped once used: a wide file holds two at most

    repeated = _repeated_keys(con, table, mapping, checked)
    is_lines = bool(price_header) or _has_order_lines(con, table, mapping, repeated)
    is_log = not is_lines and status_log.is_status_log(con, table, mapping, repeated)
    n_rejected = find_rejects(con, table, checked, check_key=not (is_lines or is_log), unit_price=bool(price_header),
                              date_window=date_window or plausible_dates(), bad_text=source.bad_bytes > 0,
                              lines=is_lines, repeated=repeated, status_log=is_log)
    read_delimiter = "\t" if source.delimiter == read.WHITESPACE else source.delimiter  # read from a tab copy
    if truncated.cut_off_last_row(source.path, source.read_encoding, read_delimiter, len(headers)):
        n_rejected = _reject_cut_off_row(con)
    read.drop_raw(con)
    con.execute("drop table if exists _repeated")
    columns = [c.name for c in table.columns] + list(extras)
    n_lines = n_cancelled = n_changes = 0
    if is_lines:
        n_lines, n_cancelled = fold_order_lines(con, columns, extras, layouts.order_level_columns(headers, mapping))
    elif is_log:
        n_changes = status_log.fold_status_log(con, columns, mapping)
    else:
        con.execute(
            "create or replace temp table _accepted as select _row, "
            + ", ".join(quote_ident(c) for c in columns)
            + " from _typed where _row not in (select row_no from _rejects) order by _row"
        )
    con.execute("drop table _typed; drop table if exists _lines")
    n_loaded = con.execute("select count(*) from _accepted").fetchone()[0]
    offset = source.header_row - 1
    return FileResult(
        name, table.name, source.encoding, mapping, extras, n_read, n_loaded, shown_rejects(con, name, offset),
        delimiter=source.delimiter, headers=headers, n_rejected=n_rejected,
        n_lines=n_lines, n_cancelled=n_cancelled, n_changes=n_changes, generated_ids=generated, guesses=guesses, sheet=source.sheet,
        row_offset=offset, header_row=source.header_row, header_detected=source.header_detected,
        preview=con.execute(f"select * exclude (_row) from _accepted order by _row limit {PREVIEW_ROWS}").df(),
    )


def _labelled(clean_cols: dict[str, str], labels: dict[str, dict[str, str]]):
    """How _typed reads each header: its clean column, with a known layout's labels in place of its codes
    (layouts.value_labels); and the parameters those labels are bound as."""
    params = {}
    for header, codes in labels.items():
        params[f"codes{clean_cols[header]}_"] = list(codes)  # the _ ends the name: _v1_ is no part of _v10_
        params[f"labels{clean_cols[header]}_"] = list(codes.values())

    def read_as(header: str) -> str:
        v = clean_cols[header]
        return f"coalesce($labels{v}_[list_position($codes{v}_, {v})], {v})" if header in labels else v

    return read_as, params


def shown_rejects(con: duckdb.DuckDBPyConnection, name: str, offset: int = 0):
    """The rejects as listed to the user: row numbers of the sheet (a workbook's title rows counted)."""
    rejects = listed_rejects(con, name)
    return rejects.assign(row=rejects["row"] + offset) if offset else rejects


def _reject_cut_off_row(con: duckdb.DuckDBPyConnection) -> int:
    """The last row of a file cut off mid-row is a reject (truncated); returns the rows rejected."""
    con.execute("insert into _rejects select max(_row), '', null, 'truncated' from _raw")
    return con.execute("select count(distinct row_no) from _rejects").fetchone()[0]


def _extra_columns(table: contract.Table, headers: list[str], mapping: dict[str, str],
                   price_header: str | None) -> dict[str, str]:
    taken = {c.name for c in table.columns}
    extras: dict[str, str] = {}
    for header in headers:
        if header not in mapping.values() and header != price_header:
            # A name from the header's start: a 20,000-character header is no column name.
            extras[contract.extra_column_name(header[:MAX_EXTRA_NAME], taken | set(extras))] = header
    return extras


def _make_clean(con: duckdb.DuckDBPyConnection, headers: list[str], clean_cols: dict[str, str], fixed: list[str],
                missing: tuple[str, ...]) -> str:
    """_clean: every column of _raw trimmed, its 'missing' spellings NULL (convert.cleaned), plus the fixed
    values' constant columns; returns "view" or "table". A view in the usual case: the values are cleaned
    as _typed is made, in the same pass, rather than stored once more. A table when fixed values or the
    user's own missing words are bound as parameters (a view keeps no parameters)."""
    select = ("select _row, " + ", ".join([f"{convert.cleaned(h)} as {clean_cols[h]}" for h in headers]
                                         + [f"$f{i}::varchar as _f{i}" for i in range(len(fixed))]) + " from _raw")
    words = sorted({w.strip().lower() for w in missing if w.strip()})
    if not fixed and not words:
        con.execute("create or replace temp view _clean as " + select)
        return "view"
    con.execute("create or replace temp table _clean as " + select,
                {f"f{i}": v[len(FIXED_PREFIX):] for i, v in enumerate(fixed)})
    if words:
        # The user's own "missing" words (besides convert.NULL_TOKENS), whole cells, any case.
        cols = [c for c in clean_cols.values() if c.startswith("_v")]
        con.execute("update _clean set " + ", ".join(f"{c} = if(list_contains($words, lower({c})), null, {c})"
                                                     for c in cols), {"words": words})
    return "table"


def _repeated_keys(con: duckdb.DuckDBPyConnection, table: contract.Table, mapping: dict[str, str],
                   checked: list[contract.Column]) -> str | None:
    """Temp table _repeated: each key value on more than one row of _typed, with its row count (and, for
    orders with products, the smallest and largest product and customer of its rows); one pass grouping the
    keys, which both the order-lines test and the duplicate-key check read (usually a handful of rows).
    None when the file's key is not checked."""
    if not table.key or not any(col.name == table.key for col in checked):
        return None
    k = quote_ident(table.key)
    lines = table.name == "orders" and "product" in mapping and table.key == "order_id"
    extra = (", min(product) as min_product, max(product) as max_product, min(customer_id) as min_customer, "
             "max(customer_id) as max_customer") if lines else ""
    con.execute(f"create or replace temp table _repeated as select {k}, count(*) as n{extra} from _typed "
                f"where {k} is not null group by {k} having count(*) > 1")
    return "_repeated"


def _has_order_lines(con: duckdb.DuckDBPyConnection, table: contract.Table, mapping: dict[str, str],
                     repeated: str | None = None) -> bool:
    """One row per order line: order ids on several rows with different products (and one
    customer) make up ORDER_LINES_MIN_SHARE of the rows, not just one repeated id.

    `repeated` (_repeated_keys, when the order id is checked) holds the ids on several rows: an id's
    products differ when its smallest and largest differ, it names one customer (or none) when its
    smallest and largest customer are the same (or both missing)."""
    if table.name != "orders" or "product" not in mapping:
        return False
    if repeated is not None:
        line_rows, all_rows = con.execute(
            f"select (select coalesce(sum(n) filter (where min_product < max_product and "
            f"min_customer is not distinct from max_customer), 0) from {repeated}), "
            f"(select count(order_id) from _typed)"
        ).fetchone()
    else:
        line_rows, all_rows = con.execute(
            "select coalesce(sum(n) filter (where n > 1 and n_products > 1 and n_customers <= 1), 0), "
            "coalesce(sum(n), 0) from (select order_id, count(*) as n, count(distinct product) as n_products, "
            "count(distinct customer_id) as n_customers from _typed where order_id is not null group by order_id)"
        ).fetchone()
    return all_rows > 0 and line_rows >= ORDER_LINES_MIN_SHARE * all_rows


def fold_order_lines(con: duckdb.DuckDBPyConnection, columns: list[str], extras: dict[str, str],
                     once: set[str] = frozenset()) -> tuple[int, int]:
    """Turn accepted order lines into one row per order in _accepted; return (lines, cancelled orders).

    An order is cancelled when a line has a negative quantity or a cancel status, or its
    id has a cancel marker (a leading C, when most ids of the file do not start with C).
    """
    con.execute(
        "create or replace temp table _lines as select * from _typed "
        "where _row not in (select row_no from _rejects)"
    )
    marker = con.execute(
        "select count(*) filter (where regexp_matches(order_id, '^[Cc]')) < count(*) / 2 from _lines"
    ).fetchone()[0]
    # the first line's value; a guest line (no customer) does not hide the customer another line names
    firsts = ", ".join(
        f"arg_min({quote_ident(c)}, _row) filter (where {quote_ident(c)} is not null) as {quote_ident(c)}"
        if c == "customer_id" else f"arg_min({quote_ident(c)}, _row) as {quote_ident(c)}"
        for c in columns if c not in ("order_id", "order_date", "amount", "cost", "quantity", "status")
    )
    con.execute(
        f"""
        create or replace temp table _accepted as
        select min(_row) as _row, order_id, {firsts},
               min(order_date) as order_date, {"max" if "amount" in once else "sum"}(amount) as amount,
               {"max" if "cost" in once else "sum"}(cost) as cost, sum(quantity) as quantity,
               case when bool_or(coalesce(quantity, 0) < 0)
                      or bool_or(list_contains($cancel_statuses, lower(coalesce(status, ''))))
                      or ($marker and bool_or(regexp_matches(order_id, '^[Cc]')))
                    then 'cancelled' else arg_min(status, _row) end as status
        from _lines
        group by order_id
        order by min(_row)
        """,
        {"cancel_statuses": list(vocab.CANCELLED_STATUSES), "marker": marker},
    )
    n_lines = con.execute("select count(*) from _lines").fetchone()[0]
    n_cancelled = con.execute("select count(*) from _accepted where status = 'cancelled'").fetchone()[0]
    return n_lines, n_cancelled
