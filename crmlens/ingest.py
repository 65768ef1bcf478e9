"""The only module that turns files into tables.

A load reads each CSV with DuckDB (all columns as text), maps its headers onto a
canonical table (`contract`), converts every value in SQL, lists the rows that
cannot be converted as rejects (file, row, column, value, reason) and writes the
rest, all inside one `store.writer()` transaction: either every file of a load
lands, or none does and the data stays exactly as it was.
"""

from __future__ import annotations

import codecs
import hashlib
import pathlib
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from crmlens import contract, store

NULL_TOKENS = ["", "na", "n/a", "null", "none", "nan", "-", "--", "#n/a", "无", "空"]
MAX_REJECT_SHARE = 0.05
SNIFF_BYTES = 1 << 20
MAX_LISTED_REJECTS = 10_000

# Date and date-time layouts, by family. ISO-like and Chinese layouts are never
# ambiguous; month-first and day-first are, so a column uses one of the two:
# whichever parses more of its values (day-first wins a tie only if asked).
ISO_FORMATS = ["%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y.%m.%d", "%Y%m%d"]
CN_FORMATS = ["%Y年%m月%d日", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日%H:%M", "%Y年%m月%d日%H时%M分"]
# Two-digit years come first: DuckDB's %Y also accepts "11" (as the year 11), while %y
# refuses "2011"; formats are tried in order.
MDY_FORMATS = ["%m/%d/%y", "%m/%d/%y %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m-%d-%Y"]
DMY_FORMATS = ["%d/%m/%y", "%d/%m/%y %H:%M", "%d/%m/%y %H:%M:%S", "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d-%m-%Y"]
EXCEL_EPOCH = "1899-12-30"

TRUE_TOKENS = ["yes", "y", "true", "t", "1", "是", "对", "√"]
FALSE_TOKENS = ["no", "n", "false", "f", "0", "否", "不是", "×"]


REJECTS_SQL = (
    'select $file as "file", row_no as "row", column_name as "column", value, reason '
    "from _rejects order by row_no, column_name limit $limit"
)


class IngestError(Exception):
    """A file that cannot be loaded; the message says which file, column and what to do."""

    def __init__(self, message: str, rejects: pd.DataFrame | None = None):
        super().__init__(message)
        self.rejects = rejects


@dataclass
class FileResult:
    file_name: str
    table: str
    encoding: str
    mapping: dict[str, str]  # canonical column -> file header
    extras: dict[str, str]  # stored column -> file header, for columns outside the contract
    n_read: int
    n_loaded: int
    rejects: pd.DataFrame = field(repr=False)  # file, row, column, value, reason

    @property
    def n_rejected(self) -> int:
        # Rows, not reject entries: one row can fail several checks, and the list is capped.
        return self.n_read - self.n_loaded


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def detect_encoding(path: pathlib.Path) -> str:
    """The encoding name DuckDB's read_csv should use for this file."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for name, duckdb_name in (("utf-8", "utf-8"), ("gb18030", "gb18030")):
        try:
            codecs.getincrementaldecoder(name)().decode(head, final=len(head) < SNIFF_BYTES)
            return duckdb_name
        except UnicodeDecodeError:
            continue
    return "latin-1"


def check_file(path: pathlib.Path, name: str) -> None:
    if not path.is_file():
        raise IngestError(f"{name}: file not found ({path}).")
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head.strip():
        raise IngestError(f"{name}: the file is empty. Export it again with its rows.")
    is_utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not is_utf16:
        raise IngestError(f"{name}: this is not a text CSV file (it holds binary data). Save it as CSV and load that.")


def file_hash(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_raw(con: duckdb.DuckDBPyConnection, path: pathlib.Path, encoding: str, name: str) -> list[str]:
    """Read the CSV into temp table _raw (all text, plus _row: the row number a spreadsheet shows)."""
    if encoding not in ("utf-8", "utf-16", "latin-1"):
        con.execute("load encodings")
    try:
        con.execute(
            "create or replace temp table _raw as "
            "select row_number() over () + 1 as _row, * "
            "from read_csv($path, all_varchar = true, header = true, encoding = $encoding, strict_mode = false, escape = '\"')",
            {"path": str(path), "encoding": encoding},
        )
    except duckdb.Error as e:
        raise IngestError(f"{name}: could not be read as a CSV file ({e}). Check that it is a CSV export.") from e
    headers = [r[0] for r in con.execute("select column_name from (describe _raw)").fetchall()][1:]
    return headers


def _required_missing(columns: list[str]) -> str:
    if len(columns) == 1:
        return f"the required column {columns[0]} is missing"
    return f"the required columns {', '.join(columns)} are missing"


def detect_table(headers: list[str], file_name: str) -> contract.Table:
    """The table a file is for: the one named in the file name, else the one most of its columns fit.

    A table is only picked when all its required columns are present; a file that
    fits one table best but lacks a required column is refused, never loaded into
    a lesser match (an orders export without amounts must not replace the customers).
    """
    stem = contract.normalize_header(pathlib.Path(file_name).stem)

    def score(table: contract.Table) -> tuple[bool, int]:
        named = any(contract.normalize_header(h) in stem for h in table.file_hints)
        return (named, len(contract.match_columns(table, headers)))

    best = max(contract.TABLES.values(), key=score)
    missing = [c for c in best.required if c not in contract.match_columns(best, headers)]
    if missing:
        raise IngestError(
            f"{file_name}: looks like {best.name}, but {_required_missing(missing)} "
            f"(found columns: {', '.join(headers)}). Add or rename the column in the file, or choose the "
            f"table by hand."
        )
    return best


def _cleaned(header: str) -> str:
    """A file column as trimmed text, with the usual 'missing' spellings (NA, null, -) as NULL."""
    h = quote_ident(header)
    return f"case when lower(trim({h})) in (select unnest($null_tokens)) then null else trim({h}) end"


def _sql_list(items: list[str]) -> str:
    # Our own format constants, never user input.
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


def _date_families(con: duckdb.DuckDBPyConnection, v: str, day_first: bool) -> list[list[str]] | None:
    """Pick month-first or day-first layouts for a column; None means Excel serial numbers."""
    mdy, dmy, serial, total = con.execute(
        f"select count(try_strptime({v}, {_sql_list(MDY_FORMATS)})), "
        f"count(try_strptime({v}, {_sql_list(DMY_FORMATS)})), "
        f"count(*) filter (where try_cast({v} as double) between 1 and 80000), count({v}) "
        f"from _clean"
    ).fetchone()
    if total and serial == total:
        return None
    if mdy == dmy:
        middle = DMY_FORMATS if day_first else MDY_FORMATS
    else:
        middle = DMY_FORMATS if dmy > mdy else MDY_FORMATS
    return [ISO_FORMATS, CN_FORMATS, middle]


def convert_expr(con: duckdb.DuckDBPyConnection, column: contract.Column, v: str, day_first: bool) -> str:
    """SQL turning the cleaned text column `v` of _clean into the canonical type (NULL if it cannot)."""
    if column.type in ("DATE", "TIMESTAMP"):
        families = _date_families(con, v, day_first)
        if families is None:
            # Excel serial days; the fraction is the time of day (45294.75 = 2024-01-03 18:00).
            expr = (
                f"timestamp '{EXCEL_EPOCH}' + "
                f"to_microseconds(try_cast(round(try_cast({v} as double) * 86400e6) as bigint))"
            )
        else:
            *year_first, middle = families
            formats = _sql_list([f for family in year_first for f in family])
            # Casts and year-first layouts only for values that start with a 4-digit year:
            # DuckDB's cast reads '1/2/11' as 11 February of the year 1.
            expr = (
                f"coalesce(case when regexp_matches({v}, '^\\d{{4}}') then coalesce("
                f"case when regexp_matches({v}, '(Z|[+-]\\d\\d:?\\d\\d)$') "
                f"then try_cast({v} as timestamptz) at time zone 'UTC' end, "
                f"try_cast({v} as timestamp), try_strptime({v}, {formats})) end, "
                f"try_strptime({v}, {_sql_list(middle)}))"
            )
        return f"({expr})::{column.type}"
    if column.type in ("DOUBLE", "INTEGER"):
        cleaned = (
            f"replace(regexp_replace({v}, '^[¥￥$€£]\\s*|^(RMB|CNY|USD|EUR)\\s*|\\s*(元|RMB|CNY|USD|EUR)$', '', 'g'), ',', '')"
        )
        number = (
            f"case when ends_with({cleaned}, '%') "
            f"then try_cast(rtrim({cleaned}, '%') as double) / 100 else try_cast({cleaned} as double) end"
        )
        return f"try_cast({number} as {column.type})"
    if column.type == "BOOLEAN":
        return (
            f"case when lower({v}) in (select unnest($true_tokens)) then true "
            f"when lower({v}) in (select unnest($false_tokens)) then false end"
        )
    return v


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: pathlib.Path,
    table: contract.Table | None = None,
    day_first: bool = False,
    name: str | None = None,
) -> FileResult:
    """Read, map, convert and check one file into temp table _typed; nothing is written yet.

    `name` is the file name to report (an upload's own name when `path` is a temporary copy).
    """
    name = name or path.name
    check_file(path, name)
    encoding = detect_encoding(path)
    headers = read_raw(con, path, encoding, name)
    n_read = con.execute("select count(*) from _raw").fetchone()[0]
    if n_read == 0:
        raise IngestError(f"{name}: the file has a header row but no data rows.")
    table = table or detect_table(headers, name)
    mapping = contract.match_columns(table, headers)
    missing = [c for c in table.required if c not in mapping]
    if missing:
        raise IngestError(
            f"{name}: {_required_missing(missing)} for table {table.name} "
            f"(found columns: {', '.join(headers)}). Rename the column in the file or map it by hand."
        )
    taken = {c.name for c in table.columns}
    extras: dict[str, str] = {}
    for header in headers:
        if header not in mapping.values():
            extras[contract.extra_column_name(header, taken | set(extras))] = header

    clean_cols = {h: f"_v{i}" for i, h in enumerate(headers)}
    con.execute(
        "create or replace temp table _clean as select _row, "
        + ", ".join(f"{_cleaned(h)} as {clean_cols[h]}" for h in headers)
        + " from _raw",
        {"null_tokens": NULL_TOKENS},
    )
    typed, checks = ["_row"], []
    for col in table.columns:
        if col.name in mapping:
            v = clean_cols[mapping[col.name]]
            typed.append(f"{convert_expr(con, col, v, day_first)} as {quote_ident(col.name)}")
            typed.append(f"{v} as {quote_ident('_text_' + col.name)}")
            checks.append(col)
        else:
            typed.append(f"null::{col.type} as {quote_ident(col.name)}")
    typed += [f"{clean_cols[h]} as {quote_ident(name)}" for name, h in extras.items()]
    sql = "create or replace temp table _typed as select " + ", ".join(typed) + " from _clean"
    tokens = {"true_tokens": TRUE_TOKENS, "false_tokens": FALSE_TOKENS}
    con.execute(sql, {k: v for k, v in tokens.items() if f"${k}" in sql})
    n_rejected = find_rejects(con, table, checks)
    rejects = con.execute(
        REJECTS_SQL,
        {"file": name, "limit": MAX_LISTED_REJECTS},
    ).df()
    return FileResult(name, table.name, encoding, mapping, extras, n_read, n_read - n_rejected, rejects)


def find_rejects(con: duckdb.DuckDBPyConnection, table: contract.Table, checked: list[contract.Column]) -> int:
    """Fill temp table _rejects (row, column, value, reason); return how many rows are rejected."""
    parts = []
    for col in checked:
        c, text = quote_ident(col.name), quote_ident("_text_" + col.name)
        parts.append(
            f"select _row as row_no, '{col.name}' as column_name, {text} as value, "
            f"'invalid_{col.type.lower()}' as reason from _typed where {text} is not null and {c} is null"
        )
        if col.required:
            parts.append(
                f"select _row, '{col.name}', null, 'missing_value' from _typed where {text} is null"
            )
    if table.key and any(col.name == table.key for col in checked):
        k = quote_ident(table.key)
        parts.append(
            f"select _row, '{table.key}', {k}, 'duplicate_key' from "
            f"(select _row, {k}, row_number() over (partition by {k} order by _row) as n from _typed where {k} is not null) "
            f"where n > 1"
        )
    if table.name == "complaints":
        for col in ("first_response_at", "resolved_at"):
            parts.append(
                f"select _row, '{col}', {quote_ident('_text_' + col) if any(c.name == col for c in checked) else 'null'}, "
                f"'before_created' from _typed where {col} < created_at"
            )
    con.execute("create or replace temp table _rejects as " + " union all ".join(parts))
    return con.execute("select count(distinct row_no) from _rejects").fetchone()[0]


def write_table(con: duckdb.DuckDBPyConnection, result: FileResult, mode: str) -> None:
    """Move the accepted rows of _typed into the result's table (replace or append)."""
    table = contract.TABLES[result.table]
    columns = [c.name for c in table.columns] + list(result.extras)
    select = (
        "select " + ", ".join(quote_ident(c) for c in columns)
        + " from _typed where _row not in (select row_no from _rejects) order by _row"
    )
    target = quote_ident(table.name)
    if mode == "replace":
        con.execute(f"create or replace table {target} as {select}")
        return
    # Append in place (no rewrite of the rows already there); new extra columns are added first.
    existing = {r[0] for r in con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = 'main' and table_name = $t", {"t": table.name}
    ).fetchall()}
    for name in result.extras:
        if name not in existing:
            con.execute(f"alter table {target} add column {quote_ident(name)} varchar")
    con.execute(f"insert into {target} by name {select}")


def reject_already_loaded(con: duckdb.DuckDBPyConnection, result: FileResult) -> int:
    """In append mode, rows whose key is already in the table are rejects too."""
    table = contract.TABLES[result.table]
    if not table.key or table.key not in result.mapping:
        return 0
    k = quote_ident(table.key)
    before = con.execute("select count(distinct row_no) from _rejects").fetchone()[0]
    con.execute(
        f"insert into _rejects select _row, '{table.key}', {k}, 'already_loaded' from _typed "
        f"where {k} in (select {k} from {quote_ident(table.name)})"
    )
    return con.execute("select count(distinct row_no) from _rejects").fetchone()[0] - before


def load_files(
    paths: list[str | pathlib.Path],
    db: str | pathlib.Path | None = None,
    mode: str = "replace",
    table: str | None = None,
    day_first: bool = False,
    max_reject_share: float = MAX_REJECT_SHARE,
    file_names: list[str] | None = None,
) -> list[FileResult]:
    """Load files as one transaction. Raises IngestError (data unchanged) on a bad file.

    When several files go to the same table in replace mode, the first replaces
    it and the others are appended. `file_names` gives the names to report (an
    upload's original names) when `paths` are temporary copies.
    """
    if mode not in ("replace", "append"):
        raise ValueError(f"mode must be replace or append, not {mode!r}")
    paths = [pathlib.Path(p) for p in paths]
    names = file_names or [p.name for p in paths]
    results: list[FileResult] = []
    replaced: set[str] = set()
    with store.writer(db) as con:
        for path, name in zip(paths, names):
            result = stage_file(con, path, contract.TABLES[table] if table else None, day_first, name)
            file_mode = "append" if (mode == "append" or result.table in replaced) else "replace"
            if file_mode == "append":
                extra = reject_already_loaded(con, result)
                result.n_loaded -= extra
                if extra:  # list the already-loaded rows too
                    result.rejects = con.execute(REJECTS_SQL, {"file": name, "limit": MAX_LISTED_REJECTS}).df()
            _refuse_if_too_many_rejects(con, result, name, max_reject_share)
            write_table(con, result, file_mode)
            replaced.add(result.table)
            record_load(con, result, file_mode, file_hash(path))
            results.append(result)
    return results


def _refuse_if_too_many_rejects(con, result: FileResult, name: str, max_share: float) -> None:
    n_rejected = result.n_read - result.n_loaded
    if n_rejected and n_rejected / result.n_read > max_share:
        rejects = con.execute(
            REJECTS_SQL,
            {"file": name, "limit": MAX_LISTED_REJECTS},
        ).df()
        first = rejects.iloc[0]
        raise IngestError(
            f"{name}: {n_rejected} of {result.n_read} rows ({n_rejected / result.n_read:.1%}) cannot be loaded, "
            f"more than the {max_share:.0%} allowed; first: row {first['row']}, column {first['column']}, "
            f"{describe_reason(first['reason'])} ({first['value']!r}). Fix the file, or allow more rejects "
            f"to load the good rows only.",
            rejects,
        )


def record_load(con: duckdb.DuckDBPyConnection, result: FileResult, mode: str, content_hash: str) -> None:
    con.execute(
        "insert into loads select coalesce(max(load_id), 0) + 1, "
        "(select coalesce(max(version), 0) + 1 from meta), current_localtimestamp(), "
        "$file, $table, $mode, $n_rows, $n_rejected, $hash from loads",
        {
            "file": result.file_name, "table": result.table, "mode": mode,
            "n_rows": result.n_loaded, "n_rejected": result.n_read - result.n_loaded, "hash": content_hash,
        },
    )


REASONS = {
    "invalid_date": "not a date",
    "invalid_timestamp": "not a date-time",
    "invalid_double": "not a number",
    "invalid_integer": "not a whole number",
    "invalid_boolean": "not yes/no",
    "missing_value": "value missing in a required column",
    "duplicate_key": "duplicate id (an earlier row has it)",
    "already_loaded": "id already loaded",
    "before_created": "earlier than the creation time",
}


def describe_reason(code: str) -> str:
    return REASONS.get(code, code)


def load_tables(tables: dict[str, "pyarrow.Table | pd.DataFrame"], db: str | pathlib.Path | None = None, source: str = "demo") -> None:
    """Replace whole tables with ready-made canonical data (the demo generator's output)."""
    with store.writer(db) as con:
        for name, data in tables.items():
            con.register("_incoming", data)
            con.execute(f"create or replace table {quote_ident(name)} as select * from _incoming")
            con.unregister("_incoming")
            n_rows = con.execute(f"select count(*) from {quote_ident(name)}").fetchone()[0]
            result = FileResult(source, name, "", {}, {}, n_rows, n_rows, pd.DataFrame())
            record_load(con, result, "replace", "")
