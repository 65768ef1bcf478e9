"""Reading a file: is it a text CSV, which encoding and delimiter, and its rows as text."""

from __future__ import annotations

import codecs
import hashlib
import pathlib

import duckdb

from crmlens.ingest.errors import IngestError

SNIFF_BYTES = 1 << 20
BUILTIN_ENCODINGS = ("utf-8", "utf-16", "latin-1")
# What a user can choose on the Data page or with --encoding (auto = detect_encoding).
ENCODINGS = ("utf-8", "gb18030", "utf-16", "cp1252", "latin-1")


def check_file(path: pathlib.Path, name: str, max_bytes: int | None = None) -> None:
    """Refuse what is not a text file with rows, with a message saying what to do."""
    if not path.is_file():
        raise IngestError(f"{name}: file not found ({path}).")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise IngestError(
            f"{name}: the file is {size / 1e6:,.0f} MB, over the {max_bytes / 1e6:,.0f} MB limit. "
            "Split it into smaller files, or load it with `python -m crmlens load`."
        )
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head.strip():
        raise IngestError(f"{name}: the file is empty. Export it again with its rows.")
    is_utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in head and not is_utf16:
        raise IngestError(f"{name}: this is not a text CSV file (it holds binary data). Save it as CSV and load that.")


def _looks_like_gbk(head: bytes) -> bool:
    """Chinese GBK text pairs a high lead byte with a high trail byte (GB2312's range);
    Western text in cp1252 puts an accented letter before a plain ASCII letter."""
    pairs = high_trail = 0
    i = 0
    while i < len(head) - 1:
        if head[i] >= 0x81:
            pairs += 1
            high_trail += head[i + 1] >= 0xA1
            i += 2
        else:
            i += 1
    return pairs > 0 and high_trail / pairs > 0.5


def detect_encoding(path: pathlib.Path) -> str:
    """The encoding name DuckDB's read_csv should use for this file."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    final = len(head) < SNIFF_BYTES
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=final)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=final)
        if _looks_like_gbk(head):
            return "gb18030"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def file_hash(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load_extension_for(con: duckdb.DuckDBPyConnection, encoding: str) -> None:
    if encoding not in BUILTIN_ENCODINGS:
        con.execute("load encodings")


def sniff_delimiter(con: duckdb.DuckDBPyConnection, path: pathlib.Path, encoding: str) -> str:
    _load_extension_for(con, encoding)
    try:
        row = con.execute("select Delimiter from sniff_csv($path, encoding = $encoding)",
                          {"path": str(path), "encoding": encoding}).fetchone()
    except duckdb.Error:
        return ","
    return row[0] if row else ","


def read_raw(con: duckdb.DuckDBPyConnection, path: pathlib.Path, encoding: str, name: str) -> list[str]:
    """Read the CSV into temp table _raw (all text, plus _row: the row number a spreadsheet shows)."""
    _load_extension_for(con, encoding)
    try:
        con.execute(
            "create or replace temp table _raw as "
            "select row_number() over () + 1 as _row, * "
            "from read_csv($path, all_varchar = true, header = true, encoding = $encoding, "
            "strict_mode = false, escape = '\"', null_padding = true)",
            {"path": str(path), "encoding": encoding},
        )
    except duckdb.Error as e:
        raise IngestError(
            f"{name}: could not be read as a CSV file with encoding {encoding} ({e}). "
            "Check that it is a CSV export, or choose another encoding."
        ) from e
    return [r[0] for r in con.execute("select column_name from (describe _raw)").fetchall()][1:]
