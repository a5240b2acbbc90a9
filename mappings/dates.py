"""Dates as providers write them: full case dates, and birth dates that may be partial.

Birth dates of this population are often not fully known. Registers write an unknown day as
``01.01.YYYY`` or ``00.00.YYYY`` and a known month only as ``00.MM.YYYY``; other sources send
``YYYY`` or ``YYYY-MM``. ``parse_birth_date`` keeps what is known (``precision``) and flags the
register's stand-in values (``placeholder``) so that matching can treat them as weak evidence:

* ``01.01.YYYY`` → day precision, placeholder: it *looks* like a day but usually is not one.
* ``00.00.YYYY`` → year precision, placeholder: the same register convention as 01.01., written
  differently; flagging both lets linkage treat them alike.
* ``YYYY`` → year precision, *not* a placeholder: the source simply records the year only.
* ``00.MM.YYYY``, ``MM.YYYY``, ``YYYY-MM`` → month precision, not a placeholder (no stand-in
  value is pretending to be a day).

Errors name the field and the kind of problem, never the value.
"""

from __future__ import annotations

import datetime as dt
import re

from kim_hub.core.errors import BadInputError
from kim_hub.mappings.case_summary import BirthDate, DatePrecision

_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # Excel adds " 00:00:00"; ignored
_ISO_DAY = re.compile(rf"(\d{{4}})-(\d{{1,2}})-(\d{{1,2}}){_TIME}")
_DOTTED_DAY = re.compile(rf"(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}}){_TIME}")
_DOTTED_SHORT_YEAR = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2}")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DOTTED_MONTH = re.compile(r"(\d{1,2})\.(\d{4})")
_YEAR = re.compile(r"\d{4}")

BIRTH_YEAR_RANGE = (1880, 2100)  # the bounds of BirthDate.year
CASE_YEAR_RANGE = (1900, 2100)


class InvalidDateError(BadInputError, ValueError):
    """A date field could not be read; ``field`` and ``problem`` are safe to show to people."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _day_month_year(text: str) -> tuple[int, int, int] | None:
    """(day, month, year) from ``YYYY-MM-DD`` or ``DD.MM.YYYY`` (zeros kept), else None."""
    if match := _ISO_DAY.fullmatch(text):
        return int(match[3]), int(match[2]), int(match[1])
    if match := _DOTTED_DAY.fullmatch(text):
        return int(match[1]), int(match[2]), int(match[3])
    return None


def _checked_date(year: int, month: int, day: int, field: str) -> dt.date:
    if not 1 <= month <= 12:
        raise InvalidDateError(field, "month is not between 01 and 12")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InvalidDateError(field, "day does not exist in that month") from None


def _unknown_format(field: str, text: str, expected: str) -> InvalidDateError:
    if _DOTTED_SHORT_YEAR.fullmatch(text):
        return InvalidDateError(field, "two-digit year is ambiguous; write the year with four digits")
    return InvalidDateError(field, f"not a date in an accepted format ({expected})")


def parse_date(value: str, field: str = "date") -> dt.date:
    """A full calendar date (case and consent dates): ``YYYY-MM-DD`` or ``DD.MM.YYYY``.

    A time of day after the date (``2026-11-24 23:15``) is ignored: the hub keeps dates only.
    """
    text = value.strip()
    if not text:
        raise InvalidDateError(field, "no date given")
    parts = _day_month_year(text)
    if parts is None:
        raise _unknown_format(field, text, "YYYY-MM-DD or DD.MM.YYYY")
    day, month, year = parts
    if not CASE_YEAR_RANGE[0] <= year <= CASE_YEAR_RANGE[1]:
        raise InvalidDateError(field, "year is outside the plausible range")
    return _checked_date(year, month, day, field)


def parse_birth_date(value: str, field: str = "birth_date", today: dt.date | None = None) -> BirthDate:
    """A birth date in any accepted full or partial form; see the module docstring."""
    text = value.strip()
    if not text:
        raise InvalidDateError(field, "no date given")
    today = today or dt.date.today()
    day: int | None
    month: int | None
    placeholder = False
    if parts := _day_month_year(text):
        day, month, year = parts
        if day == 0 and month == 0:  # 00.00.YYYY: the register's "day and month unknown"
            day, month, placeholder = None, None, True
        elif day == 0:  # 00.MM.YYYY: month known, day not
            day = None
        elif month == 0:
            raise InvalidDateError(field, "month is 00 but a day is given")
        else:
            placeholder = day == 1 and month == 1
    elif match := _ISO_MONTH.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), None
    elif match := _DOTTED_MONTH.fullmatch(text):
        year, month, day = int(match[2]), int(match[1]), None
    elif _YEAR.fullmatch(text):
        year, month, day = int(text), None, None
    else:
        raise _unknown_format(field, text, "YYYY-MM-DD, DD.MM.YYYY, YYYY-MM, MM.YYYY, YYYY or 00.00.YYYY")

    if not BIRTH_YEAR_RANGE[0] <= year <= BIRTH_YEAR_RANGE[1]:
        raise InvalidDateError(field, "year is outside the plausible range")
    if month is not None:
        _checked_date(year, month, day or 1, field)
    known = (year, month or 1, day or 1)
    if known > (today.year, today.month if month else 1, today.day if day else 1):
        raise InvalidDateError(field, "birth date lies in the future")
    precision: DatePrecision = "day" if day else "month" if month else "year"
    return BirthDate(year=year, month=month, day=day, precision=precision, placeholder=placeholder)
