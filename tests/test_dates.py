"""Case dates and (partial) birth dates, including the register's placeholder conventions."""

from __future__ import annotations

import datetime as dt

import pytest

from kim_hub.core.errors import BadInputError
from kim_hub.mappings.case_summary import BirthDate, DatePrecision
from kim_hub.mappings.contract import Repaired
from kim_hub.mappings.dates import ImplausibleDateError, InvalidDateError, parse_birth_date, parse_date

TODAY = dt.date(2026, 11, 24)


def birth(year: int, month: int | None, day: int | None, precision: DatePrecision, placeholder: bool = False) -> BirthDate:
    return BirthDate(year=year, month=month, day=day, precision=precision, placeholder=placeholder)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1990-03-15", birth(1990, 3, 15, "day")),
        ("15.03.1990", birth(1990, 3, 15, "day")),
        ("5.3.1990", birth(1990, 3, 5, "day")),
        (" 15.03.1990 ", birth(1990, 3, 15, "day")),
        ("15.03.1990 00:00:00", birth(1990, 3, 15, "day")),
        ("01.01.1990", birth(1990, 1, 1, "day", placeholder=True)),
        ("1990-01-01", birth(1990, 1, 1, "day", placeholder=True)),
        ("00.00.1990", birth(1990, None, None, "year", placeholder=True)),
        ("1990-00-00", birth(1990, None, None, "year", placeholder=True)),
        ("00.03.1990", birth(1990, 3, None, "month")),
        ("03.1990", birth(1990, 3, None, "month")),
        ("1990-03", birth(1990, 3, None, "month")),
        ("1990", birth(1990, None, None, "year")),  # year only: imprecise, but no stand-in value
        ("01.02.1990", birth(1990, 2, 1, "day")),  # the 1st of another month is a real date
    ],
)
def test_birth_date_forms(value: str, expected: BirthDate) -> None:
    assert parse_birth_date(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "expected", "said"),
    [
        ("31.02.1990", birth(1990, 2, None, "month"), "day does not exist in its month"),
        ("1990-02-30", birth(1990, 2, None, "month"), "day does not exist in its month"),
        ("29.02.1991", birth(1991, 2, None, "month"), "day does not exist in its month"),
        ("13.05.1990", birth(1990, 5, 13, "day"), None),  # an ordinary date: nothing to repair
        ("05.13.1990", birth(1990, 5, 13, "day"), "day and month typed the other way round"),
        ("1990-13-05", birth(1990, 5, 13, "day"), "day and month typed the other way round"),
        ("15.13.1990", birth(1990, None, None, "year"), "month does not exist"),
        ("1990-13", birth(1990, None, None, "year"), "month does not exist"),
        ("13.1990", birth(1990, None, None, "year"), "month does not exist"),
        ("15.00.1990", birth(1990, None, None, "year"), "a day but no month"),
    ],
)
def test_impossible_dates_keep_what_is_certain_and_say_what_was_done(value: str, expected: BirthDate, said: str | None) -> None:
    parsed = parse_birth_date(value, today=TODAY)
    if said is None:
        assert parsed == expected
    else:
        assert isinstance(parsed, Repaired) and parsed.value == expected and parsed.note.startswith(said)
        assert value not in parsed.note and "1990" not in parsed.note


def test_a_year_before_1900_reads_but_is_implausible() -> None:
    with pytest.raises(ImplausibleDateError) as caught:
        parse_birth_date("1850", today=TODAY)
    assert caught.value.field == "birth_date" and caught.value.problem.startswith("birth year before 1900")
    assert caught.value.value == birth(1850, None, None, "year") and "1850" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("15.03.90", "two-digit year is ambiguous; write the year with four digits"),
        ("2027", "birth date lies in the future"),
        ("12.2026", "birth date lies in the future"),
        ("25.11.2026", "birth date lies in the future"),
        ("gestern", "not a date in an accepted format"),
        ("1990/03/15", "not a date in an accepted format"),
    ],
)
def test_invalid_birth_dates_name_the_field_not_the_value(value: str, problem: str) -> None:
    with pytest.raises(InvalidDateError) as caught:
        parse_birth_date(value, today=TODAY)
    assert caught.value.field == "birth_date"
    assert caught.value.problem.startswith(problem)
    assert str(caught.value).startswith("birth_date: ")
    assert value.strip() not in str(caught.value)
    assert isinstance(caught.value, BadInputError) and isinstance(caught.value, ValueError)


def test_birth_date_today_and_leap_day() -> None:
    assert parse_birth_date("24.11.2026", today=TODAY).day == 24
    assert parse_birth_date("29.02.2000", today=TODAY).month == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-24", dt.date(2026, 11, 24)),
        ("24.11.2026", dt.date(2026, 11, 24)),
        ("1.2.2026", dt.date(2026, 2, 1)),
        ("24.11.2026 23:15", dt.date(2026, 11, 24)),
        ("2026-11-24T23:15:00", dt.date(2026, 11, 24)),
    ],
)
def test_case_dates(value: str, expected: dt.date) -> None:
    assert parse_date(value, "case_opened") == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("31.02.2026", "day does not exist in that month"),
        ("2026", "not a date in an accepted format"),  # case dates must be complete
        ("00.00.2026", "month is not between 01 and 12"),
        ("24.11.26", "two-digit year is ambiguous"),
        ("0202-11-24", "year is outside the plausible range"),
        ("", "no date given"),
    ],
)
def test_invalid_case_dates(value: str, problem: str) -> None:
    with pytest.raises(InvalidDateError) as caught:
        parse_date(value, "case_opened")
    assert caught.value.field == "case_opened"
    assert caught.value.problem.startswith(problem)
