"""A file cut off in the middle of its last row (a download or copy that stopped short).

DuckDB pads a short last row with empty values and closes a quote left open at the end of
the file, so a cut-off row would load as a real one with a cut-off category. A last row is
cut off when the file does not end with a line end and either a quoted field is still open
(an odd number of quote characters in the whole file) or the row has fewer fields than the
header. Such a row is rejected as `truncated`, with its row number.
"""

from __future__ import annotations

import codecs
import csv
import pathlib

TAIL_BYTES = 1 << 20
CHUNK_BYTES = 1 << 20
# Encodings in which the quote and line-end bytes are plain ASCII bytes that no character's
# other bytes can be (GB18030's trail bytes start at 0x30, never '"' 0x22 or '\n' 0x0a).
ASCII_SAFE = ("utf-8", "gb18030", "cp1252", "latin-1")


def _quotes(path: pathlib.Path, encoding: str) -> int:
    n = 0
    with open(path, "rb") as fh:
        if encoding in ASCII_SAFE:
            for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
                n += chunk.count(b'"')
        else:
            decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
            for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
                n += decoder.decode(chunk).count('"')
    return n


def _tail(path: pathlib.Path, encoding: str) -> str:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        start = max(0, size - TAIL_BYTES)
        if encoding.startswith("utf-16") and start % 2:
            start += 1
        fh.seek(start)
        data = fh.read()
    codec = "utf-16-le" if encoding == "utf-16" else encoding
    return data.decode(codec, errors="replace")


def cut_off_last_row(path: pathlib.Path, encoding: str, delimiter: str, n_fields: int) -> bool:
    """Whether the file's last row was cut off (see the module's docstring)."""
    tail = _tail(path, encoding)
    if not tail or tail.endswith(("\n", "\r")):
        return False
    if _quotes(path, encoding) % 2:
        return True  # the file ends inside a quoted field
    last = tail.replace("\r\n", "\n").replace("\r", "\n").rsplit("\n", 1)[-1]
    if last.count('"') % 2:
        return False  # the end of a field holding line breaks: its row began on an earlier line
    if len(delimiter) != 1:
        return False
    fields = next(csv.reader([last], delimiter=delimiter), [])
    return len(fields) < n_fields
