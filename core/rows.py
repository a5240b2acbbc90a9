"""What a delivery becomes before it is mapped: rows of plain strings, and why some were not taken.

Connectors produce these, mappings read them, storage keeps the rejections and notes and receipts
show them; so they belong to no single room. A ``Rejection`` (a row or file refused) and a ``Note``
(a value of a row that landed, left out or doubted) name a file, a row and a field, never a value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Located:
    """Something said about a file, a row of it or one field of that row; ``reason`` never
    contains a value."""

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
class Rejection(Located):
    """Why a file or a row was not accepted."""


@dataclass(frozen=True)
class Note(Located):
    """What the field contract did with one value of a row that landed (left it out, kept it with a
    warning, repaired it)."""


@dataclass(frozen=True)
class RawRow:
    """One data row of a delivered file, keyed by canonical column name."""

    file: str
    row_number: int  # 1-based line number in the file, header = 1
    fields: dict[str, str]


class StreamRejectedError(Exception):
    """A streamed file turned out, part-way, to be one the hub must reject whole (more rows than
    its source allows, a sheet that cannot be read on): what was taken of it is not stored.
    ``reason`` is for the receipt and names no value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class FileBatch:
    """Everything a connector read from one delivered file.

    Small deliveries come with their ``rows`` read. A big one may come as a ``stream``: rows
    read from the file only as they are taken (``all_rows``, once), so a delivery of hundreds of
    megabytes is never held whole; the rejections found on the way are added to the batch as the
    stream passes them, and the counts are complete once it is exhausted.
    """

    path: Path
    content_hash: str
    rows: list[RawRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    rejected_whole: bool = False
    stream: Iterator[RawRow] | None = None
    streamed: int = 0  # rows the stream has given so far
    row_limit: int | None = None

    def all_rows(self) -> Iterator[RawRow]:
        """Every row: those read, then the stream's (which can be taken only once)."""
        yield from self.rows
        stream, self.stream = self.stream, None
        for row in stream or ():
            self.streamed += 1
            if self.row_limit is not None and len(self.rows) + self.streamed > self.row_limit:
                raise StreamRejectedError(too_many_rows(self.row_limit))
            yield row

    def read_whole(self) -> FileBatch:
        """Take the stream into ``rows``: a batch read whole (``read_file``: small deliveries,
        and what tests look at)."""
        self.rows = list(self.all_rows())
        self.streamed = 0
        return self

    def limit_rows(self, limit: int) -> bool:
        """Refuse more than ``limit`` rows: True if the rows read already exceed it; a stream
        raises ``StreamRejectedError`` at the first row beyond it."""
        self.row_limit = limit
        return len(self.rows) > limit

    @property
    def superseded_rows(self) -> int:
        """Rows replaced by a later row about the same record within the file (history, not errors)."""
        return 0

    @property
    def rows_total(self) -> int:
        """Every row the sender sent: those read, those that could not even be split into fields
        (ragged, broken quoting), and those superseded within the file."""
        unread = len({r.row for r in self.rejections if r.row is not None})
        return len(self.rows) + self.streamed + unread + self.superseded_rows


def too_many_rows(limit: int) -> str:
    return f"file has more than the limit of {limit} rows for this source; split the export into smaller files"


@dataclass(frozen=True)
class HealthResult:
    """Whether a source can deliver (an API reachable, a folder usable); ``detail`` is for people."""

    ok: bool
    detail: str
