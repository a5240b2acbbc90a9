"""What a value looks like when it is itself one of a person's identifiers (shared/DOMAIN.md).

A source's record id should be a case number of its own. An id that is an AZR number, a birth
date, a tax id, a social insurance number, or the job centre's Kundennummer or BG-Nummer is an
identifier under another name: stored as a record id it would sit in clear in the database, the
links export, the review list and the outbox file names. This module only tells *that* a value has
such a shape and which one; what follows from it is the caller's rule (``mappings.record_ids`` for
record ids; the identifier policy reuses the same shapes). Everything here names the kind, never
the value.

The shapes are data (``SHAPES``), each a full-match pattern on a *candidate* of the value plus a
plausibility check where the pattern alone would catch too much:

* the whole value, spaces removed and capitalised (``9876 5432 1098``, ``962d 104711``);
* the same after a leading label of letters (``AZR 987654321098``, ``KD-962D104711``);
* each part of the value between separators (``CAR-987654321098`` → ``987654321098``);
* and, for dates only, a date written with ``.``, ``/`` or ``-`` anywhere in the value
  (``K-01.02.1990-3``): a written date in an id cannot be told from a birth date.

What is deliberately *not* caught, because ordinary case numbers look like it: six digits that
could be ``DDMMYY`` (every counter from 010100 on would be a date), and digit runs inside a longer
number (``2024000000123``). Tax ids need the digit distribution of a real IdNr (in the first ten
digits exactly one digit repeats, twice or three times), so counters such as ``10000000001`` pass;
the check digit is not required, so a mistyped tax id is still refused.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

IdentifierKind = Literal["AZR number", "birth date", "tax id", "social insurance number", "Kundennummer", "BG-Nummer"]

# the job centre's own references (§ 51a SGB II): a key of the job centre, nobody else's; kept
# only under encryption, and only as the record id of a source whose ids the hub encrypts
LOCAL_REFERENCES: frozenset[IdentifierKind] = frozenset({"Kundennummer", "BG-Nummer"})

PLAUSIBLE_YEARS = (1900, 2099)
_WHITESPACE = re.compile(r"\s+")
_NOT_DIGITS = re.compile(r"\D+")
# every shape holds at least this many digits (the Kundennummer nine, a compact date eight), and a
# written date at least four (D.M.YY): a value with fewer cannot have a shape, whatever its letters
SHAPE_MIN_DIGITS = 8
WRITTEN_DATE_MIN_DIGITS = 4
_LABEL = re.compile(r"[A-ZÄÖÜ]{1,12}[-_:#./]*(?=\d)")  # AZR, KDNR, IDNR, SVNR, BG … before the number
_SEPARATORS = re.compile(r"[\s\-_:#|,;+]+")
# a written date anywhere (digits not part of a longer number): D.M.YYYY, DD-MM-YYYY, YYYY-MM-DD,
# and a two-digit year only with the German and British separators (DD.MM.YY, DD/MM/YY): with
# hyphens, 12-3-45 is more often a case number than a date
_DATE_DAY_FIRST = re.compile(r"(?<!\d)(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?!\d)")
_DATE_SHORT_YEAR = re.compile(r"(?<!\d)(\d{1,2})([./])(\d{1,2})\2(\d{2})(?!\d)")
_DATE_YEAR_FIRST = re.compile(r"(?<!\d)(\d{4})([./-])(\d{1,2})\2(\d{1,2})(?!\d)")


def _always(_match: re.Match[str]) -> bool:
    return True


def _tax_id_digits(match: re.Match[str]) -> bool:
    """The IdNr's digit rule (§ 139b AO, BZSt): in the first ten digits one digit occurs twice or
    three times, every other at most once."""
    counts = Counter(match[0][:10]).values()
    repeated = [count for count in counts if count > 1]
    return len(repeated) == 1 and repeated[0] in (2, 3)


def _day_month(day: str, month: str) -> bool:
    """A day and month as written in a birth date; 00 is the registers' "unknown" (00.00.YYYY)."""
    return 0 <= int(day) <= 31 and 0 <= int(month) <= 12


def _year(year: str) -> bool:
    return PLAUSIBLE_YEARS[0] <= int(year) <= PLAUSIBLE_YEARS[1]


def _compact_date(match: re.Match[str]) -> bool:
    """Eight digits that read as DDMMYYYY or as YYYYMMDD with a plausible year."""
    digits = match[0]
    day_first = _year(digits[4:]) and _day_month(digits[:2], digits[2:4])
    year_first = _year(digits[:4]) and _day_month(digits[6:], digits[4:6])
    return day_first or year_first


@dataclass(frozen=True)
class IdentifierShape:
    """One way an identifier is written: a full-match pattern and a plausibility check."""

    kind: IdentifierKind
    pattern: re.Pattern[str]
    plausible: Callable[[re.Match[str]], bool] = _always


# checked in this order; the first kind that fits is the one reported
SHAPES: tuple[IdentifierShape, ...] = (
    IdentifierShape("BG-Nummer", re.compile(r"\d{5}//\d{7}")),  # job centre: household (Bedarfsgemeinschaft)
    IdentifierShape("Kundennummer", re.compile(r"\d{3}[A-Z]\d{6}")),  # job centre: person, 962D104711
    # Rentenversicherungsnummer: area (2), birth date DDMMYY (6), initial of the birth name, serial (2), check digit
    IdentifierShape("social insurance number", re.compile(r"\d{8}[A-Z]\d{3}")),
    IdentifierShape("AZR number", re.compile(r"\d{12}")),
    IdentifierShape("tax id", re.compile(r"[1-9]\d{10}"), _tax_id_digits),
    IdentifierShape("birth date", re.compile(r"\d{8}"), _compact_date),
)


def identifier_kind(value: str) -> IdentifierKind | None:
    """The kind of identifier ``value`` looks like, or None. See the module docstring."""
    text = value.strip()
    digits = len(_NOT_DIGITS.sub("", text))  # most case numbers are told apart here, without the patterns
    if digits < WRITTEN_DATE_MIN_DIGITS:
        return None
    if digits >= SHAPE_MIN_DIGITS:
        candidates = list(dict.fromkeys(_candidates(text)))
        for shape in SHAPES:
            for candidate in candidates:
                match = shape.pattern.fullmatch(candidate)
                if match and shape.plausible(match):
                    return shape.kind
    if _written_date(text):
        return "birth date"
    return None


def _candidates(text: str) -> Iterator[str]:
    """The whole value without spaces, its parts between separators, each also without a label."""
    whole = _WHITESPACE.sub("", text).upper()
    parts = [part.upper() for part in _SEPARATORS.split(text) if part]
    for candidate in (whole, *parts):
        yield candidate
        if label := _LABEL.match(candidate):
            yield candidate[label.end() :]


def _written_date(text: str) -> bool:
    """A date written with separators anywhere in ``text`` (day first or year first)."""
    for match in _DATE_DAY_FIRST.finditer(text):
        if _day_month(match[1], match[3]) and _year(match[4]):
            return True
    for match in _DATE_SHORT_YEAR.finditer(text):
        if _day_month(match[1], match[3]):
            return True
    for match in _DATE_YEAR_FIRST.finditer(text):
        year, month, day = match[1], match[3], match[4]
        if _year(year) and _day_month(day, month):
            return True
    return False
