"""The field contract: what the hub does with a value that breaks its column's rule.

A row is a person. A flaw in one field must cost that value, not the person, so a row is refused
only where it cannot be attributed (no usable record id) or carries nothing to link on; every
other problem is settled field by field, as dlt's data contracts settle them, and said on the
receipt as a note by row and field, never with the value. Two kinds of problem:

    invalid       the value cannot be read as what the column holds (letters for a postcode)
    implausible   it reads, but is unlikely to be true (a birth year before 1900)

and three actions:

    drop_value         the value is treated as unknown; the row lands with a note
    keep_with_warning  the value is kept; the row lands with a note (implausible values only:
                       an invalid value has nothing to keep, so it is dropped)
    reject_row         the row is refused

Repairs that need no choice are made by the column's parser and noted as well: a postcode that
lost its leading zero in a spreadsheet gets it back, a day that does not exist in its month
leaves year and month. A value of several parts (goals, consent recipients) loses only its bad
parts (``Partial``), under the column's rule for an invalid value. The defaults per row format are data (``mappings/contracts/*.toml``); a
source may tighten them, never loosen them (``[sources.<name>.contract]`` in hub.toml).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Generic, TypeVar

from kim_hub.core.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class Repaired(Generic[T]):
    """A value a parser repaired, and what it did (for the note; never the value)."""

    value: T
    note: str


@dataclass(frozen=True)
class Partial(Generic[T]):
    """A value of several parts some of which broke their rule (a goal outside the goal code
    list, an unknown consent recipient): what remains, and why parts went (for the note; never a
    value). The parts are invalid values, so the column's contract decides as for one: a
    ``reject_row`` column refuses the row, any other keeps what remains with a note."""

    value: T
    reason: str


class Action(StrEnum):
    """What happens to a value that breaks its column's rule (see the module docstring)."""

    KEEP_WITH_WARNING = "keep_with_warning"
    DROP_VALUE = "drop_value"
    REJECT_ROW = "reject_row"


STRICTNESS = {Action.KEEP_WITH_WARNING: 0, Action.DROP_VALUE: 1, Action.REJECT_ROW: 2}


@dataclass(frozen=True)
class FieldContract:
    """The action per column and kind of problem; columns not named take the defaults."""

    invalid: dict[str, Action] = field(default_factory=dict)
    implausible: dict[str, Action] = field(default_factory=dict)
    default_invalid: Action = Action.DROP_VALUE
    default_implausible: Action = Action.KEEP_WITH_WARNING

    def on_invalid(self, column: str) -> Action:
        action = self.invalid.get(column, self.default_invalid)
        return Action.DROP_VALUE if action is Action.KEEP_WITH_WARNING else action  # nothing to keep

    def on_implausible(self, column: str) -> Action:
        return self.implausible.get(column, self.default_implausible)

    def tightened(self, overrides: Mapping[str, str]) -> FieldContract:
        """This contract with a source's stricter actions (``column = "reject_row"``), applied to
        both kinds of problem. An action looser than one the column has already is refused: it
        would accept what the format refuses."""
        invalid, implausible = dict(self.invalid), dict(self.implausible)
        for column, name in overrides.items():
            action = _action(name, f"contract for {column}")
            current = max(self.on_invalid(column), self.on_implausible(column), key=STRICTNESS.__getitem__)
            if STRICTNESS[action] < STRICTNESS[current]:
                raise ConfigError(f"contract for {column}: {action} would loosen {current}; a source may only tighten")
            invalid[column] = implausible[column] = action
        return FieldContract(invalid, implausible, self.default_invalid, self.default_implausible)


@cache
def contract_for(row_format: str) -> FieldContract:
    """The shipped defaults of a row format (``mappings/contracts/<row_format>.toml``); a format
    without a file (a plug-in's) gets the general defaults."""
    resource = resources.files("kim_hub.mappings").joinpath("contracts", f"{row_format}.toml")
    if not resource.is_file():
        return FieldContract()
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"contract of {row_format}: not valid TOML ({type(error).__name__})") from None
    return FieldContract(
        invalid={column: _action(name, column) for column, name in data.get("invalid", {}).items()},
        implausible={column: _action(name, column) for column, name in data.get("implausible", {}).items()},
        default_invalid=_action(data.get("default_invalid", Action.DROP_VALUE), "default_invalid"),
        default_implausible=_action(data.get("default_implausible", Action.KEEP_WITH_WARNING), "default_implausible"),
    )


def _action(name: str, where: str) -> Action:
    try:
        return Action(name)
    except ValueError:
        known = ", ".join(action.value for action in Action)
        raise ConfigError(f"{where}: unknown action (use one of {known})") from None
