"""Which encoding a file is in, and a clean UTF-8 copy of a file DuckDB cannot read as it is.

DuckDB's read_csv takes one line-end style per file (a bare \\r, alone or mixed with \\n and
\\r\\n, garbles rows), stops at the first byte that is not UTF-8, and reads UTF-16 without a
byte-order mark only in little-endian order. Such files are copied, streaming, to UTF-8 with
\\n line ends; bytes that do not decode become U+FFFD, and their rows are rejected as
invalid_text (a UTF-8 Chinese export with one damaged byte loads, less that row).
"""

from __future__ import annotations

import codecs
import os
import pathlib
import re
import tempfile

SNIFF_BYTES = 1 << 20
CHUNK_BYTES = 1 << 20
# A file with bytes that are not UTF-8 still counts as UTF-8 (the rows holding them are rejected)
# when its valid multi-byte characters outnumber the bad bytes this many times.
MOSTLY_UTF8_RATIO = 2
REPLACEMENT = "\ufffd"  # what a bad byte becomes in the clean copy


def utf16_without_bom(head: bytes) -> str | None:
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
    if b"\x00" in head and (codec := utf16_without_bom(head[:8192])):
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


def needs_copy(path: pathlib.Path, encoding: str) -> tuple[bool, int]:
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
            # Plain ASCII after a whole character is valid UTF-8 as it is: no need to decode it (10x faster).
            if decoder is not None and not (chunk.isascii() and not decoder.getstate()[0]):
                bad += decoder.decode(chunk).count(REPLACEMENT)
            data = carry + chunk
            carry = b"\r" if data.endswith(b"\r") else b""
            data = data[:-1] if carry else data
            if b"\r" in data:
                bare_cr += data.count(b"\r") - data.count(b"\r\n")
    bare_cr += len(carry)
    if decoder is not None:
        bad += decoder.decode(b"", final=True).count(REPLACEMENT)
    return bool(bare_cr or bad), bad


def clean_copy(path: pathlib.Path, encoding: str) -> pathlib.Path:
    """The file as UTF-8 with \\n line ends; bytes that do not decode become U+FFFD."""
    fd, name = tempfile.mkstemp(prefix=f"crmlens-clean-{os.getpid()}-", suffix=".csv")  # tempfiles.sweep knows it
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


def whitespace_copy(path: pathlib.Path, encoding: str) -> pathlib.Path:
    """A whitespace-separated file (fields apart by runs of spaces or tabs) as UTF-8, tab-separated.

    Streaming, line by line; leading and trailing spaces of a line are dropped, empty lines too.
    A field never holds a space in such a file, so no quoting is needed.
    """
    fd, name = tempfile.mkstemp(prefix=f"crmlens-clean-{os.getpid()}-", suffix=".tsv")  # tempfiles.sweep knows it
    try:
        with open(path, encoding=encoding, errors="replace", newline=None) as src, \
                os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            for line in src:
                fields = line.lstrip("\ufeff").split()
                if fields:
                    out.write("\t".join(fields) + "\n")
    except BaseException:
        pathlib.Path(name).unlink(missing_ok=True)
        raise
    return pathlib.Path(name)
