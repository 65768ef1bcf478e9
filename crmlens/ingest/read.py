"""Reading a file: is it a text CSV, which encoding and delimiter, its header, and its rows as text.

`open_source` looks at a file once, on a connection outside any write transaction (a
sniffing error would abort it): a file DuckDB cannot read as it is (mixed line endings,
UTF-16 without a byte-order mark in big-endian order, UTF-8 with a few bad bytes) is
copied to a clean UTF-8 file first, and that copy is what read_csv reads.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import pathlib
import re
import stat
import tempfile
from dataclasses import dataclass, field

import duckdb

from crmlens.ingest.errors import IngestError, refuse

SNIFF_BYTES = 1 << 20
CHUNK_BYTES = 1 << 20
BUILTIN_ENCODINGS = ("utf-8", "utf-16", "latin-1")
# What a user can choose on the Data page or with --encoding (auto = detect_encoding).
ENCODINGS = ("utf-8", "gb18030", "utf-16", "cp1252", "latin-1")
# Widest file read: a check of every column stays within seconds and memory (2,000 columns: about 2 s).
MAX_COLUMNS = 2000
# A file with bytes that are not UTF-8 still counts as UTF-8 (the rows holding them are rejected)
# when its valid multi-byte characters outnumber the bad bytes this many times.
MOSTLY_UTF8_RATIO = 2
REPLACEMENT = "\ufffd"  # what a bad byte becomes in the clean copy; its row is rejected as invalid_text
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
            and _utf16_without_bom(head) is None:
        raise refuse("ingest.file.binary", file=name)


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for UTF-16 text without a byte-order mark, else None.

    Such text (mostly ASCII: headers, digits, delimiters) has a zero byte in every other
    position, and decodes cleanly.
    """
    head = head[: len(head) // 2 * 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    for zeros, other, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.7 * len(zeros) and other.count(0) == 0:
            try:
                text = head.decode(codec)
            except UnicodeDecodeError:
                continue
            if all(ch.isprintable() or ch in "\r\n\t" for ch in text):
                return codec
    return None


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


def _mostly_utf8(head: bytes) -> bool:
    """UTF-8 text with a few bad bytes (a damaged export), not text in another encoding."""
    text = head.decode("utf-8", errors="replace")
    bad = text.count(REPLACEMENT)
    wide = sum(1 for ch in text if ord(ch) > 0x7F and ch != REPLACEMENT)
    return wide >= MOSTLY_UTF8_RATIO * bad


def detect_encoding(path: pathlib.Path) -> str:
    """The encoding name DuckDB's read_csv should use for this file."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head and (codec := _utf16_without_bom(head[:8192])):
        return codec
    final = len(head) < SNIFF_BYTES
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=final)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(head):
        return "utf-8"
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


# --- a clean copy when DuckDB cannot read the file as it is ---------------------------------

def _needs_copy(path: pathlib.Path, encoding: str) -> tuple[bool, int]:
    """(copy needed, bad UTF-8 bytes): one pass over the file's bytes.

    A copy is needed for a bare carriage return (old Mac line ends, or mixed with \\n and
    \\r\\n: DuckDB reads one line-end style per file and garbles the rest), for bytes that
    are not UTF-8 in a UTF-8 file, and for big-endian UTF-16 without a byte-order mark.
    """
    if encoding == "utf-16-be":
        return True, 0
    if encoding.startswith("utf-16"):
        return False, 0
    bare_cr = bad = 0
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace") if encoding == "utf-8" else None
    carry = b""  # a \r ending a chunk: its \n may start the next one
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
            if decoder is not None:
                bad += decoder.decode(chunk).count(REPLACEMENT)
            data = carry + chunk
            carry = b"\r" if data.endswith(b"\r") else b""
            data = data[:-1] if carry else data
            bare_cr += data.count(b"\r") - data.count(b"\r\n")
    bare_cr += len(carry)
    if decoder is not None:
        bad += decoder.decode(b"", final=True).count(REPLACEMENT)
    return bool(bare_cr or bad), bad


def _clean_copy(path: pathlib.Path, encoding: str) -> pathlib.Path:
    """The file as UTF-8 with \\n line ends; bytes that do not decode become U+FFFD."""
    fd, name = tempfile.mkstemp(prefix="crmlens-clean-", suffix=".csv")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    try:
        with open(path, "rb") as src, os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            carry = ""
            for chunk in iter(lambda: src.read(CHUNK_BYTES), b""):
                text = carry + decoder.decode(chunk)
                carry = "\r" if text.endswith("\r") else ""  # its \n may start the next chunk
                out.write(re.sub("\r\n?", "\n", text[:-1] if carry else text))
            out.write(re.sub("\r\n?", "\n", carry + decoder.decode(b"", final=True)))
    except BaseException:
        pathlib.Path(name).unlink(missing_ok=True)
        raise
    return pathlib.Path(name)


def _header_width(path: pathlib.Path, encoding: str) -> int:
    """How many columns the first line has, for the likeliest delimiter (quotes respected)."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    line = re.split(r"[\r\n]", text.lstrip("\ufeff"), maxsplit=1)[0]
    unquoted = re.sub(r'"(?:[^"]|"")*"', "", line)
    return max(unquoted.count(d) for d in DELIMITERS) + 1


DELIMITERS = (",", ";", "\t", "|")


# --- opening a file --------------------------------------------------------------------------

def open_source(con: duckdb.DuckDBPyConnection, path: pathlib.Path, name: str, encoding: str | None = None,
                max_bytes: int | None = None) -> Source:
    """Check, decode and sniff a file; `con` must not be inside a write transaction.

    The caller closes the Source (removing the clean copy, if one was made).
    """
    path = pathlib.Path(path)
    check_file(path, name, max_bytes)
    encoding = encoding or detect_encoding(path)
    if (n := _header_width(path, encoding)) > MAX_COLUMNS:  # before DuckDB: 100,000 columns exhaust its memory
        raise refuse("ingest.file.too_wide", file=name, n=f"{n:,}", limit=f"{MAX_COLUMNS:,}")
    copy, bad = _needs_copy(path, encoding)
    reported = "utf-16" if encoding.startswith("utf-16") else encoding  # DuckDB reads UTF-16 LE without a BOM too
    source = Source(path, reported, reported, bad_bytes=bad)
    if copy:
        source.path, source.read_encoding, source.is_copy = _clean_copy(path, encoding), "utf-8", True
    try:
        _load_extension_for(con, source.read_encoding)
        source.headers = _headers(con, source, name)
        if len(source.headers) > MAX_COLUMNS:
            raise refuse("ingest.file.too_wide", file=name, n=f"{len(source.headers):,}", limit=f"{MAX_COLUMNS:,}")
        source.delimiter = _sniff_delimiter(con, source)
    except BaseException:
        source.close()
        raise
    return source


def _headers(con: duckdb.DuckDBPyConnection, source: Source, name: str) -> list[str]:
    try:
        return [r[0] for r in con.execute(
            f"describe select * from read_csv($p, encoding = $e, {CSV_OPTIONS}) limit 0",
            {"p": str(source.path), "e": source.read_encoding},
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
    """Read the CSV into temp table _raw (all text, plus _row: the row number a spreadsheet shows)."""
    _load_extension_for(con, source.read_encoding)
    try:
        con.execute(
            "create or replace temp table _raw as "
            "select row_number() over () + 1 as _row, * "
            f"from read_csv($path, encoding = $encoding, {CSV_OPTIONS})",
            {"path": str(source.path), "encoding": source.read_encoding},
        )
    except duckdb.Error as e:
        raise csv_problem(e, name, source.encoding, source.path) from e
    return [r[0] for r in con.execute("select column_name from (describe _raw)").fetchall()][1:]


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
