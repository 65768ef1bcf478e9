"""Which line of a CSV file holds its header: past title lines (an export's name, its date, a blank
line), or none at all (a file of data rows only).

A platform's report often starts with a line or two of its own (`订单报表 2024-01`, `Exported on
...`) above the header; DuckDB would take that title for the header. The header is the first of
the top lines that is about as wide as the widest of them and holds no numbers or dates, provided
every line above it is a title (blank, one field, or "key: value" notes such as `导出人：张敏,导出时间：...`).
When the top lines do not show that plainly, the first line is the header, as before. The user
can choose another line, or say the file has no header row: its columns are then named by
position (column_1, column_2, ...) and mapped by their values.
"""

from __future__ import annotations

import codecs
import csv
import os
import pathlib
import re
import tempfile

SCAN_ROWS = 30  # title lines above a header are looked for this far down (as for Excel sheets)
SCAN_BYTES = 1 << 16
WIDE_SHARE = 0.6  # a header has at least this share of the widest top line's fields
DELIMITERS = (",", ";", "\t", "|")
# A cell that is a number, an amount or a date (digits with separators), never a header's.
DATA_LIKE = re.compile(r"[-+(]?[\d.,:/\s()%¥$€£-]*\d[\d.,:/\s()%¥$€£-]*")


def column_names(width: int) -> list[str]:
    """The names of a file's columns when it has no header row: by position, from 1."""
    return [f"column_{i}" for i in range(1, width + 1)]


def _lines(path: pathlib.Path, encoding: str) -> list[str]:
    with open(path, "rb") as fh:
        head = fh.read(SCAN_BYTES)
    text = codecs.getincrementaldecoder(_codec(encoding, head))(errors="replace").decode(head).lstrip("\ufeff")
    lines = re.split(r"\r\n?|\n", text)
    if len(head) == SCAN_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    return lines[:SCAN_ROWS]


def _codec(encoding: str, head: bytes) -> str:
    """Python's codec for a file DuckDB reads as `encoding` (its "utf-16" is little-endian without a BOM too)."""
    if encoding == "utf-8":
        return "utf-8-sig"
    if encoding == "utf-16" and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16-le"
    return encoding


def likeliest_delimiter(lines: list[str]) -> str:
    """The delimiter most lines share the same (non-zero) count of, quotes respected; title lines have none."""
    def score(d: str) -> tuple[int, int]:
        counts = [re.sub(r'"(?:[^"]|"")*"', "", line).count(d) for line in lines]
        counts = [n for n in counts if n]
        if not counts:
            return (0, 0)
        mode = max(set(counts), key=counts.count)
        return (counts.count(mode), mode)
    return max(DELIMITERS, key=score)


def top_rows(path: pathlib.Path, encoding: str, delimiter: str | None = None) -> tuple[list[list[str]], str]:
    """The first SCAN_ROWS lines of the file as fields (a blank line: no fields), and the delimiter used."""
    lines = _lines(path, encoding)
    delimiter = delimiter or likeliest_delimiter(lines)
    return [next(csv.reader([line], delimiter=delimiter), []) if line.strip() else [] for line in lines], delimiter


def _filled(row: list[str]) -> list[str]:
    return [v for v in row if v.strip()]


def looks_like_data(row: list[str]) -> bool:
    """A header holds names; a line with numbers or dates in half its fields or more is a data row."""
    cells = _filled(row)
    return bool(cells) and sum(1 for v in cells if DATA_LIKE.fullmatch(v.strip())) >= len(cells) / 2


def detect(rows: list[list[str]]) -> int:
    """The header's line number (1-based) among the top rows; 1 unless title lines plainly stand above it."""
    widths = [len(_filled(r)) for r in rows]
    widest = max(widths, default=0)
    if widest < 2:
        return 1
    wide = max(2.0, WIDE_SHARE * widest)
    candidates = [i for i, n in enumerate(widths) if n >= wide and not _is_note(rows[i])]
    if not candidates:
        return 1
    first = candidates[0]
    if first == 0:
        return 1
    cells = _filled(rows[first])
    below = [n for n in widths[first + 1:] if n]
    if any(DATA_LIKE.fullmatch(v.strip()) for v in cells) or not below or below[0] < wide:
        return 1  # no plain header under the title lines: leave it as it was
    if not all(_is_title(r) for r in rows[:first]):
        return 1  # a short first line of names (a header over ragged rows?): not taken for a title
    return first + 1


def _is_title(row: list[str]) -> bool:
    """A title line: blank, one field (a report's name, a date), or fields that are all "key: value" notes."""
    cells = _filled(row)
    return len(cells) <= 1 or _is_note(row)


def _is_note(row: list[str]) -> bool:
    cells = _filled(row)
    return bool(cells) and all(":" in v or "：" in v for v in cells)


def copy_from(path: pathlib.Path, encoding: str, header_row: int, delimiter: str, width: int) -> pathlib.Path:
    """A UTF-8 copy of the file from its header line on; with header_row 0 (no header row), the whole file
    under a header of column names by position (column_names). Lines are copied as they are."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    fd, name = tempfile.mkstemp(prefix=f"crmlens-clean-{os.getpid()}-", suffix=".csv")  # tempfiles.sweep knows it
    try:
        with open(path, encoding=_codec(encoding, head), errors="replace", newline="") as src, \
                os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            if header_row == 0:
                out.write(delimiter.join(column_names(width)) + "\n")
            for i, line in enumerate(src, start=1):
                if header_row == 0 or i >= header_row:
                    out.write(line)
    except BaseException:
        pathlib.Path(name).unlink(missing_ok=True)
        raise
    return pathlib.Path(name)
