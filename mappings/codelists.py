"""Code lists kept as data (``mappings/codes/*.csv``) and the lookups that normalise source values.

Sources write the same fact many ways: a nationality as ``SYR``, ``475``, ``Syrien`` or
``syrische``; a sex as ``w`` or ``F``. The hub stores one code per fact, so each lookup maps every
accepted spelling to that code and signals an unknown spelling with ``UnknownCodeError`` (which
names the code list, never the value). The CSV files are maintained as data: a new country name,
a renamed residence title or a new legal basis is a line in a file, not a code change.

Files:
    nationalities.csv     iso3, destatis (``|``-separated, current first), name_de,
                          adjective_de (``|``-separated), name_en, aliases (``|``), note;
                          the 3-digit Destatis codes only: the registration offices' 6-digit
                          form (``000166``) is read as the same code, not listed twice
    residence_status.csv  code, legal_basis, description_de, valid_from, valid_until
                          (one line per code and legal basis: laws renumber, codes stay)
    sex.csv               value, sex, description

The closed vocabularies of free-text case fields (districts, goals, consent recipients) are
``mappings.vocabulary``'s.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, get_args

from kim_hub.core.errors import BadInputError, ConfigError
from kim_hub.mappings.case_summary import CONSENT_CATEGORIES, ConsentCategory, Sex


class UnknownCodeError(BadInputError, LookupError):
    """A source value is not in a code list. The message names the list only, not the value."""

    def __init__(self, code_list: str) -> None:
        super().__init__(f"value is not in the {code_list} code list")
        self.code_list = code_list


# --- reading the data files ---------------------------------------------------------------


def _read_code_file(name: str) -> Iterator[dict[str, str]]:
    """Rows of ``mappings/codes/<name>`` as dicts of stripped strings."""
    return code_rows(resources.files("kim_hub.mappings").joinpath("codes", name).read_text(encoding="utf-8-sig"))


def code_rows(text: str) -> Iterator[dict[str, str]]:
    """Rows of a code list's CSV text (header first) as dicts of stripped strings."""
    for row in csv.DictReader(io.StringIO(text, newline="")):
        yield {key: (value or "").strip() for key, value in row.items() if key is not None}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


# --- spelling-insensitive keys ------------------------------------------------------------

# Code-list lookups cached per distinct spelling (this process only): codes repeat in every row
CODE_SPELLINGS_CACHED = 4096
_UMLAUTS_SPELLED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_UMLAUTS_DROPPED = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_PUNCTUATION = re.compile(r"[\s'\u2019`\u00b4.,;:()/\\\-]+")  # also typographic apostrophes


def _ascii_key(text: str, umlauts: dict[int, str]) -> str:
    folded = unicodedata.normalize("NFC", text).casefold().translate(umlauts)
    stripped = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return _PUNCTUATION.sub(" ", stripped).strip()


@lru_cache(maxsize=CODE_SPELLINGS_CACHED)
def spelling_key(text: str) -> str:
    """Lookup key that ignores case, accents and punctuation; umlauts spelled out (ü → ue).
    Cached: a delivery spells its codes (sex, nationality, district, statuses) a few ways, and
    folding each row's anew was a tenth of mapping it."""
    return _ascii_key(text, _UMLAUTS_SPELLED)


def spelling_keys(text: str) -> set[str]:
    """Keys under which a list entry is filed: ``Türkei`` answers to Türkei, Tuerkei and Turkei."""
    return {_ascii_key(text, _UMLAUTS_SPELLED), _ascii_key(text, _UMLAUTS_DROPPED)}


def file_under(index: dict[str, Any], keys: set[str], value: Any, list_name: str) -> None:
    for key in keys:
        if key in index and index[key] != value:
            raise ConfigError(f"{list_name} code list: one spelling stands for two entries ({key!r})")
        index[key] = value


# --- nationalities ------------------------------------------------------------------------

_NO_NATIONALITY = ""  # the iso3 cell of "999 ohne Angabe": a known code meaning "not stated"
_ADJECTIVE_ENDINGS = ("en", "em", "er", "es", "e")


@dataclass(frozen=True)
class Nationality:
    """One line of nationalities.csv."""

    iso3: str
    destatis: tuple[str, ...]
    name_de: str
    adjectives_de: tuple[str, ...]
    name_en: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class _NationalityIndex:
    by_iso3: dict[str, Nationality]
    by_destatis: dict[str, str]
    by_name: dict[str, str]
    by_adjective: dict[str, str]


@lru_cache(maxsize=1)
def nationalities() -> tuple[Nationality, ...]:
    """All entries of nationalities.csv, in file order."""
    return tuple(
        Nationality(
            iso3=row["iso3"].upper(),
            destatis=tuple(_split(row["destatis"])),
            name_de=row["name_de"],
            adjectives_de=tuple(_split(row["adjective_de"])),
            name_en=row["name_en"],
            aliases=tuple(_split(row["aliases"])),
        )
        for row in _read_code_file("nationalities.csv")
    )


@lru_cache(maxsize=1)
def _nationality_index() -> _NationalityIndex:
    by_iso3: dict[str, Nationality] = {}
    by_destatis: dict[str, str] = {}
    by_name: dict[str, str] = {}
    by_adjective: dict[str, str] = {}
    for entry in nationalities():
        if entry.iso3:
            if entry.iso3 in by_iso3:
                raise ConfigError(f"nationality code list: ISO code {entry.iso3} appears twice")
            by_iso3[entry.iso3] = entry
        for code in entry.destatis:
            file_under(by_destatis, {code}, entry.iso3, "nationality")
        for name in (entry.name_de, entry.name_en, *entry.aliases):
            if name:
                file_under(by_name, spelling_keys(name), entry.iso3, "nationality")
        for adjective in entry.adjectives_de:
            file_under(by_adjective, spelling_keys(adjective), entry.iso3, "nationality")
    return _NationalityIndex(by_iso3, by_destatis, by_name, by_adjective)


def nationality_to_iso3(value: str) -> str | None:
    """Map a nationality as a source wrote it to ISO 3166-1 alpha-3 (XXA stateless, XXX unclear).

    Accepts the ISO code in any case, the Destatis code (``475``; Excel's ``0`` for ``000`` too;
    the 6-digit ``000475`` of ABH schema 1.1), the German name or adjective in any inflection
    (``syrische``, ``Tuerkei``, ``turkisch``) and the English name. Returns None for an empty value
    and for Destatis 999 "ohne Angabe"; raises UnknownCodeError for anything else.
    """
    text = value.strip()
    if not text:
        return None
    index = _nationality_index()
    if destatis := _destatis_code(text):
        found = index.by_destatis.get(destatis)
    elif len(text) == 3 and text.isalpha() and text.upper() in index.by_iso3:
        found = text.upper()
    else:
        key = spelling_key(text)
        found = index.by_name.get(key)
        if found is None:
            found = index.by_adjective.get(key)
        if found is None:
            found = _inflected_adjective(key, index.by_adjective)
    if found is None:
        raise UnknownCodeError("nationality")
    return found or None  # "" is the known "no information" entry


def _destatis_code(text: str) -> str | None:
    """The 3-digit Destatis code a numeric value stands for, or None when it is not one.

    ``475``; ``0`` (a spreadsheet dropped the zeros of ``000``); ``000475``, the 6-digit form the
    registration offices use, whose leading three zeros carry nothing (ABH schema 1.1). Other
    lengths and 6-digit values not starting with ``000`` are no Destatis code.
    """
    if not text.isdigit():
        return None
    if len(text) <= 3:
        return text.zfill(3)
    if len(text) == 6 and text.startswith("000"):
        return text[3:]
    return None


def _inflected_adjective(key: str, adjectives: dict[str, str]) -> str | None:
    """``syrische``/``syrischer``/``syrischen`` → the entry of ``syrisch``."""
    for ending in _ADJECTIVE_ENDINGS:
        if key.endswith(ending) and key[: -len(ending)] in adjectives:
            return adjectives[key[: -len(ending)]]
    return None


# --- residence status ---------------------------------------------------------------------


@dataclass(frozen=True)
class ResidenceStatusPeriod:
    """One code under one legal basis, valid between two dates (either may be open)."""

    code: str
    legal_basis: str
    description_de: str
    valid_from: dt.date | None
    valid_until: dt.date | None

    def covers(self, on: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_until is None or on <= self.valid_until)


def _optional_date(text: str, what: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise ConfigError(f"residence status code list: bad {what} date") from exc


@lru_cache(maxsize=1)
def residence_status_periods() -> tuple[ResidenceStatusPeriod, ...]:
    """All lines of residence_status.csv."""
    periods = tuple(
        ResidenceStatusPeriod(
            code=row["code"],
            legal_basis=row["legal_basis"],
            description_de=row["description_de"],
            valid_from=_optional_date(row["valid_from"], "valid_from"),
            valid_until=_optional_date(row["valid_until"], "valid_until"),
        )
        for row in _read_code_file("residence_status.csv")
    )
    for period in periods:
        if period.valid_from and period.valid_until and period.valid_until < period.valid_from:
            raise ConfigError(f"residence status code list: {period.code} ends before it starts")
    return periods


@lru_cache(maxsize=CODE_SPELLINGS_CACHED)
def _status_key(text: str) -> str:
    """``ae 25-2 gfk`` → ``AE_25_2_GFK``; ``Eingebürgert`` → ``EINGEBUERGERT``."""
    return re.sub(r"[\s\-_]+", "_", text.strip().translate(_UMLAUTS_SPELLED)).upper().strip("_") if text else ""


@lru_cache(maxsize=CODE_SPELLINGS_CACHED)
def is_valid_residence_status(code: str, on: dt.date | None = None) -> bool:
    """True if ``code`` is a hub residence status code, valid on date ``on`` if one is given
    (cached: a delivery's rows share a few codes and dates)."""
    return any(p.code == code and (on is None or p.covers(on)) for p in residence_status_periods())


def residence_status_code(value: str, on: dt.date | None = None) -> str | None:
    """Normalise a residence status as written (case, spaces, hyphens, umlauts) to the hub code.

    Returns None for an empty value; raises UnknownCodeError if the code is unknown or was not
    valid on ``on`` (a status recorded under a law that did not exist yet is a data error).
    """
    if not value.strip():
        return None
    code = _status_key(value)
    if not is_valid_residence_status(code, on):
        raise UnknownCodeError("residence status")
    return code


# --- sex ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _sex_index() -> dict[str, str]:
    allowed = set(get_args(Sex))
    index: dict[str, str] = {}
    for row in _read_code_file("sex.csv"):
        if row["sex"] not in allowed:
            raise ConfigError("sex code list: target code is not one of the hub's sex codes")
        file_under(index, {spelling_key(row["value"])}, row["sex"], "sex")
    return index


def sex_code(value: str) -> Sex | None:
    """``M``/``F``/``X``/``U``, ``m``/``w``/``d``, ``männlich``… → the hub's sex code; None if empty."""
    if not value.strip():
        return None
    found = _sex_index().get(spelling_key(value))
    if found is None:
        raise UnknownCodeError("sex")
    return found  # type: ignore[return-value]  # checked against get_args(Sex) on load


# --- consent categories --------------------------------------------------------------------


@lru_cache(maxsize=1)
def _consent_category_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for row in _read_code_file("consent_categories.csv"):
        if row["category"] not in CONSENT_CATEGORIES:
            raise ConfigError("consent category code list: target is not one of the hub's consent categories")
        file_under(index, spelling_keys(row["value"]), row["category"], "consent category")
    return index


def consent_categories(value: str) -> tuple[ConsentCategory, ...]:
    """``Aufenthalt|fall`` → ("residence", "case"), in the hub's order; empty → ()."""
    index = _consent_category_index()
    found = set()
    for part in _split(value):
        category = index.get(spelling_key(part))
        if category is None:
            raise UnknownCodeError("consent category")
        found.add(category)
    return tuple(c for c in CONSENT_CATEGORIES if c in found)


# --- codes defined by the case summary's Literal types --------------------------------------


def literal_code(value: str, literal: Any, code_list: str) -> str | None:
    """Match ``value`` to one of a Literal type's values, ignoring case and spaces.

    Used for Rechtskreis and case status, whose code lists *are* the Literal types in
    case_summary.py: ``sgb ii`` and ``SGBII`` are read as ``SGB II``. None if empty.
    """
    if not value.strip():
        return None
    found = _literal_match(value, get_args(literal))  # the values, not the Literal: hashing a Literal costs 2 µs
    if found is None:
        raise UnknownCodeError(code_list)
    return found


@lru_cache(maxsize=CODE_SPELLINGS_CACHED)
def _literal_match(value: str, allowed_values: tuple[str, ...]) -> str | None:
    wanted = re.sub(r"\s+", "", value).casefold()
    for allowed in allowed_values:
        if re.sub(r"\s+", "", allowed).casefold() == wanted:
            return str(allowed)
    return None
