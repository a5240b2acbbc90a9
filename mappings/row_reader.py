"""Reading the fields of one source row: the rules every mapping shares.

One definition of "a valid AZR number", "a valid postcode" and of what a bad field costs, so the
provider CSV, the job-centre export and the authority's XML treat the same flaw alike and name it
in the same words (row, column, kind of problem — never the value). What a bad field costs is the
field contract's (``mappings.contract``): mostly the value, with a note on the receipt; the row
only where the contract says so. A parser may also repair a value (``Repaired``) and say how.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from pydantic import ValidationError

from kim_hub.core.rows import Note, RawRow, Rejection
from kim_hub.mappings.codelists import UnknownCodeError, nationality_to_iso3
from kim_hub.mappings.contract import Action, FieldContract, Partial, Repaired
from kim_hub.mappings.dates import ImplausibleDateError, InvalidDateError

AZR_NUMBER = re.compile(r"\d{12}")
POSTCODE = re.compile(r"\d{5}")
WHITESPACE = re.compile(r"\s+")

# identity a row without any name can still be linked on (canonical field names, all mappings)
LINKABLE_WITHOUT_A_NAME = ("birth_date", "birth_place", "street", "postcode", "azr_number", "jobcenter_customer_no")

T = TypeVar("T")
FOUR_DIGIT_POSTCODE = re.compile(r"\d{4}")


class BadFieldError(Exception):
    """A value that cannot be read as what its column holds; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ImplausibleFieldError(BadFieldError, Generic[T]):
    """A value that reads but is unlikely to be true; ``value`` is what it reads as (kept when the
    contract says ``keep_with_warning``)."""

    def __init__(self, reason: str, value: T) -> None:
        super().__init__(reason)
        self.value = value


@dataclass(frozen=True)
class Problem:
    """One flaw of one value: invalid or implausible, why, and what it reads as if implausible."""

    reason: str
    implausible: bool = False
    value: object = None


class RowReader:
    """Reads the fields of one row, settling each bad field by the contract instead of stopping.

    ``rejections`` refuse the row (the mapping returns them); ``notes`` go with a row that lands."""

    def __init__(self, row: RawRow, contract: FieldContract | None = None) -> None:
        self.row = row
        self.contract = contract or FieldContract()
        self.rejections: list[Rejection] = []
        self.notes: list[Note] = []

    def text(self, column: str) -> str | None:
        """The stripped value, or None when the column is absent or empty (= unknown)."""
        value = self.row.fields.get(column, "").strip()
        return value or None

    def reject(self, column: str | None, reason: str) -> None:
        """Refuse the row: it cannot be attributed, or carries nothing to link on."""
        self.rejections.append(Rejection(self.row.file, self.row.row_number, column, reason))

    def require_identity(self, family_name: str, given_names: str, identity: dict[str, object]) -> None:
        """Refuse the row if it carries nothing to link on: no name and none of
        ``LINKABLE_WITHOUT_A_NAME`` (one name is a name: many people here have only one)."""
        if not (family_name or given_names or any(identity.get(key) for key in LINKABLE_WITHOUT_A_NAME)):
            self.reject("family_name", "no name, birth date, address or identifier: nothing to link the row on")

    def note(self, column: str | None, reason: str) -> None:
        """Say what was done with one value of a row that lands."""
        self.notes.append(Note(self.row.file, self.row.row_number, column, reason))

    def parse(self, column: str, parser: Callable[[str], T | Repaired[T] | Partial[T]]) -> T | None:
        """Apply ``parser`` to a non-empty value; None when empty or when the value is dropped.

        A repaired value is taken with a note; a bad one is settled by the contract, and so is
        one that lost some of its parts (what remains is kept unless the column rejects the row)."""
        value = self.text(column)
        if value is None:
            return None
        try:
            parsed = parser(value)
        except (InvalidDateError, UnknownCodeError, BadFieldError) as error:
            return cast("T | None", self.settle(column, _problem(error)))  # a kept implausible value is what the parser read
        if isinstance(parsed, Repaired):
            self.note(column, parsed.note)
            return parsed.value
        if isinstance(parsed, Partial):
            if self.contract.on_invalid(column) is Action.REJECT_ROW:
                self.reject(column, parsed.reason)
                return None
            self.note(column, f"{parsed.reason}; left out")
            return parsed.value
        return parsed

    def settle(self, column: str, problem: Problem) -> object:
        """What the contract does with a bad value: refuse the row, drop the value, or keep it."""
        action = self.contract.on_implausible(column) if problem.implausible else self.contract.on_invalid(column)
        if action is Action.REJECT_ROW:
            self.reject(column, problem.reason)
            return None
        if action is Action.KEEP_WITH_WARNING and problem.implausible:
            self.note(column, f"{problem.reason}; kept")
            return problem.value
        self.note(column, f"{problem.reason}; left out")
        return None


def _problem(error: Exception) -> Problem:
    """The problem an exception of a parser reports, in words safe to show."""
    if isinstance(error, ImplausibleDateError):
        return Problem(error.problem, implausible=True, value=error.value)
    if isinstance(error, InvalidDateError):
        return Problem(error.problem)
    if isinstance(error, UnknownCodeError):
        return Problem(f"unknown {error.code_list} code")
    if isinstance(error, ImplausibleFieldError):
        return Problem(error.reason, implausible=True, value=error.value)
    assert isinstance(error, BadFieldError)
    return Problem(error.reason)


def parse_azr_number(value: str) -> str:
    digits = WHITESPACE.sub("", value)
    if not AZR_NUMBER.fullmatch(digits):
        raise BadFieldError("AZR number must be 12 digits")
    return digits


def parse_postcode(value: str) -> str | Repaired[str]:
    """A German postcode. Four digits are one whose leading zero a spreadsheet dropped (01067
    Dresden becomes 1067): the zero is restored. Anything else (a foreign postcode) is invalid."""
    compact = WHITESPACE.sub("", value)
    if POSTCODE.fullmatch(compact):
        return compact
    if FOUR_DIGIT_POSTCODE.fullmatch(compact):
        return Repaired("0" + compact, "four-digit postcode: leading zero restored")
    raise BadFieldError("not a German five-digit postcode")


def parse_nationalities(value: str) -> tuple[str, ...]:
    """One nationality, or several separated by ``|`` (dual nationality); "ohne Angabe" adds none.

    A code not in the list need not cost the others: a list with known and unknown codes reads as
    the known ones, settled as an implausible value (by default kept with a note; a source whose
    contract is stricter drops the whole value or refuses the row). Only when no part is known is
    the whole value unknown (``UnknownCodeError``)."""
    codes: list[str | None] = []
    unknown = False
    for part in value.split("|"):
        try:
            codes.append(nationality_to_iso3(part))
        except UnknownCodeError:
            unknown = True
    known = tuple(dict.fromkeys(code for code in codes if code))
    if not unknown:
        return known
    if not codes:
        raise UnknownCodeError("nationality")
    raise ImplausibleFieldError("unknown nationality code in a list of several, the known ones", known)


def validation_rejections(reader: RowReader, error: ValidationError) -> None:
    """Turn pydantic's errors into rejections without echoing the input value (the last resort:
    the parsers settle every flaw they know before a model is built)."""
    for detail in error.errors(include_url=False, include_input=False):
        column = str(detail["loc"][-1]) if detail["loc"] else None
        reader.reject(column, f"invalid value ({detail['type']})")
