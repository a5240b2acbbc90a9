"""Closed vocabularies for the case fields that used to be free text: district, goals, consent recipients.

What a source types into these fields travels: a goal reaches other bodies' summaries, a district
becomes a row label of the state monitoring export and of the coordinators' worklists, a consent
recipient is stored with the case. Free text there would carry whatever was typed (a name, a
formula, a mathtext string that breaks every chart). So each field holds a code from a list, and
a value that is not in its list is left out with a note on the receipt, under the field contract
(``mappings.contract``); the row always lands. Values are capped in length and must be printable
before they are even looked up.

    district             a code of the installation's district list. Shipped default:
                         ``codes/districts.csv`` (code, label, aliases; the demo city of the
                         synthetic data); an installation names its own in hub.toml
                         (``[codes] districts``, read by ``pipeline.vocabulary``). A source may
                         write the code, the label or an alias in any case and spelling; the
                         hub stores the code, reports show the label.
    goals                keys from ``codes/goals.csv`` (integration-plan goal areas), statuses
                         from ``codes/goal_status.csv`` (planned, active, achieved, dropped and
                         their German words). A pair with an unknown key or status is left out,
                         the others kept.
    consent_recipients   ``kim`` (all KIM partners) or a body of the installation (its
                         configured sources). An unknown recipient is left out: the consent
                         then reaches fewer bodies than written, never more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, get_args

from kim_hub.core.errors import ConfigError
from kim_hub.mappings.codelists import UnknownCodeError, code_rows, file_under, spelling_key, spelling_keys
from kim_hub.mappings.contract import Partial
from kim_hub.mappings.row_reader import BadFieldError

GoalStatus = Literal["planned", "active", "achieved", "dropped"]

ALL_PARTNERS = "kim"  # a consent for every KIM partner (exchange.consent)
DEFAULT_BODIES = ("abh", "jobcenter", "caritas", "awo", "diakonie", "stadt")
"""The bodies of an installation as ``kim-hub init`` sets it up (``pipeline.home.DEFAULT_SOURCES``):
the consent recipients a mapping knows when no installation tells it its own."""

MAX_DISTRICT_CHARS = 64  # a district as a source writes it, before it is looked up
MAX_LIST_CELL_CHARS = 512  # a goals or recipients cell: a few dozen short codes at most
MAX_LABEL_CHARS = 64  # a label of a code list (it is published as written)
MAX_LIST_ENTRIES = 1000  # entries of an installation's district list
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
CODE_RULE = "a code is 1 to 32 letters a-z, digits, '.', '_' or '-', starting with a letter or digit"


@dataclass(frozen=True)
class CodeList:
    """A closed list: each code with its label, and every spelling that stands for a code.

    ``spellings`` holds the spelling keys (``codelists.spelling_key``) of each code, label and
    alias, so ``Steinbüchel``, ``steinbuechel`` and ``STEINBUCHEL`` are one entry."""

    name: str
    labels: Mapping[str, str]  # code → label, in the list's order
    spellings: Mapping[str, str]  # spelling key → code

    def code_of(self, value: str) -> str:
        """The code ``value`` stands for; UnknownCodeError (naming the list, never the value) if none."""
        code = self.spellings.get(spelling_key(value))
        if code is None:
            raise UnknownCodeError(self.name)
        return code

    def label_of(self, value: str | None) -> str | None:
        """The label a stored value stands for now, or None when it stands for none.

        A stored value is a code; one stored before the list was closed, or under a label or alias
        since renamed, is looked up like a source's spelling: only the list's labels ever come out."""
        code = self.stored_code(value)
        return self.labels[code] if code is not None else None

    def stored_code(self, value: str | None) -> str | None:
        """The code a stored value stands for now (``label_of``), or None when it stands for none."""
        if not value:
            return None
        return value if value in self.labels else self.spellings.get(spelling_key(value))


def code_list(name: str, text: str, where: str) -> CodeList:
    """A code list from CSV text with the columns ``code``, ``label`` and optionally ``aliases``
    (``|``-separated). A list that breaks a rule is refused whole (ConfigError naming ``where``
    and the rule): a list with one bad line would publish that line."""
    labels: dict[str, str] = {}
    spellings: dict[str, str] = {}
    try:
        rows = list(code_rows(text))
    except Exception as error:  # noqa: BLE001 - csv raises several kinds for a broken file; all mean one thing here
        raise ConfigError(f"{where}: not a CSV file ({type(error).__name__})") from None
    for number, row in enumerate(rows, start=2):
        code, label = row.get("code", ""), row.get("label", "")
        if not CODE.fullmatch(code):
            raise ConfigError(f"{where}, line {number}: {CODE_RULE}")
        if not label or len(label) > MAX_LABEL_CHARS or not label.isprintable():
            raise ConfigError(f"{where}, line {number}: a label is 1 to {MAX_LABEL_CHARS} printable characters")
        if code in labels:
            raise ConfigError(f"{where}, line {number}: the code appears twice")
        labels[code] = label
        aliases = [alias.strip() for alias in row.get("aliases", "").split("|") if alias.strip()]
        for spelling in (code, label, *aliases):
            if len(spelling) > MAX_DISTRICT_CHARS or not spelling.isprintable():
                raise ConfigError(f"{where}, line {number}: an alias is 1 to {MAX_DISTRICT_CHARS} printable characters")
            try:
                file_under(spellings, spelling_keys(spelling), code, name)
            except ConfigError:
                raise ConfigError(f"{where}, line {number}: one spelling stands for two entries") from None
    if not labels or len(labels) > MAX_LIST_ENTRIES:
        raise ConfigError(f"{where}: a code list has 1 to {MAX_LIST_ENTRIES} entries (columns code, label, aliases)")
    return CodeList(name, labels, spellings)


def _shipped(file_name: str) -> str:
    return resources.files("kim_hub.mappings").joinpath("codes", file_name).read_text(encoding="utf-8-sig")


@lru_cache(maxsize=1)
def shipped_districts() -> CodeList:
    """The default district list (``codes/districts.csv``)."""
    return code_list("district", _shipped("districts.csv"), "codes/districts.csv")


@dataclass(frozen=True)
class Vocabulary:
    """The closed vocabularies one installation's mappings read with (plain data: it travels to
    the encoding worker processes with the mapping)."""

    districts: CodeList
    bodies: frozenset[str]  # consent recipients besides ``kim``: the installation's sources


def default_vocabulary() -> Vocabulary:
    """The shipped district list and the bodies of a default installation."""
    return Vocabulary(shipped_districts(), frozenset(DEFAULT_BODIES))


def installation_vocabulary(districts: CodeList | None, bodies: Iterable[str]) -> Vocabulary:
    """An installation's vocabulary: its district list (None: the shipped one) and its bodies."""
    return Vocabulary(districts or shipped_districts(), frozenset(bodies))


# --- the fields -----------------------------------------------------------------------------


def plain_text(value: str, limit: int) -> str:
    """``value`` if it is printable and at most ``limit`` characters, else BadFieldError (by kind)."""
    if len(value) > limit:
        raise BadFieldError(f"longer than {limit} characters")
    if not value.isprintable():
        raise BadFieldError("holds control characters")
    return value


def district_code(value: str, vocabulary: Vocabulary) -> str:
    """A district as a source wrote it → the code of the installation's list."""
    return vocabulary.districts.code_of(plain_text(value, MAX_DISTRICT_CHARS))


@lru_cache(maxsize=1)
def goal_areas() -> CodeList:
    """Goal keys: the integration plan's goal areas (``codes/goals.csv``)."""
    return code_list("goal", _shipped("goals.csv"), "codes/goals.csv")


@lru_cache(maxsize=1)
def _goal_status_index() -> dict[str, str]:
    allowed = set(get_args(GoalStatus))
    index: dict[str, str] = {}
    for row in code_rows(_shipped("goal_status.csv")):
        if row["status"] not in allowed:
            raise ConfigError("goal status code list: target is not one of the hub's goal statuses")
        file_under(index, spelling_keys(row["value"]), row["status"], "goal status")
    return index


def goal_status(value: str) -> GoalStatus:
    """``aktiv``, ``Active`` … → ``active``; UnknownCodeError for a status outside the list."""
    found = _goal_status_index().get(spelling_key(value))
    if found is None:
        raise UnknownCodeError("goal status")
    return found  # type: ignore[return-value]  # checked against GoalStatus on load


def known_goals(pairs: Mapping[str, str]) -> dict[str, GoalStatus] | Partial[dict[str, GoalStatus]]:
    """Goal area → status, as codes; a pair whose area or status is not in its list is left out
    (``Partial``), and so is a second pair for an area already given."""
    goals: dict[str, GoalStatus] = {}
    for key, status in pairs.items():
        try:
            code, settled = goal_areas().code_of(key), goal_status(status)
        except UnknownCodeError:
            continue
        goals.setdefault(code, settled)
    if len(goals) < len(pairs):
        return Partial(goals, "a goal outside the goal code list, with an unknown status or given twice")
    return goals


def stored_goals(goals: Mapping[str, object] | None) -> dict[str, GoalStatus]:
    """The goals of a stored record as codes, those outside the lists left out: what the exchange
    may pass on. A record stored before the lists were closed may hold free text; that never
    leaves the hub."""
    pairs = {key: status for key, status in (goals or {}).items() if isinstance(key, str) and isinstance(status, str)}
    known = known_goals(pairs)
    return known.value if isinstance(known, Partial) else known


def consent_recipients(parts: Iterable[str], vocabulary: Vocabulary) -> tuple[str, ...] | Partial[tuple[str, ...]]:
    """Recipients (lower case, repeats once) that are ``kim`` or a body of the installation; an
    unknown one is left out (``Partial``): the consent reaches fewer bodies, never another."""
    written = list(dict.fromkeys(part for part in parts if part))
    known = tuple(part for part in written if part == ALL_PARTNERS or part in vocabulary.bodies)
    if len(known) < len(written):
        return Partial(known, "a recipient that is neither kim nor a body of this hub")
    return known
