"""Provider exports saved from Excel as ``.xlsx``: the first sheet, read like the CSV format.

openpyxl reads the workbook read-only and with ``data_only=True``: a formula cell gives its
cached value and is never evaluated. Cells become the strings a CSV export would have held (dates
as ISO dates, whole numbers without ``.0``), then the CSV reader's header and row rules apply, so
both formats behave the same. Row numbers are the sheet's row numbers, as Excel shows them.

The work per file is bounded before anything is unpacked: an ``.xlsx`` is a zip archive, and a
small one can unpack to gigabytes (a zip bomb) or hold a shared-strings table larger than any
sheet needs. The archive's own directory says both, so such a file is refused unread. The sheet
is read by its rows and at most ``MAX_COLUMNS`` columns, whatever size its dimension record
claims.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from kim_hub.connectors.base import file_hash
from kim_hub.connectors.column_map import ColumnMap, provider_csv_column_map
from kim_hub.connectors.table import Record, table_rows
from kim_hub.core.rows import FileBatch, Rejection, StreamRejectedError

MAX_XLSX_BYTES = 50 * 1024 * 1024
MAX_COLUMNS = 200
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # all parts together, unpacked: read as a stream, so this bounds time, not memory
MAX_COMPRESSION_RATIO = 100  # spreadsheet XML packs 5-20 fold; a bomb packs thousands fold
MAX_SHARED_STRINGS_BYTES = 100 * 1024 * 1024


def read_provider_xlsx(path: Path, column_map: ColumnMap | None = None) -> FileBatch:
    """Read the first worksheet of an Excel export whole; never raises for bad content."""
    batch = stream_provider_xlsx(path, column_map)
    try:
        batch.read_whole()
    except StreamRejectedError as rejected:
        return _reject(FileBatch(path, batch.content_hash), rejected.reason)
    return batch


def stream_provider_xlsx(path: Path, column_map: ColumnMap | None = None) -> FileBatch:
    """Open the first worksheet of an Excel export: its header now, its rows as they are taken
    (openpyxl's read-only mode parses the sheet as it goes). A sheet that stops being readable
    part-way raises ``StreamRejectedError`` from the stream: the file is then rejected whole."""
    batch = FileBatch(path=path, content_hash=file_hash(path))
    if path.stat().st_size > MAX_XLSX_BYTES:
        return _reject(batch, f"file larger than {MAX_XLSX_BYTES // (1024 * 1024)} MB")
    if (too_much := _unpacking_refused(path)) is not None:
        return _reject(batch, too_much)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        return _reject(batch, "not a readable .xlsx workbook; export the sheet as .xlsx or CSV")
    try:
        batch.stream = table_rows(batch, _sheet_records(workbook), column_map or provider_csv_column_map(), sheet=True)
    except StreamRejectedError as rejected:
        workbook.close()
        return _reject(batch, rejected.reason)
    return batch


# What openpyxl raises for a workbook that opened but whose sheet cannot be read: no sheet at all
# (IndexError), a number cell holding text (ValueError), broken sheet XML (SyntaxError is
# ElementTree's ParseError), a missing part of the archive (KeyError).
UNREADABLE_SHEET = (IndexError, ValueError, TypeError, KeyError, SyntaxError, zipfile.BadZipFile, OSError)
UNREADABLE_SHEET_REASON = "the first sheet cannot be read (it is missing, damaged, or a cell holds what its type does not allow)"


def _unpacking_refused(path: Path) -> str | None:
    """Why the archive must not be unpacked (from its directory alone), or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return None  # not a zip at all: load_workbook says so in its own words
    unpacked = sum(part.file_size for part in parts)
    packed = sum(part.compress_size for part in parts) or 1
    strings = sum(part.file_size for part in parts if part.filename.lower() == "xl/sharedstrings.xml")
    if unpacked > MAX_UNPACKED_BYTES:
        return f"the workbook unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB"
    if unpacked > 10 * 1024 * 1024 and unpacked / packed > MAX_COMPRESSION_RATIO:
        return f"the workbook is packed more than {MAX_COMPRESSION_RATIO} fold (a zip bomb?)"
    if strings > MAX_SHARED_STRINGS_BYTES:
        return f"the workbook's shared strings exceed {MAX_SHARED_STRINGS_BYTES // (1024 * 1024)} MB"
    return None


def _sheet_records(workbook: Workbook) -> Iterator[Record]:
    """The first sheet's rows as records numbered as Excel shows them, at most ``MAX_COLUMNS``
    cells each: the sheet's dimension record is not trusted (a forged one makes every row as
    wide as it claims). The workbook is closed when the rows end."""
    try:
        sheet = workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            yield Record(first_line=number, last_line=number, cells=[_cell_text(v) for v in row[:MAX_COLUMNS]])
    except UNREADABLE_SHEET:
        raise StreamRejectedError(UNREADABLE_SHEET_REASON) from None
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _reject(batch: FileBatch, reason: str) -> FileBatch:
    batch.rejections.append(Rejection(batch.path.name, None, None, reason))
    batch.rejected_whole = True
    return batch
