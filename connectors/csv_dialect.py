"""Recognise how a delivered CSV file is written: its text encoding and its delimiter.

Providers export from Excel, from case-management software and from hand-written scripts, so the
same format arrives as UTF-8 (with or without BOM) or Windows-1252, separated by ``,`` or ``;``.
These helpers decide both per file, from the bytes alone, and say *why* they cannot when a file
is something else (UTF-16, binary), so the receipt can tell the sender what to change.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
DELIMITERS = (",", ";")
_SEPARATOR_HINT = re.compile(r"sep=([,;])", re.IGNORECASE)


class UnsupportedEncodingError(Exception):
    """The bytes are not text in one of the accepted encodings; ``reason`` is for the receipt."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DecodedText:
    """A file's text and the encoding it was read with (reported on the receipt)."""

    text: str
    encoding: str  # "utf-8", "utf-8-sig" or "cp1252"


def decode_bytes(data: bytes) -> DecodedText:
    """Decode a whole file, deciding the encoding once for the file, never per line.

    Valid UTF-8 wins (a BOM is dropped); anything else is read as Windows-1252, which is what
    Excel writes for "CSV (Trennzeichen-getrennt)". Mixing the two per line would turn a name
    into mojibake silently, so the decision is per file.
    """
    if data.startswith(_UTF16_BOMS):
        raise UnsupportedEncodingError("file is UTF-16 (Excel 'Unicode text'); export as CSV in UTF-8 or Windows-1252")
    if b"\x00" in data:
        raise UnsupportedEncodingError("file contains NUL bytes: it is UTF-16 without BOM or not a text file")
    if data.startswith(UTF8_BOM):
        try:
            return DecodedText(data[len(UTF8_BOM) :].decode("utf-8"), "utf-8-sig")
        except UnicodeDecodeError:
            raise UnsupportedEncodingError("file starts with a UTF-8 byte-order mark but is not valid UTF-8") from None
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return DecodedText(data.decode("cp1252"), "cp1252")
    except UnicodeDecodeError:
        # Only five byte values are undefined in Windows-1252; hitting one means another encoding.
        raise UnsupportedEncodingError("file is neither valid UTF-8 nor Windows-1252") from None


READ_CHUNK_BYTES = 1024 * 1024


def file_encoding(path: Path) -> str:
    """``decode_bytes``'s decision for a file on disk, taken in one pass of 1 MB chunks so a big
    delivery is never held whole: "utf-8-sig", "utf-8" or "cp1252" (``UnsupportedEncodingError``
    otherwise)."""
    with path.open("rb") as handle:
        head = handle.read(len(UTF8_BOM))
        if head.startswith(_UTF16_BOMS):
            raise UnsupportedEncodingError("file is UTF-16 (Excel 'Unicode text'); export as CSV in UTF-8 or Windows-1252")
        bom = head == UTF8_BOM
        chunks = _chunks(handle.read, b"" if bom else head)
        utf8 = codecs.getincrementaldecoder("utf-8")()
        cp1252 = codecs.getincrementaldecoder("cp1252")()
        is_utf8 = is_cp1252 = True
        for chunk in chunks:
            if b"\x00" in chunk:
                raise UnsupportedEncodingError("file contains NUL bytes: it is UTF-16 without BOM or not a text file")
            is_utf8 = is_utf8 and _decodes(utf8, chunk)
            is_cp1252 = is_cp1252 and _decodes(cp1252, chunk)
        is_utf8 = is_utf8 and _decodes(utf8, b"", final=True)
    if bom and not is_utf8:
        raise UnsupportedEncodingError("file starts with a UTF-8 byte-order mark but is not valid UTF-8")
    if is_utf8:
        return "utf-8-sig" if bom else "utf-8"
    if is_cp1252:
        return "cp1252"
    raise UnsupportedEncodingError("file is neither valid UTF-8 nor Windows-1252")


def _chunks(read: Callable[[int], bytes], first: bytes) -> Iterable[bytes]:
    if first:
        yield first
    while chunk := read(READ_CHUNK_BYTES):
        yield chunk


def _decodes(decoder: codecs.IncrementalDecoder, chunk: bytes, final: bool = False) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def first_logical_line(text: str, start: int = 0) -> str:
    """The header record as written: from ``start`` up to the first line break outside quotes."""
    return text[start : _logical_line_end(text, start)]


def _logical_line_end(text: str, start: int) -> int:
    in_quotes = False
    for index in range(start, len(text)):
        char = text[index]
        if char == '"':
            in_quotes = not in_quotes
        elif char in "\r\n" and not in_quotes:
            return index
    return len(text)


def first_content_line(text: str) -> str:
    """The first logical line with anything but whitespace and delimiters: the header (or a hint).

    One pass by position: a file that opens with megabytes of blank lines costs a scan of them,
    not a copy of the rest of the text per line."""
    position, end = 0, len(text)
    while position < end:
        line_end = _logical_line_end(text, position)
        line = text[position:line_end]
        if line.strip(" \t" + "".join(DELIMITERS)):
            return line
        position = line_end
        while position < end and text[position] in "\r\n":
            position += 1
    return ""


HEADER_MAX_CHARS = 1024 * 1024


def first_content_line_in(lines: Iterable[str]) -> str:
    """``first_content_line`` of a text stream, read line by line: blank lines are passed over
    one at a time, and a header with a quoted line break is gathered up to ``HEADER_MAX_CHARS``."""
    gathered, quotes = "", 0
    for line in lines:
        if not gathered and not line.strip(" \t\r\n" + "".join(DELIMITERS)):
            continue
        gathered, quotes = gathered + line, quotes + line.count('"')
        if quotes % 2 == 0 or len(gathered) > HEADER_MAX_CHARS:
            break
    return first_content_line(gathered)


def separator_hint(line: str) -> str | None:
    """The delimiter named by Excel's optional first line ``sep=;``, if the line is one."""
    match = _SEPARATOR_HINT.fullmatch(line.strip())
    return match[1] if match else None


def count_outside_quotes(line: str, char: str) -> int:
    """How often ``char`` occurs in ``line`` outside double-quoted sections."""
    in_quotes = False
    count = 0
    for current in line:
        if current == '"':
            in_quotes = not in_quotes
        elif current == char and not in_quotes:
            count += 1
    return count


def detect_delimiter(header_line: str) -> str:
    """Pick ``,`` or ``;`` by counting each outside quotes in the header line.

    csv.Sniffer guesses from data rows and is thrown off by commas inside German street names or
    decimal numbers; the header is written by software and its separators are unambiguous. On a
    tie (a one-column header) ``,`` is assumed; the missing required columns then reject the file.
    """
    counts = {delimiter: count_outside_quotes(header_line, delimiter) for delimiter in DELIMITERS}
    if counts[";"] > counts[","]:
        return ";"
    return ","
