"""What a delivery becomes before it is mapped: rows of plain strings, and why some were not taken.

Connectors produce these, mappings read them, storage keeps the rejections and notes and receipts
show them; so they belong to no single room. A ``Rejection`` (a row or file refused) and a ``Note``
(a value of a row that landed, left out or doubted) name a file, a row and a field, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Rejection:
    """Why a file or a row was not accepted. ``reason`` never contains the rejected value."""

    file: str
    row: int | None
    field: str | None
    reason: str

    def describe(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Note:
    """What the field contract did with one value of a row that landed (left it out, kept it with a
    warning, repaired it). ``reason`` never contains the value."""

    file: str
    row: int | None
    field: str | None
    reason: str

    def describe(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class RawRow:
    """One data row of a delivered file, keyed by canonical column name."""

    file: str
    row_number: int  # 1-based line number in the file, header = 1
    fields: dict[str, str]


@dataclass
class FileBatch:
    """Everything a connector read from one delivered file."""

    path: Path
    content_hash: str
    rows: list[RawRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    rejected_whole: bool = False

    @property
    def superseded_rows(self) -> int:
        """Rows replaced by a later row about the same record within the file (history, not errors)."""
        return 0

    @property
    def rows_total(self) -> int:
        """Every row the sender sent: those read, those that could not even be split into fields
        (ragged, broken quoting), and those superseded within the file."""
        unread = len({r.row for r in self.rejections if r.row is not None})
        return len(self.rows) + unread + self.superseded_rows


@dataclass(frozen=True)
class HealthResult:
    """Whether a source can deliver (an API reachable, a folder usable); ``detail`` is for people."""

    ok: bool
    detail: str
