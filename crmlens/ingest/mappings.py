"""A file's table, column mapping and encoding: as the user chose them (checked), or as saved
for the last file with the same header (reused, except fixed values for columns the file has)."""

from __future__ import annotations

import hashlib
import json
import pathlib
from dataclasses import dataclass, replace

import duckdb

from crmlens import contract, store
from crmlens.ingest import layouts
from crmlens.ingest.errors import IngestError, refuse
from crmlens.ingest.read import DELIMITER_CHOICES, ENCODINGS, check_header_row
from crmlens.ingest.stage import FileResult, is_fixed


@dataclass(frozen=True)
class FileOptions:
    """What the user chose for one file; None means detect."""

    table: str | None = None
    mapping: dict[str, str] | None = None  # canonical column -> file header
    encoding: str | None = None
    partial: bool = False  # the mapping names some columns; the others are detected as usual
    saved: bool = False  # the table and mapping are the ones saved for this header, not the user's
    kept_own: tuple[str, ...] = ()  # columns of a saved mapping's fixed values that the file has itself
    delimiter: str | None = None  # one of read.DELIMITER_CHOICES; None means detect
    layout: str | None = None  # the known export layout (ingest.layouts) the mapping comes from
    sheet: str | None = None  # an Excel workbook's sheet (None: the fullest)
    missing: tuple[str, ...] = ()  # more words that mean "missing" in this file (besides NA, null, -, ?, ...)
    header_row: int | None = None  # the header's line (1 = the first; 0 = no header row); None means detect


def check_options(options: FileOptions, name: str) -> FileOptions:
    """Refuse a table, mapping or encoding that is not one (a hand-edited mapping file, say)."""
    if options.table is not None and not (isinstance(options.table, str) and options.table in contract.TABLES):
        raise refuse("ingest.mapping.table", file=name, table=repr(options.table)[:80], tables=", ".join(contract.TABLES))
    if options.encoding is not None and options.encoding not in ENCODINGS:
        raise refuse("ingest.mapping.encoding", file=name, encoding=repr(options.encoding)[:80],
                     encodings=", ".join(ENCODINGS))
    if options.delimiter is not None and options.delimiter not in DELIMITER_CHOICES:
        raise refuse("ingest.mapping.delimiter", file=name, delimiter=repr(options.delimiter)[:80])
    check_header_row(options.header_row, name)
    if options.mapping is None:
        return options
    if not isinstance(options.mapping, dict):
        raise refuse("ingest.mapping.not_dict", file=name)
    columns = {c.name for t in contract.TABLES.values() for c in t.columns}
    for column, header in options.mapping.items():
        if not isinstance(column, str) or column not in columns:
            raise refuse("ingest.mapping.column", file=name, column=repr(column)[:80])
        if header is not None and not (isinstance(header, str) and header.strip()):
            raise refuse("ingest.mapping.value", file=name, column=column, value=repr(header)[:80])
    return options


def header_signature(headers: list[str]) -> str:
    """Files with the same header (spelling aside) share a signature and a saved mapping."""
    return hashlib.sha256("\x1f".join(contract.normalize_header(h) for h in headers).encode()).hexdigest()[:16]


def saved_mapping(headers: list[str], db: str | pathlib.Path | None = None) -> FileOptions | None:
    """The table and mapping last used to load a file with this header, if any."""
    try:
        snap = store.snapshot(db)
        df = snap.query("select table_name, mapping_json from mappings where signature = $s",
                        {"s": header_signature(headers)})
    except (store.NoData, duckdb.CatalogException):
        return None
    if df.empty:
        return None
    table = df["table_name"][0]
    try:
        mapping = _respelled(json.loads(df["mapping_json"][0]), headers)
        check_options(FileOptions(table, mapping), "")
    except (ValueError, TypeError, AttributeError, IngestError):
        return None  # a saved mapping edited into nonsense is not used
    # A saved fixed value ("=lead") only fills a column the file does not have itself.
    own = contract.match_columns(contract.TABLES[table], [h for h in headers if h not in mapping.values()])
    kept_own = tuple(c for c, v in mapping.items() if is_fixed(v) and c in own)
    mapping = {c: own[c] if c in kept_own else v for c, v in mapping.items()}
    return FileOptions(table=table, mapping=mapping, saved=True, kept_own=kept_own)


def _respelled(mapping: dict[str, str], headers: list[str]) -> dict[str, str]:
    """A saved mapping in this file's spelling of the same headers (fixed values stay as they are)."""
    by_form = {contract.normalize_header(h): h for h in headers}
    out = {}
    for column, value in mapping.items():
        if is_fixed(value):
            out[column] = value
        elif contract.normalize_header(value) in by_form:
            out[column] = by_form[contract.normalize_header(value)]
    return out


def with_saved(headers: list[str], options: FileOptions, db) -> FileOptions:
    """Options the user gave win; otherwise a mapping saved for this header is used (saved=True)."""
    if options.mapping is not None or options.table is not None:
        return options
    if options.header_row == 0:
        return options  # column names by position say nothing about the file: nothing saved applies
    saved = saved_mapping(headers, db)
    if saved:
        return replace(saved, encoding=options.encoding, delimiter=options.delimiter, sheet=options.sheet,
                       header_row=options.header_row, missing=options.missing)
    # A known export layout (Shopify orders, a CFPB complaints file, ...): its columns, the rest detected.
    if layout := layouts.recognise(headers):
        return replace(options, table=layout.table, mapping=layouts.mapping_for(layout, headers), partial=True,
                       layout=layout.id)
    return options


def remember(con: duckdb.DuckDBPyConnection, result: FileResult) -> None:
    if result.header_row == 0:
        return  # a file without a header row: its column names (by position) would fit any file as wide
    signature = header_signature(result.headers)
    kept = {"s": signature, "t": result.table, "m": json.dumps(result.mapping, ensure_ascii=False)}
    if con.execute("select count(*) = 1 and bool_and(table_name = $t and mapping_json = $m) from mappings "
                   "where signature = $s", kept).fetchone()[0]:
        return  # saved already (a file of the same layout loaded again): not rewritten (on DuckLake, new files per load)
    con.execute("delete from mappings where signature = $s", {"s": signature})
    con.execute("insert into mappings values ($s, $t, $m, current_localtimestamp())", kept)
