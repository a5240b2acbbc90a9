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
from functools import lru_cache

from kim_hub.core.errors import BadInputError
from kim_hub.mappings.case_summary import BirthDate, DatePrecision
from kim_hub.mappings.contract import Repaired

_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # Excel adds " 00:00:00"; ignored
_ISO_DAY = re.compile(rf"(\d{{4}})-(\d{{1,2}})-(\d{{1,2}}){_TIME}")
_COMPACT_DAY = re.compile(r"(\d{4})(\d{2})(\d{2})")  # YYYYMMDD, as databases export it
_DOTTED_DAY = re.compile(rf"(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}}){_TIME}")
_DOTTED_SHORT_YEAR = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2}")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_DOTTED_MONTH = re.compile(r"(\d{1,2})\.(\d{4})")
_YEAR = re.compile(r"\d{4}")

PLAUSIBLE_BIRTH_YEAR = 1900  # earlier years are kept as evidence, with a warning (the field contract)
CASE_YEAR_RANGE = (1900, 2100)


class InvalidDateError(BadInputError, ValueError):
    """A date field could not be read; ``field`` and ``problem`` are safe to show to people."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class ImplausibleDateError(InvalidDateError):
    """A date that reads but is unlikely to be true; ``value`` is what it reads as."""

    def __init__(self, field: str, problem: str, value: BirthDate) -> None:
        super().__init__(field, problem)
        self.value = value


def _day_month_year(text: str) -> tuple[int, int, int] | None:
    """(day, month, year) from ``YYYY-MM-DD``, ``DD.MM.YYYY`` or ``YYYYMMDD`` (zeros kept), else None."""
    if match := _ISO_DAY.fullmatch(text) or _COMPACT_DAY.fullmatch(text):
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
    found = _calendar_date(value.strip())
    if isinstance(found, str):
        raise InvalidDateError(field, found)
    return found


# Dates read per distinct text and kept in this process, at most this many of each kind: a
# delivery's rows share their export date, few case and consent dates, and birth dates repeat
# (01.01.YYYY above all); reading each row's anew was a tenth of mapping it.
DATES_KEPT = 20_000


@lru_cache(maxsize=DATES_KEPT)
def _calendar_date(text: str) -> dt.date | str:
    """The date ``text`` is, or what is wrong with it (words safe to show)."""
    if not text:
        return "no date given"
    parts = _day_month_year(text)
    try:
        if parts is None:
            raise _unknown_format("date", text, "YYYY-MM-DD or DD.MM.YYYY")
        day, month, year = parts
        if not CASE_YEAR_RANGE[0] <= year <= CASE_YEAR_RANGE[1]:
            return "year is outside the plausible range"
        return _checked_date(year, month, day, "date")
    except InvalidDateError as error:
        return error.problem


def parse_birth_date(value: str, field: str = "birth_date", today: dt.date | None = None) -> BirthDate | Repaired[BirthDate]:
    """A birth date in any accepted full or partial form; see the module docstring.

    What data entry gets wrong is repaired where the intent is clear, and the repair is said: a
    day that does not exist in its month leaves year and month; a month above 12 with a day that
    could be a month was typed the other way round; any other impossible month leaves the year.
    A year before 1900 reads but is implausible (``ImplausibleDateError`` carries what it reads
    as); a date in the future or in no accepted form is invalid. Read once per distinct text and
    day (``DATES_KEPT``)."""
    found = _birth_date(value.strip(), today or dt.date.today())
    if isinstance(found, str):
        raise InvalidDateError(field, found)
    if isinstance(found, tuple):
        raise ImplausibleDateError(field, found[0], found[1])
    return found


@lru_cache(maxsize=DATES_KEPT)
def _birth_date(text: str, today: dt.date) -> BirthDate | Repaired[BirthDate] | str | tuple[str, BirthDate]:
    """The birth date ``text`` is; else what is wrong with it (words safe to show), with what it
    reads as when it is only implausible."""
    try:
        return _read_birth_date(text, today)
    except ImplausibleDateError as error:
        return error.problem, error.value
    except InvalidDateError as error:
        return error.problem


def _read_birth_date(text: str, today: dt.date) -> BirthDate | Repaired[BirthDate]:
    field = "birth_date"  # the caller names the field: only the problem is kept
    if not text:
        raise InvalidDateError(field, "no date given")
    year, month, day, placeholder = _birth_parts(text, field)
    repair = None
    if month is not None and month > 12:
        if day is not None and 1 <= day <= 12 and _exists(year, day, month):
            month, day, repair = day, month, "day and month typed the other way round; read swapped"
        else:
            month, day, repair = None, None, "month does not exist; only the year kept"
    elif month is not None and day is not None and not _exists(year, month, day):
        day, repair = None, "day does not exist in its month; year and month kept"
    elif month is None and day is not None:
        day, repair = None, "a day but no month; only the year kept"
    if (year, month or 1, day or 1) > _today_parts(today, month, day):
        raise InvalidDateError(field, "birth date lies in the future")
    precision: DatePrecision = "day" if day else "month" if month else "year"
    birth = BirthDate(year=year, month=month, day=day, precision=precision, placeholder=placeholder and repair is None)
    if year < PLAUSIBLE_BIRTH_YEAR:
        raise ImplausibleDateError(field, f"birth year before {PLAUSIBLE_BIRTH_YEAR}", birth)
    return Repaired(birth, repair) if repair else birth


def _birth_parts(text: str, field: str) -> tuple[int, int | None, int | None, bool]:
    """(year, month, day, placeholder) as written; month may exceed 12 here (repaired after)."""
    if parts := _day_month_year(text):
        day, month, year = parts
        if day == 0 and month == 0:  # 00.00.YYYY: the register's "day and month unknown"
            return year, None, None, True
        if day == 0:  # 00.MM.YYYY: month known, day not
            return year, month, None, False
        if month == 0:  # a day with month 00: the day means nothing without its month
            return year, None, day, False
        return year, month, day, day == 1 and month == 1
    if match := _ISO_MONTH.fullmatch(text):
        return int(match[1]), int(match[2]), None, False
    if match := _DOTTED_MONTH.fullmatch(text):
        return int(match[2]), int(match[1]), None, False
    if _YEAR.fullmatch(text):
        return int(text), None, None, False
    raise _unknown_format(field, text, "YYYY-MM-DD, DD.MM.YYYY, YYYYMMDD, YYYY-MM, MM.YYYY, YYYY or 00.00.YYYY")


def _exists(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _today_parts(today: dt.date, month: int | None, day: int | None) -> tuple[int, int, int]:
    """Today at the precision of a date compared with it."""
    return today.year, today.month if month else 1, today.day if day else 1
