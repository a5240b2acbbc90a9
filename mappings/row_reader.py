"""Reading the fields of one source row: the rules every mapping shares.

One definition of "a valid AZR number", "a valid postcode" and of how a bad field becomes a
Rejection (row, column, kind of problem — never the value), so the provider CSV, the job-centre
export and the authority's XML reject the same things in the same words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from kim_hub.core.rows import RawRow, Rejection
from kim_hub.mappings.codelists import UnknownCodeError, nationality_to_iso3
from kim_hub.mappings.dates import InvalidDateError

AZR_NUMBER = re.compile(r"\d{12}")
POSTCODE = re.compile(r"\d{5}")
WHITESPACE = re.compile(r"\s+")

T = TypeVar("T")


class BadFieldError(Exception):
    """A problem with one field; ``reason`` is safe to show (no value in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RowReader:
    """Reads the fields of one row, collecting a Rejection per bad field instead of stopping."""

    def __init__(self, row: RawRow) -> None:
        self.row = row
        self.rejections: list[Rejection] = []

    def text(self, column: str) -> str | None:
        """The stripped value, or None when the column is absent or empty (= unknown)."""
        value = self.row.fields.get(column, "").strip()
        return value or None

    def reject(self, column: str | None, reason: str) -> None:
        self.rejections.append(Rejection(self.row.file, self.row.row_number, column, reason))

    def parse(self, column: str, parser: Callable[[str], T]) -> T | None:
        """Apply ``parser`` to a non-empty value; None when empty or when the value is rejected."""
        value = self.text(column)
        if value is None:
            return None
        try:
            return parser(value)
        except InvalidDateError as exc:
            self.reject(column, exc.problem)
        except UnknownCodeError as exc:
            self.reject(column, f"unknown {exc.code_list} code")
        except BadFieldError as exc:
            self.reject(column, exc.reason)
        return None


def parse_azr_number(value: str) -> str:
    digits = WHITESPACE.sub("", value)
    if not AZR_NUMBER.fullmatch(digits):
        raise BadFieldError("AZR number must be 12 digits")
    return digits


def parse_postcode(value: str) -> str:
    if not POSTCODE.fullmatch(value):
        raise BadFieldError("postcode must be 5 digits")
    return value


def parse_nationalities(value: str) -> tuple[str, ...]:
    """One nationality, or several separated by ``|`` (dual nationality); "ohne Angabe" adds none."""
    codes = [nationality_to_iso3(part) for part in value.split("|")]
    return tuple(dict.fromkeys(code for code in codes if code))


def validation_rejections(reader: RowReader, error: ValidationError) -> None:
    """Turn pydantic's errors into rejections without echoing the input value."""
    for detail in error.errors(include_url=False, include_input=False):
        column = str(detail["loc"][-1]) if detail["loc"] else None
        reader.reject(column, f"invalid value ({detail['type']})")
