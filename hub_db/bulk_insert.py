"""Inserting many rows through the database driver's own executemany.

SQLAlchemy's executemany builds and converts every row's parameters in Python: that was about
half of writing a first run's million links and half a million persons, and a large part of
storing a delivery's records. Here each value that needs converting (times, JSON) goes through
its column's own bind processor, the same object (a run's timestamp) only once, and the rows go
to the driver as tuples: what is stored is exactly what SQLAlchemy would have stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, ClassVar

from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

WRITE_CHUNK = 20_000  # rows per executemany: a million rows are never all held at once
_UNSET = object()


class DriverInsert:
    """Rows for one table (dicts with the same keys), handed to the driver every ``chunk`` rows;
    ``flush`` sends the rest.

    ``json_text``: JSON columns whose values come as the text ``json.dumps`` makes of them
    (made where the rows were made, in a worker process): on a dialect whose JSON columns store
    exactly that text (SQLite) it goes to the driver as it is, elsewhere it is read back and
    converted like any value (PostgreSQL's driver takes JSON as an object of its own)."""

    _MARKS: ClassVar[Mapping[str, str]] = {"qmark": "?", "format": "%s", "pyformat": "%s"}

    def __init__(self, session: Session, table: Table, chunk: int = WRITE_CHUNK, json_text: Collection[str] = ()) -> None:
        dialect = session.get_bind().dialect
        self.session, self.table, self.dialect, self.chunk = session, table, dialect, chunk
        self.json_text = json_text
        self.rows: list[tuple[Any, ...]] = []
        self.columns: list[str] = []
        self.sql = ""
        self.converting: list[tuple[int, Callable[[Any], Any]]] = []  # (column, its bind processor)
        self.last: list[tuple[Any, Any]] = []  # per column: the last value and what it became

    def append(self, row: dict[str, Any]) -> None:
        if not self.columns:
            self._prepare(list(row))
        self.append_values([row[name] for name in self.columns])

    def append_values(self, values: list[Any]) -> None:
        """One row as its values in the order of ``columns`` (``prepare`` them first): a first link
        run writes hundreds of thousands of rows, and a dict per row is a third of the Python work."""
        for index, processor in self.converting:
            value = values[index]
            if value is not None:
                last, converted = self.last[index]
                if value is not last:
                    converted = processor(value)
                    self.last[index] = (value, converted)
                values[index] = converted
        self.rows.append(tuple(values))
        if len(self.rows) >= self.chunk:
            self.flush()

    def prepare(self, columns: list[str]) -> DriverInsert:
        """Name the columns before rows are given by ``append_values``."""
        self._prepare(columns)
        return self

    def _prepare(self, columns: list[str]) -> None:
        quote = self.dialect.identifier_preparer.quote
        mark = self._MARKS[self.dialect.paramstyle]
        self.columns = columns
        self.sql = f"INSERT INTO {quote(self.table.name)} ({', '.join(quote(c) for c in columns)}) VALUES ({', '.join([mark] * len(columns))})"
        processors = [self._processor(c) for c in columns]
        self.converting = [(index, processor) for index, processor in enumerate(processors) if processor is not None]
        self.last = [(_UNSET, None)] * len(columns)

    def _processor(self, column: str) -> Callable[[Any], Any] | None:
        """What turns a value of ``column`` into the driver's form (None: nothing)."""
        processor: Callable[[Any], Any] | None = self.table.c[column].type.dialect_impl(self.dialect).bind_processor(self.dialect)
        if column not in self.json_text:
            return processor
        assert isinstance(self.table.c[column].type, JSON), f"{column} is not a JSON column"
        if self.dialect.name == "sqlite" and getattr(self.dialect, "_json_serializer", None) is None:
            return None  # SQLite's conversion is json.dumps: the text is what it would write
        assert processor is not None
        return lambda text: processor(json.loads(text))

    def flush(self) -> None:
        if self.rows:
            self.session.connection().exec_driver_sql(self.sql, self.rows)
            self.rows = []


def insert_rows(session: Session, table: Table, rows: Iterable[dict[str, Any]], json_text: Collection[str] = ()) -> None:
    """All ``rows`` (dicts with the same keys) into ``table``, a chunk at a time (``json_text``:
    see ``DriverInsert``)."""
    inserter = DriverInsert(session, table, json_text=json_text)
    for row in rows:
        inserter.append(row)
    inserter.flush()
