"""Read the job centre's nightly full export (shared/formats/jobcenter-export.md) into a FileBatch.

The export is a *snapshot*: whoever is missing from it has left SGB II benefits. A truncated file
would therefore look like hundreds of people leaving at once, so the file is trusted only when
its trailer ``#Anzahl Datensätze;N`` is present and N equals the number of data rows. Otherwise
the whole file is rejected (no rows returned) and the hub keeps yesterday's state.

This module owns the file only: encoding, ``;``, header names (via mappings/columns/jobcenter.toml),
the trailer and row numbers. What a field means is mappings/jobcenter.py's job. Bad content never
raises; only an unreadable file raises BadInputError. Row numbers are physical line numbers,
header = 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import ClassVar

from kim_hub.connectors.base import EXAMPLE_PERSONS, ExamplePerson, FileConnector, line_breaks, read_delivery
from kim_hub.connectors.column_map import ColumnMap
from kim_hub.connectors.counts import parse_count
from kim_hub.connectors.csv_dialect import UnsupportedEncodingError, decode_bytes
from kim_hub.connectors.table import CsvSyntaxError, Record, csv_records
from kim_hub.core.rows import FileBatch, RawRow, Rejection

DELIMITER = ";"
_TRAILER_LABEL = re.compile(r"#\s*anzahl\s+datens(?:ä|ae|a)tze", re.IGNORECASE)


@lru_cache(maxsize=1)
def jobcenter_column_map() -> ColumnMap:
    """The job-centre header map, shipped as data in ``mappings/columns/jobcenter.toml``."""
    resource = resources.files("kim_hub.mappings").joinpath("columns", "jobcenter.toml")
    with resources.as_file(resource) as path:
        return ColumnMap.from_toml(Path(path))


class _DamagedFileError(Exception):
    """The file cannot be trusted as a whole; ``reason`` is safe to show (no values)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _lines(text: str) -> Iterator[Record]:
    """The export's records with line numbers; broken quoting damages the whole file."""
    try:
        yield from csv_records(text, DELIMITER)
    except CsvSyntaxError as exc:
        raise _DamagedFileError("CSV syntax error (unbalanced quotes?)", exc.line) from None


def _trailer_count(line: Record) -> int | None:
    """N from ``#Anzahl Datensätze;N``; None if the line is not a trailer at all."""
    if not line.cells or not _TRAILER_LABEL.fullmatch(line.cells[0].strip()):
        return None
    values = [cell.strip() for cell in line.cells[1:] if cell.strip()]
    count = parse_count(values[0]) if len(values) == 1 else None
    if count is None:
        raise _DamagedFileError("trailer line does not end in a row count", line.first_line)
    return count


def _header_positions(line: Record, column_map: ColumnMap) -> tuple[dict[int, str], list[str]]:
    """Column position → canonical name, plus unknown headers; _DamagedFileError if columns are missing or doubled."""
    positions: dict[int, str] = {}
    unknown: list[str] = []
    for index, cell in enumerate(line.cells):
        canonical = column_map.canonical(cell)
        if canonical is None:
            unknown.append(cell.strip() or f"(unnamed column {index + 1})")
        elif canonical in positions.values():
            raise _DamagedFileError(f"column {canonical!r} appears twice in the header", line.first_line)
        else:
            positions[index] = canonical
    missing = [name for name in column_map.required if name not in positions.values()]
    if missing:
        raise _DamagedFileError(f"required column(s) missing from the header: {', '.join(missing)}", line.first_line)
    return positions, unknown


def read_jobcenter_export(path: Path, column_map: ColumnMap | None = None) -> FileBatch:
    """Read one ``JC_KIM_<date>.csv``; never raises for bad content, only for an unreadable file.

    Returns the data rows keyed by canonical column name, or — when the file is damaged
    (no header, no trailer, count mismatch, CSV syntax error, wrong encoding) — no rows, one
    Rejection saying why and ``rejected_whole=True``.
    """
    column_map = column_map or jobcenter_column_map()
    data, batch = read_delivery(path)
    try:
        _read_into(batch, data, column_map)
    except _DamagedFileError as damaged:
        batch.rows.clear()
        batch.rejections[:] = [Rejection(path.name, damaged.line, None, damaged.reason)]
        batch.unknown_columns.clear()
        batch.rejected_whole = True
    return batch


def _read_into(batch: FileBatch, data: bytes, column_map: ColumnMap) -> None:
    file = batch.path.name
    try:
        text = decode_bytes(data).text  # Windows-1252 as specified; valid UTF-8 is read as such
    except UnsupportedEncodingError as exc:
        raise _DamagedFileError(exc.reason) from None
    lines = [line for line in _lines(text) if not line.blank]
    if not lines:
        raise _DamagedFileError("file is empty")
    if _trailer_count(lines[0]) is not None:
        raise _DamagedFileError("file has no header line", lines[0].first_line)
    positions, unknown = _header_positions(lines[0], column_map)
    expected = _trailer_count(lines[-1]) if len(lines) > 1 else None
    if expected is None:
        raise _DamagedFileError("no trailer line '#Anzahl Datensätze;N' at the end: the file is truncated or damaged")
    data_lines = lines[1:-1]
    for line in data_lines:
        if _trailer_count(line) is not None:
            raise _DamagedFileError("a trailer line appears before the end of the file", line.first_line)
    if len(data_lines) != expected:
        raise _DamagedFileError(f"trailer announces {expected} rows but the file holds {len(data_lines)}: truncated or damaged")

    batch.unknown_columns.extend(unknown)
    width = len(lines[0].cells)
    for line in data_lines:
        if len(line.cells) != width:
            reason = f"row has {len(line.cells)} fields but the header has {width}"
            batch.rejections.append(Rejection(file, line.first_line, None, reason))
            continue
        fields = {name: line.cells[index] for index, name in positions.items()}
        batch.rows.append(RawRow(file=file, row_number=line.first_line, fields=fields))


class JobcenterConnector(FileConnector):
    """Connector for the job centre's export dropped into ``inbox/jobcenter/``."""

    name: ClassVar[str] = "jobcenter-export"
    row_format: ClassVar[str] = "jobcenter-export"
    file_suffixes: ClassVar[tuple[str, ...]] = (".csv",)
    full_snapshot: ClassVar[bool] = True  # the export lists everyone currently receiving SGB II
    identifying_record_ids: ClassVar[bool] = True  # the record id is the Kundennummer

    @classmethod
    def read_file(cls, path: Path, column_map: ColumnMap | None = None) -> FileBatch:
        """Read one delivered export; see ``read_jobcenter_export``."""
        return read_jobcenter_export(Path(path), column_map)

    @classmethod
    def estimated_rows(cls, path: Path) -> int | None:
        """The export's lines less its header and trailer."""
        return max(line_breaks(Path(path)) - 2, 0)

    @classmethod
    def accepts(cls, path: Path) -> bool:
        """Is this a job-centre export? Its header names every required column of the map.

        Lets one inbox take both the native export and a provider-CSV file."""
        if path.suffix.lower() not in cls.file_suffixes:
            return False
        with open(path, "rb") as handle:
            head = handle.read(4096)
        first_line = head.decode("cp1252", errors="replace").lstrip("\ufeff").splitlines()[:1]
        if not first_line:
            return False
        column_map = jobcenter_column_map()
        found = {column_map.canonical(cell) for cell in first_line[0].split(";")}
        return set(column_map.required) <= found

    @classmethod
    def example_delivery(cls, folder: Path, persons: Sequence[ExamplePerson] = EXAMPLE_PERSONS) -> Path:
        """An export in the job centre's notation (Windows-1252, ``;``, DD.MM.YYYY, trailer);
        customer numbers are made up from the row position, as the format has no free record id."""
        header = "Kundennummer;Nachname;Vorname;Geburtsdatum;Status;Stand"
        lines = [header]
        for number, person in enumerate(persons, start=1):
            year, _, rest = person.birth_date.partition("-")
            month, _, day = rest.partition("-")
            lines.append(
                f"999E{number:06d};{person.family_name};{person.given_names};{day}.{month}.{year};Leistungsbezug;24.11.2026 23:15"
            )
        lines.append(f"#Anzahl Datensätze;{len(persons)}")
        path = folder / "JC_KIM_20261124.csv"
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
        return path
