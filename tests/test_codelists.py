"""Code lists as data: nationalities, residence status, sex, and the Literal-typed codes."""

from __future__ import annotations

import datetime as dt
import re
from typing import get_args

import pytest

from kim_hub.core.errors import BadInputError
from kim_hub.mappings.case_summary import CaseStatus, Rechtskreis
from kim_hub.mappings.codelists import (
    UnknownCodeError,
    is_valid_residence_status,
    literal_code,
    nationalities,
    nationality_to_iso3,
    residence_status_code,
    residence_status_periods,
    sex_code,
)

# --- nationalities -------------------------------------------------------------------------------

DOMAIN_EXAMPLES = [
    # (iso3, destatis, German name, adjective, English name)
    ("SYR", "475", "Syrien", "syrisch", "Syria"),
    ("AFG", "423", "Afghanistan", "afghanisch", "Afghanistan"),
    ("IRQ", "438", "Irak", "irakisch", "Iraq"),
    ("IRN", "439", "Iran", "iranisch", "Iran"),
    ("UKR", "166", "Ukraine", "ukrainisch", "Ukraine"),
    ("TUR", "163", "Türkei", "türkisch", "Turkey"),
    ("ERI", "224", "Eritrea", "eritreisch", "Eritrea"),
    ("ALB", "121", "Albanien", "albanisch", "Albania"),
    ("NGA", "232", "Nigeria", "nigerianisch", "Nigeria"),
    ("GIN", "261", "Guinea", "guineisch", "Guinea"),
    ("DEU", "000", "Deutschland", "deutsch", "Germany"),
    ("XKX", "150", "Kosovo", "kosovarisch", "Kosovo"),
]


@pytest.mark.parametrize(("iso3", "destatis", "name_de", "adjective", "name_en"), DOMAIN_EXAMPLES)
def test_nationality_in_every_form(iso3: str, destatis: str, name_de: str, adjective: str, name_en: str) -> None:
    forms = [
        iso3,
        iso3.lower(),
        destatis,
        "000" + destatis,  # the registration offices' 6-digit form (ABH schema 1.1)
        name_de,
        name_de.upper(),
        f"  {name_de.lower()} ",
        adjective,
        adjective.capitalize(),
        adjective + "e",
        adjective + "er",
        adjective + "en",
        name_en,
    ]
    assert {form: nationality_to_iso3(form) for form in forms} == {form: iso3 for form in forms}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tuerkei", "TUR"),
        ("Turkei", "TUR"),
        ("TUERKISCHE", "TUR"),
        ("Oesterreich", "AUT"),
        ("österreichische", "AUT"),
        ("Weißrussland", "BLR"),
        ("Weissrussland", "BLR"),
        ("C\u00f4te d\u2019Ivoire", "CIV"),  # typographic apostrophe
        ("Cote d'Ivoire", "CIV"),
        ("Elfenbeinküste", "CIV"),
        ("Demokratische Republik Kongo", "COD"),
        ("Kongo", "COG"),
        ("Syrian Arab Republic", "SYR"),
        ("0", "DEU"),  # Excel drops the leading zeros of 000
        ("133", "SRB"),  # historic Destatis code, same ISO code
        ("staatenlos", "XXA"),
        ("997", "XXA"),
        ("XXA", "XXA"),
        ("ungeklärt", "XXX"),
        ("998", "XXX"),
        ("xxx", "XXX"),
    ],
)
def test_nationality_spelling_variants(value: str, expected: str) -> None:
    assert nationality_to_iso3(value) == expected


@pytest.mark.parametrize("value", ["999", "ohne Angabe", "", "   "])
def test_no_information_is_none(value: str) -> None:
    assert nationality_to_iso3(value) is None


@pytest.mark.parametrize("value", ["Atlantis", "ABC", "100", "4750", "syr1", "000100", "100475", "0000475", "00475"])
def test_unknown_nationality_signals_unknown_code(value: str) -> None:
    with pytest.raises(UnknownCodeError) as caught:
        nationality_to_iso3(value)
    assert isinstance(caught.value, BadInputError)
    assert caught.value.code_list == "nationality"
    assert value not in str(caught.value)


def test_nationality_list_is_complete_and_well_formed() -> None:
    entries = nationalities()
    iso_codes = [entry.iso3 for entry in entries if entry.iso3]
    destatis_codes = [code for entry in entries for code in entry.destatis]
    assert len(iso_codes) == len(set(iso_codes))
    assert len(destatis_codes) == len(set(destatis_codes))
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in iso_codes)
    assert all(re.fullmatch(r"\d{3}", code) for code in destatis_codes)
    assert len(iso_codes) >= 195  # every state, plus Kosovo, Taiwan, Palestine, XXA, XXX, historic
    assert all(entry.name_de and entry.name_en for entry in entries)
    # every entry answers to its own codes and names
    for entry in entries:
        expected = entry.iso3 or None
        six_digits = ("000" + code for code in entry.destatis)
        for form in (*entry.destatis, *six_digits, entry.name_de, entry.name_en, *entry.adjectives_de, *entry.aliases):
            assert nationality_to_iso3(form) == expected, entry.name_de


# --- residence status ---------------------------------------------------------------------------

DOMAIN_STATUS_CODES = (
    "ANKUNFTSNACHWEIS GESTATTUNG DULDUNG AUSREISEPFLICHTIG FIKTION_ERLAUBNIS FIKTION_DULDUNG "
    "FIKTION_FORTGELTUNG AE_16B AE_18A AE_18B BLAUE_KARTE AE_22 AE_23_1 AE_23_2 AE_23_4 AE_24 AE_25_1 "
    "AE_25_2_GFK AE_25_2_SUB AE_25_3 AE_25_4 AE_25_5 AE_25A AE_25B AE_104C AE_FAMILIE NE "
    "DAUERAUFENTHALT_EU EU_FREIZUEGIG EINGEBUERGERT OHNE_STATUS UNBEKANNT"
).split()


def test_residence_status_list_holds_exactly_the_domain_codes() -> None:
    assert {period.code for period in residence_status_periods()} == set(DOMAIN_STATUS_CODES)


@pytest.mark.parametrize("code", DOMAIN_STATUS_CODES)
def test_every_domain_code_is_valid_today(code: str) -> None:
    assert is_valid_residence_status(code)
    assert is_valid_residence_status(code, dt.date(2026, 11, 24))


def test_residence_status_validity_follows_the_law() -> None:
    assert not is_valid_residence_status("AE_16B", dt.date(2019, 12, 31))  # was § 16 before 03/2020
    assert is_valid_residence_status("AE_16B", dt.date(2020, 3, 1))
    assert not is_valid_residence_status("BLAUE_KARTE", dt.date(2012, 7, 31))
    for day in (dt.date(2015, 1, 1), dt.date(2021, 1, 1), dt.date(2025, 1, 1)):  # § 19a, § 18b(2), § 18g
        assert is_valid_residence_status("BLAUE_KARTE", day)
    assert not is_valid_residence_status("AE_99")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("AE_24", "AE_24"), ("ae 25-2 gfk", "AE_25_2_GFK"), ("Duldung", "DULDUNG"), ("eingebürgert", "EINGEBUERGERT")],
)
def test_residence_status_spelling(value: str, expected: str) -> None:
    assert residence_status_code(value) == expected


def test_unknown_residence_status() -> None:
    assert residence_status_code(" ") is None
    with pytest.raises(UnknownCodeError):
        residence_status_code("AE_99")
    with pytest.raises(UnknownCodeError):
        residence_status_code("AE_18A", on=dt.date(2019, 1, 1))


# --- sex -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("M", "M"), ("F", "F"), ("X", "X"), ("U", "U"),
        ("m", "M"), ("w", "F"), ("W", "F"), ("d", "X"), ("D", "X"), ("f", "F"),
        ("männlich", "M"), ("Weiblich", "F"), ("divers", "X"), ("unbekannt", "U"),
    ],
)  # fmt: skip
def test_sex_codes(value: str, expected: str) -> None:
    assert sex_code(value) == expected


def test_unknown_sex_code() -> None:
    assert sex_code("") is None
    with pytest.raises(UnknownCodeError):
        sex_code("q")


# --- Literal-typed codes -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", get_args(Rechtskreis))
def test_every_rechtskreis_maps_to_itself(value: str) -> None:
    assert literal_code(value, Rechtskreis, "Rechtskreis") == value
    assert literal_code(value.upper().replace(" ", ""), Rechtskreis, "Rechtskreis") == value


@pytest.mark.parametrize("value", get_args(CaseStatus))
def test_every_case_status_maps_to_itself(value: str) -> None:
    assert literal_code(value.upper(), CaseStatus, "case status") == value


def test_unknown_literal_code() -> None:
    with pytest.raises(UnknownCodeError) as caught:
        literal_code("SGB IX", Rechtskreis, "Rechtskreis")
    assert caught.value.code_list == "Rechtskreis"


def test_rechtskreis_code_list_matches_the_case_summary_type() -> None:
    import csv
    import typing
    from importlib import resources

    from kim_hub.mappings.case_summary import Rechtskreis

    text = resources.files("kim_hub.mappings").joinpath("codes/rechtskreis.csv").read_text(encoding="utf-8")
    codes = {row["code"] for row in csv.DictReader(text.splitlines())}
    assert codes == set(typing.get_args(Rechtskreis))
