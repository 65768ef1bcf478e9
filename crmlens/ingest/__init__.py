"""The only module that turns files into tables.

A load first opens every file outside any transaction (`read`: is it a text CSV, its
encoding, header and delimiter; `decode`: a clean UTF-8 copy when DuckDB cannot read it
as it is), then reads each CSV with DuckDB (all columns as text), maps its headers onto a
canonical table (`contract`), converts every value in SQL, lists the rows that
cannot be converted as rejects (file, row, column, value, reason), folds order
lines into orders, and writes the rest, all inside one `store.writer()`
transaction: either every file of a load lands, or none does and the data stays
exactly as it was. `inspect_file` runs the same staging without writing, for the
Data page's preview.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import pathlib
from typing import Callable

import duckdb
import pandas as pd

from crmlens import contract, model, store
from crmlens.ingest import mappings, read
from crmlens.ingest.convert import quote_ident
from crmlens.ingest.decode import detect_encoding
from crmlens.ingest.errors import IngestError, describe_reason, refuse
from crmlens.ingest.mappings import FileOptions, check_options, header_signature, saved_mapping
from crmlens.ingest.read import DELIMITER_CHOICES, ENCODINGS, MAX_COLUMNS, WHITESPACE, file_hash
from crmlens.ingest.rejects import plausible_dates
from crmlens.ingest.stage import FileResult, detect_table, guess_table, is_fixed, shown_rejects, stage_file

__all__ = [
    "DELIMITER_CHOICES", "ENCODINGS", "WHITESPACE", "FileOptions", "MAX_COLUMNS", "MODES", "FileResult", "IngestError", "MAX_REJECT_SHARE", "describe_reason",
    "detect_encoding", "detect_table", "guess_table", "header_signature", "is_fixed", "read_headers", "read_layout", "open_header", "inspect_file", "load_files", "load_tables",
    "check_options", "plausible_dates", "saved_mapping",
]

MAX_REJECT_SHARE = 0.05
# replace: the files become the table; append: add rows (ids already loaded are rejected);
# update: rows with an id already loaded fill in the columns the file has, new ids are added.
MODES = ("replace", "append", "update")
Progress = Callable[[float, str], None]


def read_headers(path: pathlib.Path, encoding: str | None = None, name: str | None = None,
                 delimiter: str | None = None, sheet: str | None = None, header_row: int | None = None) -> list[str]:
    """The header row of a CSV file (checked to be a text file first), or of a workbook's sheet."""
    return read_layout(path, encoding, name, delimiter, sheet, header_row)[0]


def read_layout(path: pathlib.Path, encoding: str | None = None, name: str | None = None,
                delimiter: str | None = None, sheet: str | None = None,
                header_row: int | None = None) -> tuple[list[str], str, bool]:
    """(header row, delimiter found, whether the delimiter detection was unsure) of a CSV file or a sheet."""
    return open_header(path, encoding, name, delimiter, sheet, header_row)[:3]


def open_header(path: pathlib.Path, encoding: str | None = None, name: str | None = None,
                delimiter: str | None = None, sheet: str | None = None,
                header_row: int | None = None) -> tuple[list[str], str, bool, int, int, list[list[str]]]:
    """read_layout, and the header's line used, the line detection found, and the file's top rows (as fields)."""
    path = pathlib.Path(path)
    with contextlib.closing(store.scratch()) as con:
        source = read.open_source(con, path, name or path.name, encoding, delimiter=delimiter, sheet=sheet,
                                  header_row=header_row)
        source.close()
        return (source.headers, source.delimiter, source.delimiter_unsure, source.header_row, source.header_detected,
                source.top_rows)


def inspect_file(path: str | pathlib.Path, name: str | None = None, options: FileOptions = FileOptions(),
                 day_first: bool = False, db: str | pathlib.Path | None = None,
                 date_window: tuple[dt.date, dt.date] | None = None) -> FileResult:
    """Stage a file without writing anything: detected table, encoding, mapping, preview, rejects."""
    path = pathlib.Path(path)
    name = name or path.name
    check_options(options, name)
    date_window = date_window or plausible_dates()
    with contextlib.closing(store.scratch()) as con:
        source = read.open_source(con, path, name, options.encoding, delimiter=options.delimiter, sheet=options.sheet,
                                  header_row=options.header_row)
        source.missing = tuple(options.missing)
        try:
            options = mappings.with_saved(source.headers, options, db)
            return _noted(stage_file(con, path, contract.TABLES[options.table] if options.table else None, day_first,
                                     name, options.mapping, options.encoding, partial_mapping=options.partial,
                                     source=source, date_window=date_window), options)
        finally:
            source.close()


def _noted(result: FileResult, options: FileOptions) -> FileResult:
    result.saved_mapping, result.kept_own_columns = options.saved, list(options.kept_own)
    result.layout = options.layout or ""
    return result


def load_files(
    paths: list[str | pathlib.Path],
    db: str | pathlib.Path | None = None,
    mode: str = "replace",
    table: str | None = None,
    day_first: bool = False,
    max_reject_share: float = MAX_REJECT_SHARE,
    file_names: list[str] | None = None,
    options: list[FileOptions] | None = None,
    progress: Progress | None = None,
    date_window: tuple[dt.date, dt.date] | None = None,
) -> list[FileResult]:
    """Load files as one transaction. Raises IngestError (data unchanged) on a bad file.

    When several files go to the same table in replace mode, the first replaces
    it and the others are appended. `file_names` gives the names to report (an
    upload's original names) when `paths` are temporary copies; `options` gives
    each file's table, mapping and encoding when the user chose them (`table`
    applies to every file otherwise). `date_window` bounds the dates accepted (default:
    plausible_dates(), 1900-01-01 to a year after today).

    Each file is opened (checked, decoded, its header and delimiter sniffed) before the
    write transaction starts: an error there would abort the transaction.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    paths = [pathlib.Path(p) for p in paths]
    names = file_names or [p.name for p in paths]
    options = [check_options(o, n) for o, n in zip(options or [FileOptions(table=table) for _ in paths], names)]
    date_window = date_window or plausible_dates()
    report = progress or (lambda fraction, message: None)
    results: list[FileResult] = []
    replaced: set[str] = set()
    with contextlib.ExitStack() as opened:
        with contextlib.closing(store.scratch()) as probe:
            sources = []
            for path, name, opts in zip(paths, names, options):
                sources.append(read.open_source(probe, path, name, opts.encoding, delimiter=opts.delimiter,
                                                sheet=opts.sheet, header_row=opts.header_row))
                sources[-1].missing = tuple(opts.missing)
                opened.callback(sources[-1].close)
        options = [mappings.with_saved(s.headers, o, db) for s, o in zip(sources, options)]
        def write() -> None:  # again from the start when another server committed first (DuckLake)
            results.clear()
            replaced.clear()
            appended: dict[str, bool] = {}  # table -> whether every file this load wrote to it only added rows
            with store.writer(db) as con:
                model.forget_appended(con)
                for i, (path, name, opts, source) in enumerate(zip(paths, names, options, sources)):
                    report(i / (len(paths) + 1), name)
                    result = _noted(stage_file(con, path, contract.TABLES[opts.table] if opts.table else None, day_first,
                                               name, opts.mapping, opts.encoding, partial_mapping=opts.partial,
                                               source=source, date_window=date_window), opts)
                    # A second file for a table this load already replaced adds to it.
                    file_mode = "append" if mode == "replace" and result.table in replaced else mode
                    content_hash = file_hash(path)
                    if mode != "replace" and result.is_status_log:
                        # its tickets are folded from all their changes: a part of the log would lose the others
                        raise refuse("ingest.status_log.whole", file=name)
                    if file_mode != "replace":
                        _refuse_if_loaded_before(con, result, content_hash)
                    if file_mode == "append" and _reject_already_loaded(con, result):
                        result.rejects = shown_rejects(con, name, result.row_offset)
                    _refuse_if_too_many_rejects(result, max_reject_share)
                    owners_before = _owners_before(con, result)
                    _write_table(con, result, file_mode)
                    appended[result.table] = appended.get(result.table, True) and file_mode == "append"
                    if file_mode == "append" and result.table in model.APPENDABLE:
                        model.note_appended(con, result.table, "_accepted")
                    replaced.add(result.table)
                    _record_load(con, result, file_mode, content_hash)
                    _record_owner_changes(con, owners_before)
                    mappings.remember(con, result)
                    results.append(result)
                changed = {r.table for r in results}
                refresh_derived(con, changed | ({"owner_changes"} if "customers" in changed else set()),
                                {t for t, only_added in appended.items() if only_added})
                report(len(paths) / (len(paths) + 1), "publish")
        store.attempts(write)
    report(1.0, "done")
    return results


def _refuse_if_loaded_before(con: duckdb.DuckDBPyConnection, result: FileResult, content_hash: str) -> None:
    """Adding the very same file to a table twice would count its rows twice."""
    row = con.execute(
        "select file_name, loaded_at from loads where content_hash = $h and table_name = $t order by load_id desc limit 1",
        {"h": content_hash, "t": result.table},
    ).fetchone()
    if row:
        raise refuse("ingest.already_loaded", file=result.file_name, table=result.table, earlier=row[0],
                     at=f"{row[1]:%Y-%m-%d %H:%M}")


def _reject_already_loaded(con: duckdb.DuckDBPyConnection, result: FileResult) -> int:
    """In append mode, rows whose key is already in the table are rejects too; returns how many."""
    table = contract.TABLES[result.table]
    if not table.key or table.key not in result.mapping:
        return 0
    k = quote_ident(table.key)
    con.execute(
        f"insert into _rejects select _row, '{table.key}', {k}, 'already_loaded' from _accepted "
        f"where {k} in (select {k} from {quote_ident(table.name)})"
    )
    con.execute("delete from _accepted where _row in (select row_no from _rejects)")
    n_loaded = con.execute("select count(*) from _accepted").fetchone()[0]
    dropped = result.n_loaded - n_loaded
    result.n_loaded = n_loaded
    result.n_rejected = con.execute("select count(distinct row_no) from _rejects").fetchone()[0]
    return dropped


def _refuse_if_too_many_rejects(result: FileResult, max_share: float) -> None:
    share = result.n_rejected / result.n_read
    if result.n_rejected and share > max_share:
        first = result.rejects.iloc[0]
        raise refuse("ingest.too_many_rejects", result.rejects, file=result.file_name, n=result.n_rejected,
                     total=result.n_read, share=f"{share:.1%}", limit=f"{max_share:.0%}", row=first["row"],
                     column=first["column"], reason=first["reason"],
                     value=repr(None if pd.isna(first["value"]) else first["value"])[:200])


def _write_table(con: duckdb.DuckDBPyConnection, result: FileResult, mode: str) -> None:
    """Move the rows of _accepted into the result's table (replace or append)."""
    table = contract.TABLES[result.table]
    columns = [c.name for c in table.columns] + list(result.extras)
    select = "select " + ", ".join(quote_ident(c) for c in columns) + " from _accepted order by _row"
    target = quote_ident(table.name)
    if mode == "replace":
        con.execute(f"create or replace table {target} as {select}")
        return
    # Append or update in place (no rewrite of the other rows); new extra columns are added first.
    existing = {r[0] for r in con.execute(  # (not duckdb_columns(): it lists every attached DuckLake catalog's columns)
        "select name from pragma_table_info($t)",
        {"t": ".".join('"' + part.replace('"', '""') + '"' for part in (con.execute("select current_database()")
                                                                        .fetchone()[0], "main", table.name))}
    ).fetchall()}
    for name in result.extras:
        if name not in existing:
            con.execute(f"alter table {target} add column {quote_ident(name)} varchar")
    if mode == "update" and table.key and table.key in result.mapping:
        k = quote_ident(table.key)
        filled = [c for c in [*result.mapping, *result.extras] if c != table.key]
        if filled:
            sets = ", ".join(f"{quote_ident(c)} = coalesce(a.{quote_ident(c)}, {target}.{quote_ident(c)})" for c in filled)
            con.execute(f"update {target} set {sets} from _accepted a where {target}.{k} = a.{k}")
        con.execute(f"delete from _accepted where {k} in (select {k} from {target})")
    con.execute(f"insert into {target} by name {select}")


def _record_load(con: duckdb.DuckDBPyConnection, result: FileResult, mode: str, content_hash: str) -> None:
    con.execute(
        "insert into loads select coalesce(max(load_id), 0) + 1, "
        f"{store.NEXT_VERSION_SQL}, current_localtimestamp(), "
        "$file, $table, $mode, $n_rows, $n_rejected, $hash from loads",
        {
            "file": result.file_name, "table": result.table, "mode": mode,
            "n_rows": result.n_loaded, "n_rejected": result.n_rejected, "hash": content_hash,
        },
    )




def _owners_before(con: duckdb.DuckDBPyConnection, result: FileResult) -> str | None:
    """Before a load of the customer list: keep each customer's owner (a temp table), so that the load history
    can say whose customers the load took away or handed over (departures, crmlens.departures)."""
    if result.table != "customers":
        return None
    con.execute("create or replace temp table _owners_before as select customer_id, owner from customers "
                "where owner is not null")
    return "_owners_before"


def _record_owner_changes(con: duckdb.DuckDBPyConnection, before: str | None) -> None:
    """After the load recorded by _record_load: the customers whose owner it changed or removed."""
    if before is None:
        return
    con.execute("create table if not exists owner_changes (load_id bigint, changed_on date, customer_id varchar, "
                "owner_before varchar, owner_after varchar)")
    con.execute(
        "insert into owner_changes "
        "select (select max(load_id) from loads), (select max(loaded_at)::date from loads), b.customer_id, b.owner, a.owner "
        "from _owners_before b left join customers a on a.customer_id = b.customer_id "
        "where a.owner is distinct from b.owner")
    con.execute("drop table _owners_before")


def refresh_derived(con: duckdb.DuckDBPyConnection, changed: set[str] | None = None,
                    appended: set[str] = frozenset()) -> None:
    """Rebuild the model (staging views, marts, macros) inside the load's transaction; with `changed` (the tables
    the load wrote), only the marts that read one of them (model.build); `appended`: those of them the load only
    added rows to (their marts are updated for the customers and days of the new rows)."""
    model.build(con, changed, appended)


def ensure_derived(db: str | pathlib.Path | None = None, lock_timeout_s: float = store.WRITE_LOCK_TIMEOUT_S) -> None:
    """Build the model of a database written before it existed (same figures, same version)."""
    model.ensure(db, lock_timeout_s)


def load_tables(tables: dict[str, object], db: str | pathlib.Path | None = None,
                source: str = "demo") -> None:
    """Replace whole tables with ready-made canonical data (the demo generator's output)."""
    store.attempts(lambda: _replace_tables(tables, db, source))


def _replace_tables(tables: dict[str, object], db, source: str) -> None:
    with store.writer(db) as con:
        for name, data in tables.items():
            con.register("_incoming", data)
            con.execute(f"create or replace table {quote_ident(name)} as select * from _incoming")
            con.unregister("_incoming")
            n_rows = con.execute(f"select count(*) from {quote_ident(name)}").fetchone()[0]
            result = FileResult(source, name, "", {}, {}, n_rows, n_rows, pd.DataFrame())
            _record_load(con, result, "replace", "")
        refresh_derived(con)
