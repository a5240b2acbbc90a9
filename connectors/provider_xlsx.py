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
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from kim_hub.connectors.base import read_delivery
from kim_hub.connectors.column_map import ColumnMap, provider_csv_column_map
from kim_hub.connectors.table import Record, fill_batch
from kim_hub.core.rows import FileBatch, Rejection

MAX_XLSX_BYTES = 50 * 1024 * 1024
MAX_COLUMNS = 200
MAX_UNPACKED_BYTES = 400 * 1024 * 1024  # all parts of the archive together, unpacked
MAX_COMPRESSION_RATIO = 100  # spreadsheet XML packs 5-20 fold; a bomb packs thousands fold
MAX_SHARED_STRINGS_BYTES = 100 * 1024 * 1024


def read_provider_xlsx(path: Path, column_map: ColumnMap | None = None) -> FileBatch:
    """Read the first worksheet of an Excel export; never raises for bad content."""
    data, batch = read_delivery(path)
    if len(data) > MAX_XLSX_BYTES:
        return _reject(batch, f"file larger than {MAX_XLSX_BYTES // (1024 * 1024)} MB")
    if (too_much := _unpacking_refused(path)) is not None:
        return _reject(batch, too_much)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        return _reject(batch, "not a readable .xlsx workbook; export the sheet as .xlsx or CSV")
    try:
        records = _sheet_records(workbook)
    except UNREADABLE_SHEET:
        return _reject(
            batch, "the first sheet cannot be read (it is missing, damaged, or a cell holds what its type does not allow)"
        )
    finally:
        workbook.close()
    width = max((len(r.cells) for r in records), default=0)
    # a sheet pads short rows with empty cells: trailing empty columns are not ragged rows
    while width and all(len(r.cells) < width or not r.cells[width - 1] for r in records):
        width -= 1
    records = [Record(r.first_line, r.last_line, (r.cells + [""] * width)[:width]) for r in records]
    return fill_batch(batch, records, column_map or provider_csv_column_map())


# What openpyxl raises for a workbook that opened but whose sheet cannot be read: no sheet at all
# (IndexError), a number cell holding text (ValueError), broken sheet XML (SyntaxError is
# ElementTree's ParseError), a missing part of the archive (KeyError).
UNREADABLE_SHEET = (IndexError, ValueError, TypeError, KeyError, SyntaxError, zipfile.BadZipFile, OSError)


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


def _sheet_records(workbook: Workbook) -> list[Record]:
    """The first sheet's rows as records numbered as Excel shows them, at most ``MAX_COLUMNS``
    cells each: the sheet's dimension record is not trusted (a forged one makes every row as
    wide as it claims)."""
    sheet = workbook.worksheets[0]
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()
    return [
        Record(first_line=number, last_line=number, cells=[_cell_text(v) for v in row[:MAX_COLUMNS]])
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1)
    ]


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
