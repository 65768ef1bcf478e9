"""Reading a file: is it a text CSV, which encoding and delimiter, its header, and its rows as text.

`open_source` looks at a file once, on a connection outside any write transaction (a
sniffing error would abort it); a file DuckDB cannot read as it is is read from a clean
UTF-8 copy (`decode`).
"""

from __future__ import annotations

import codecs
import hashlib
import pathlib
import re
import stat
from dataclasses import dataclass, field

import duckdb

from crmlens import store
from crmlens.ingest import decode, excel, header
from crmlens.ingest.errors import IngestError, refuse

BUILTIN_ENCODINGS = ("utf-8", "utf-16", "latin-1")
# What a user can choose on the Data page or with --encoding (auto = detect_encoding).
ENCODINGS = ("utf-8", "gb18030", "utf-16", "cp1252", "latin-1")
# Widest file read: a check of every column stays within seconds and memory (2,000 columns: about 2 s).
MAX_COLUMNS = 2000
CSV_OPTIONS = "all_varchar = true, header = true, strict_mode = false, escape = '\"', null_padding = true"


@dataclass
class Source:
    """A file ready for read_csv."""

    path: pathlib.Path  # what DuckDB reads: the file itself, or a clean UTF-8 copy of it
    encoding: str  # the file's own encoding, as reported
    read_encoding: str  # the encoding of `path` for read_csv
    delimiter: str = ","
    headers: list[str] = field(default_factory=list)
    bad_bytes: int = 0  # bytes that were not UTF-8, replaced by U+FFFD in the copy
    is_copy: bool = False
    chosen_delimiter: str | None = None  # the user's choice (DELIMITER_CHOICES), None = detect
    delimiter_unsure: bool = False  # detection could not tell: the page offers the choice
    sheet: str = ""  # an Excel workbook's sheet (the copy holds it from its header row on)
    header_row: int = 1  # the header's row (line of a CSV, row of a sheet); 0: the file has no header row
    header_detected: int = 1  # the row detection found (shown on the page; the user may choose another)
    top_rows: list[list[str]] = field(default_factory=list)  # the first rows, as fields: the page shows them
    missing: tuple[str, ...] = ()  # more words that mean "missing" in this file (the user's choice)

    def close(self) -> None:
        if self.is_copy:
            self.path.unlink(missing_ok=True)


def check_file(path: pathlib.Path, name: str, max_bytes: int | None = None) -> None:
    """Refuse what is not a text file with rows, with a message saying what to do."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise refuse("ingest.file.not_found", file=name, path=str(path)) from None
    except OSError as e:
        raise refuse("ingest.file.unreadable", file=name, error=e.strerror or str(e)) from e
    if not stat.S_ISREG(mode):  # a folder, a pipe (FIFO), a device such as /dev/zero: never opened
        raise refuse("ingest.file.not_regular", file=name)
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise refuse("ingest.file.too_big", file=name, mb=f"{size / 1e6:,.0f}", limit=f"{max_bytes / 1e6:,.0f}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as e:
        raise refuse("ingest.file.unreadable", file=name, error=e.strerror or str(e)) from e
    if not head.removeprefix(codecs.BOM_UTF8).strip():
        raise refuse("ingest.file.empty", file=name)
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            and decode.utf16_without_bom(head) is None:
        raise refuse("ingest.file.binary", file=name)


def file_hash(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load_extension_for(con: duckdb.DuckDBPyConnection, encoding: str) -> None:
    if encoding not in BUILTIN_ENCODINGS:
        store.load_extension(con, "encodings")


def _header_width(path: pathlib.Path, encoding: str) -> int:
    """How many columns the first line has, for the likeliest delimiter (quotes respected)."""
    with open(path, "rb") as fh:
        head = fh.read(decode.SNIFF_BYTES)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    line = re.split(r"[\r\n]", text.lstrip("\ufeff"), maxsplit=1)[0]
    unquoted = re.sub(r'"(?:[^"]|"")*"', "", line)
    return max(unquoted.count(d) for d in DELIMITERS) + 1


DELIMITERS = (",", ";", "\t", "|")
# Fields apart by runs of spaces (or tabs): old systems' and statistics packages' exports.
WHITESPACE = "whitespace"
# What a user can choose on the Data page (besides detection).
DELIMITER_CHOICES = (*DELIMITERS, WHITESPACE)
SNIFF_LINES = 200
# A file is whitespace-separated when this share of its first lines split into the same number (2+) of fields.
WHITESPACE_MIN_SHARE = 0.9


def sniff_whitespace(path: pathlib.Path, encoding: str) -> tuple[bool, bool]:
    """(whitespace-separated, unsure) from the first lines of the file.

    Whitespace-separated: no line has a comma, semicolon or bar outside quotes, the file is not
    tab-separated (the same number of tabs on every line), and nearly every line splits on runs
    of spaces and tabs into the same number (2 or more) of fields.
    Unsure: no such delimiter either, lines have spaces, but their field counts differ (a
    file of one column of names, or fixed-width columns with spaces inside values).
    """
    with open(path, "rb") as fh:
        head = fh.read(decode.SNIFF_BYTES)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head).lstrip("\ufeff")
    lines = [line for line in re.split(r"\r\n?|\n", text)[:SNIFF_LINES + 1] if line.strip()]
    if len(head) == decode.SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    if not lines or any(re.sub(r'"(?:[^"]|"")*"', "", line).count(d) for line in lines for d in ",;|"):
        return False, False
    tabs = [line.count("\t") for line in lines]
    if min(tabs) > 0 and len(set(tabs)) == 1:
        return False, False  # a tab-separated file: DuckDB reads it (empty fields included)
    counts = [len(line.split()) for line in lines]
    typical = max(set(counts), key=counts.count)
    if typical >= 2 and counts.count(typical) >= WHITESPACE_MIN_SHARE * len(counts) and counts[0] == typical:
        return True, False
    return False, any(n >= 2 for n in counts)


# --- opening a file --------------------------------------------------------------------------

def open_source(con: duckdb.DuckDBPyConnection, path: pathlib.Path, name: str, encoding: str | None = None,
                max_bytes: int | None = None, delimiter: str | None = None, sheet: str | None = None,
                header_row: int | None = None) -> Source:
    """Check, decode and sniff a file; `con` must not be inside a write transaction.

    `delimiter` is the user's choice (one of DELIMITER_CHOICES), None to detect. A
    whitespace-separated file is read from a tab-separated UTF-8 copy; an Excel workbook from a CSV
    copy of one sheet (`sheet`, default: the fullest; excel.py). `header_row` is the user's choice
    of the header's line (1 = the first; 0 = the file has no header row), None to detect (title
    lines above a header are skipped; header.py). The caller closes the Source (removing the
    clean copy, if one was made).
    """
    path = pathlib.Path(path)
    check_header_row(header_row, name)
    if excel.is_workbook(path):
        return _open_workbook(con, path, name, sheet, max_bytes, header_row)
    check_file(path, name, max_bytes)
    encoding = encoding or decode.detect_encoding(path)
    if (n := _header_width(path, encoding)) > MAX_COLUMNS:  # before DuckDB: 100,000 columns exhaust its memory
        raise refuse("ingest.file.too_wide", file=name, n=f"{n:,}", limit=f"{MAX_COLUMNS:,}")
    copy, bad = decode.needs_copy(path, encoding)
    reported = "utf-16" if encoding.startswith("utf-16") else encoding  # DuckDB reads UTF-16 LE without a BOM too
    source = Source(path, reported, reported, bad_bytes=bad, chosen_delimiter=delimiter)
    spaced, source.delimiter_unsure = (delimiter == WHITESPACE, False) if delimiter else sniff_whitespace(path, encoding)
    if spaced:
        source.path, source.read_encoding, source.is_copy = decode.whitespace_copy(path, encoding), "utf-8", True
        source.delimiter = WHITESPACE
    elif copy:
        source.path, source.read_encoding, source.is_copy = decode.clean_copy(path, encoding), "utf-8", True
    try:
        _header_from(source, header_row)
        _load_extension_for(con, source.read_encoding)
        source.headers = _headers(con, source, name)
        if len(source.headers) > MAX_COLUMNS:
            raise refuse("ingest.file.too_wide", file=name, n=f"{len(source.headers):,}", limit=f"{MAX_COLUMNS:,}")
        source.delimiter = WHITESPACE if spaced else (delimiter or _sniff_delimiter(con, source))
    except BaseException:
        source.close()
        raise
    return source


def _delim_option(source: Source) -> tuple[str, dict]:
    """read_csv's delim option when the delimiter is known (chosen, or whitespace read from a tab copy)."""
    if source.delimiter == WHITESPACE:
        return ", delim = $delim", {"delim": "\t"}
    if source.chosen_delimiter is None:
        return "", {}
    return ", delim = $delim", {"delim": source.chosen_delimiter}


def check_header_row(header_row, name: str) -> None:
    """A header row chosen by hand is a line number (0: none) within the lines looked at."""
    if header_row is None:
        return
    if isinstance(header_row, bool) or not isinstance(header_row, int) or not 0 <= header_row <= header.SCAN_ROWS:
        raise refuse("ingest.header_row.invalid", file=name, row=repr(header_row)[:40], limit=header.SCAN_ROWS)


def _header_from(source: Source, header_row: int | None) -> None:
    """Find the header's line (or take the user's); a file whose header is not its first line is read from a
    copy that starts at the header (or, with no header row, from one with a header of column numbers added)."""
    scan_delimiter = "\t" if source.delimiter == WHITESPACE else source.chosen_delimiter
    source.top_rows, delim = header.top_rows(source.path, source.read_encoding, scan_delimiter)
    source.header_detected = header.detect(source.top_rows)
    source.header_row = source.header_detected if header_row is None else header_row
    if source.header_row == 1:
        return
    cut = header.copy_from(source.path, source.read_encoding, source.header_row, delim,
                           width=max((len(r) for r in source.top_rows), default=1))
    if source.is_copy:
        source.path.unlink(missing_ok=True)
    source.path, source.read_encoding, source.is_copy = cut, "utf-8", True


def _open_workbook(con: duckdb.DuckDBPyConnection, path: pathlib.Path, name: str, sheet: str | None,
                   max_bytes: int | None, header_row: int | None = None) -> Source:
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise refuse("ingest.file.too_big", file=name, mb=f"{size / 1e6:,.0f}", limit=f"{max_bytes / 1e6:,.0f}")
    copy, sheet, chosen, detected, top = excel.to_csv(path, name, sheet, header_row, with_detection=True)
    source = Source(copy, "excel", "utf-8", is_copy=True, sheet=sheet, header_row=chosen, header_detected=detected,
                    top_rows=top)
    try:
        source.headers = _headers(con, source, name)
        if len(source.headers) > MAX_COLUMNS:
            raise refuse("ingest.file.too_wide", file=name, n=f"{len(source.headers):,}", limit=f"{MAX_COLUMNS:,}")
        source.delimiter = ","
    except BaseException:
        source.close()
        raise
    return source


def _headers(con: duckdb.DuckDBPyConnection, source: Source, name: str) -> list[str]:
    delim, params = _delim_option(source)
    try:
        return [r[0] for r in con.execute(
            f"describe select * from read_csv($p, encoding = $e, {CSV_OPTIONS}{delim}) limit 0",
            {"p": str(source.path), "e": source.read_encoding, **params},
        ).fetchall()]
    except duckdb.Error as e:
        raise csv_problem(e, name, source.encoding, source.path) from e


def _sniff_delimiter(con: duckdb.DuckDBPyConnection, source: Source) -> str:
    try:
        row = con.execute(
            f"select Delimiter from sniff_csv($p, encoding = $e, {CSV_OPTIONS.replace('all_varchar = true, ', '')})",
            {"p": str(source.path), "e": source.read_encoding},
        ).fetchone()
    except duckdb.Error:
        return ","
    return row[0] if row else ","


def read_raw(con: duckdb.DuckDBPyConnection, source: Source, name: str) -> list[str]:
    """Read the CSV into temp table _raw_text (all text, in file order) and make view _raw over it: the same
    columns plus _row, the row number a spreadsheet shows. One pass over the file: the row numbers are the
    table's row ids (rows are stored in the order read), not a window over the whole file."""
    _load_extension_for(con, source.read_encoding)
    delim, params = _delim_option(source)
    con.execute("set preserve_insertion_order = true")  # DuckDB's default, which the row ids below rely on
    try:
        con.execute(
            f"create or replace temp table _raw_text as select * from read_csv($path, encoding = $encoding, {CSV_OPTIONS}{delim})",
            {"path": str(source.path), "encoding": source.read_encoding, **params},
        )
    except duckdb.Error as e:
        raise csv_problem(e, name, source.encoding, source.path) from e
    headers = [r[0] for r in con.execute("select column_name from (describe _raw_text)").fetchall()]
    # Row ids count from 0, or from a large base inside a transaction; rows stored in the order read, one after another.
    if not {h.lower() for h in headers} & {"rowid", "_row"}:  # a column named rowid hides the row id
        first, last, n = con.execute("select min(rowid), max(rowid), count(*) from _raw_text").fetchone()
        if n and last - first + 1 == n:
            con.execute(f"create or replace temp view _raw as select rowid - {int(first)} + 2 as _row, * from _raw_text")
            return headers
    # Otherwise numbered by a window (a header _row is renamed _row_1, as a table of both names has it).
    con.execute("create or replace temp table _raw_text as select row_number() over () + 1 as _row, * from _raw_text")
    con.execute("create or replace temp view _raw as select * from _raw_text")
    return [r[0] for r in con.execute("select column_name from (describe _raw_text)").fetchall()][1:]


def drop_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop view if exists _raw; drop table if exists _raw_text")


# --- DuckDB's reading errors in the user's terms ---------------------------------------------

def csv_problem(error: duckdb.Error, name: str, encoding: str, path: pathlib.Path | None = None) -> IngestError:
    """What went wrong reading a file, without DuckDB's advice to its own programmers.

    Only DuckDB's own sentence is looked at: not the row it quotes (data), not its
    "Possible fixes" (options of read_csv), not its line number (counted from a point of
    its own; a long row's number is found here instead).
    """
    if isinstance(error, duckdb.OutOfMemoryException):
        return refuse("ingest.csv.memory", file=name)
    text = re.split(r"\n\s*(?:Possible|file = |LINE \d+:)", str(error), maxsplit=1)[0]
    sentences = [line.strip() for line in text.split("\n")
                 if line.strip() and not re.match(r"(CSV Error on Line|Original Line)", line.strip())]
    said = re.sub(r"^[\w ]*(Error|Exception): ", "", " ".join(sentences))
    if re.search(r"maximum line size", said, re.IGNORECASE):
        return refuse("ingest.csv.long_line", file=name, row=_first_long_row(path) if path else "?")
    if re.search(r"unicode|encoded|encoding|byte sequence", said, re.IGNORECASE):
        return refuse("ingest.csv.encoding", file=name, encoding=encoding)
    return refuse("ingest.csv.unreadable", file=name, problem=said[:200] or type(error).__name__)


MAX_LINE_BYTES = 2_000_000  # read_csv's max_line_size


def _first_long_row(path: pathlib.Path) -> int | str:
    """The spreadsheet row number (header = 1) of the first line longer than read_csv takes."""
    with open(path, "rb") as fh:
        for row, line in enumerate(iter(lambda: fh.readline(MAX_LINE_BYTES + 2), b""), start=1):
            if len(line) > MAX_LINE_BYTES:
                return row
    return "?"
