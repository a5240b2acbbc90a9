"""State monitoring: aggregate case counts for a period, small cells suppressed.

A *case* is a stored record whose case runs during the period: opened on or before its last day
(or with no opening date) and not closed before its first day. Each table counts cases by one
dimension (rows) and source (columns), published with margins and suppressed by
``reporting.suppression`` (primary ``<5``, secondary ``x``).

Not reported, on purpose:
* **age band** — it needs the birth year, which the hub holds only as a keyed token (the
  encoding keeps precision and placeholder flag in clear, not the year);
* **referrals** (Verweisberatung) — no source delivers them yet.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kim_hub.core.cells import spreadsheet_safe
from kim_hub.reporting.facts import RecordFact
from kim_hub.reporting.i18n import label
from kim_hub.reporting.suppression import DEFAULT_THRESHOLD, SuppressedTable, suppress_table

NOT_REPORTED = {
    "age_band": "not available: the birth year is stored only as a keyed token, never in clear",
    "referrals": "not available: no source delivers referrals (Verweisberatung) yet",
}


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date  # inclusive


def parse_period(text: str) -> Period:
    """``2026-Q4``, ``2026-11`` or ``2026``."""
    text = text.strip().upper()
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        year, quarter = int(match[1]), int(match[2])
        start = dt.date(year, 3 * quarter - 2, 1)
        end = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1) - dt.timedelta(days=1)
    elif match := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"period {text!r}: month must be 01–12")
        start = dt.date(year, month, 1)
        end = dt.date(year + (month == 12), 1 if month == 12 else month + 1, 1) - dt.timedelta(days=1)
    elif re.fullmatch(r"\d{4}", text):
        start, end = dt.date(int(text), 1, 1), dt.date(int(text), 12, 31)
    else:
        raise ValueError(f"period {text!r}: use YYYY-Qn, YYYY-MM or YYYY")
    return Period(text, start, end)


def runs_in(record: RecordFact, period: Period) -> bool:
    opened_in_time = record.case_opened is None or record.case_opened <= period.end
    not_closed_before = record.case_closed is None or record.case_closed >= period.start
    return opened_in_time and not_closed_before


def _within(day: dt.date | None, period: Period) -> bool:
    return day is not None and period.start <= day <= period.end


def count_table(
    records: Sequence[RecordFact], dimension: Callable[[RecordFact], str | None], sources: Sequence[str]
) -> tuple[list[str], list[list[int]]]:
    """Rows = values of the dimension (``unknown`` for none), columns = sources."""
    counts = Counter((dimension(r) or "unknown", r.source) for r in records)
    rows = sorted({value for value, _source in counts})
    return rows, [[counts.get((row, source), 0) for source in sources] for row in rows]


def monitoring_tables(
    records: Sequence[RecordFact], period: Period, threshold: int = DEFAULT_THRESHOLD, lang: str = "en"
) -> dict[str, SuppressedTable]:
    """Every published table for the period, already suppressed."""
    running = [r for r in records if runs_in(r, period)]
    sources = sorted({r.source for r in records})
    dimensions: dict[str, Callable[[RecordFact], str | None]] = {
        "case_status": lambda r: r.case_status,
        "rechtskreis": lambda r: r.rechtskreis,
        "district": lambda r: r.district,
        "sex": lambda r: r.sex if r.sex in ("M", "F", "X") else None,
    }
    tables = {}
    total = label("total", lang)
    for name, dimension in dimensions.items():
        rows, cells = count_table(running, dimension, sources)
        tables[f"cases_by_{name}"] = suppress_table(
            [label(r, lang) if r == "unknown" else r for r in rows], sources, cells, threshold, total
        )
    days: dict[str, Callable[[RecordFact], dt.date | None]] = {
        "cases_opened": lambda r: r.case_opened,
        "cases_closed": lambda r: r.case_closed,
    }
    for name, day in days.items():
        cells = [[sum(1 for r in records if r.source == s and _within(day(r), period)) for s in sources]]
        tables[name] = suppress_table([label("cases", lang)], sources, cells, threshold, total)
    return tables


def monitoring_document(
    records: Sequence[RecordFact], period: Period, generated_at: dt.datetime, threshold: int = DEFAULT_THRESHOLD, lang: str = "en"
) -> dict[str, Any]:
    """The JSON document: published cells only (strings), never the unsuppressed values."""
    tables = monitoring_tables(records, period, threshold, lang)
    return {
        "period": period.label,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "unit": "cases",
        "threshold": threshold,
        "legend": {
            f"<{threshold}": f"1 to {threshold - 1} (primary suppression)",
            "x": "withheld so that totals do not reveal a small cell (secondary suppression)",
        },
        "not_reported": NOT_REPORTED,
        "tables": {name: {"rows": list(t.rows), "columns": list(t.columns), "cells": t.published} for name, t in tables.items()},
    }


def monitoring_csv(document: dict[str, Any]) -> str:
    """Long format: table, row, column, value (published value, e.g. ``12``, ``<5`` or ``x``).

    Every cell is spreadsheet-safe (``core.cells``): the file is made to be opened in a
    spreadsheet, and a row label that reads as a formula must stay text there."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("period", "table", "row", "column", "value"))
    for name, table in document["tables"].items():
        for row, cells in zip(table["rows"], table["cells"]):
            for column, value in zip(table["columns"], cells):
                writer.writerow([spreadsheet_safe(cell) for cell in (document["period"], name, row, column, value)])
    return out.getvalue()


__all__ = [
    "NOT_REPORTED",
    "Period",
    "count_table",
    "monitoring_csv",
    "monitoring_document",
    "monitoring_tables",
    "parse_period",
    "runs_in",
]
