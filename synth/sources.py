"""The six sources and how each one writes its export (dialect, codes, habits).

Real exports differ per sender: the foreigners authority's register writes plain UTF-8 with
passport-style capitals; charities export from Excel (Windows-1252, ';', CRLF, German headers,
German dates); others write UTF-8 with a BOM. Receiving code must cope with all of them, so
the generator varies exactly these things per source (shared/formats/provider-csv.md).
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS: tuple[str, ...] = (
    "record_id",
    "family_name",
    "given_names",
    "birth_date",
    "sex",
    "nationality",
    "birth_place",
    "street",
    "postcode",
    "azr_number",
    "jobcenter_customer_no",
    "rechtskreis",
    "residence_status",
    "case_status",
    "case_opened",
    "case_closed",
    "district",
    "goals",
    "consent_recipients",
    "consent_valid_until",
    "consent_withdrawn",
    "updated_at",
)
# German header aliases accepted by the standard format.
GERMAN_HEADERS: dict[str, str] = {
    "record_id": "fall_id",
    "family_name": "nachname",
    "given_names": "vornamen",
    "birth_date": "geburtsdatum",
    "sex": "geschlecht",
    "nationality": "staatsangehoerigkeit",
    "birth_place": "geburtsort",
    "street": "strasse",
    "postcode": "plz",
    "azr_number": "azr_nummer",
    "jobcenter_customer_no": "kundennummer_jc",
    "rechtskreis": "rechtskreis",
    "residence_status": "aufenthaltsstatus",
    "case_status": "fallstatus",
    "case_opened": "fall_beginn",
    "case_closed": "fall_ende",
    "district": "stadtbezirk",
    "goals": "ziele",
    "consent_recipients": "einwilligung_empfaenger",
    "consent_valid_until": "einwilligung_bis",
    "consent_withdrawn": "einwilligung_widerrufen",
    "updated_at": "stand",
}


@dataclass(frozen=True)
class SourceProfile:
    """Everything that makes one source's export look like that source's."""

    name: str
    encoding: str  # "utf-8", "utf-8-sig" or "cp1252"
    delimiter: str
    lineterminator: str
    german_headers: bool
    date_style: str  # "iso" (YYYY-MM-DD) or "de" (DD.MM.YYYY)
    nationality_styles: tuple[tuple[str, float], ...]  # iso3 | destatis | name_de | adjective_de
    sex_style: str  # "MF" (M/F/X) or "mwd" (m/w/d)
    id_style: str  # "prefix" or "jobcenter" (962D104711)
    id_prefix: str
    p_include: float  # providers: chance a person is a client here (abh/jobcenter: see generate)
    p_upper: float  # names in capitals (passport style)
    p_fold: float  # umlauts spelled out / diacritics dropped (when not upper-cased)
    p_canonical: float  # each name part spelled canonically
    p_de: float  # a variant follows German habits rather than international ones
    p_all_given: float  # all given names recorded (else usually just the first)
    p_azr: float
    p_birth_place: float
    p_status_stale: float  # residence status not yet updated (Rechtskreiswechsel lag)
    p_sex_missing: float
    district_style: str  # "stadtteil", "stadtbezirk" or "" (not recorded)
    has_goals: bool
    p_consent_empty: float  # extra chance of no consent at all
    has_customer_no: bool = False

    def columns(self) -> tuple[str, ...]:
        """Standard column names this source exports, in file order."""
        return tuple(c for c in COLUMNS if c != "jobcenter_customer_no" or self.has_customer_no)

    def header(self) -> list[str]:
        """The header row as this source writes it."""
        cols = self.columns()
        return [GERMAN_HEADERS[c] for c in cols] if self.german_headers else list(cols)


SOURCES: tuple[SourceProfile, ...] = (
    SourceProfile(
        "abh",
        "utf-8",
        ",",
        "\n",
        False,
        "iso",
        (("iso3", 1.0),),
        "MF",
        "prefix",
        "ABH",
        p_include=0.95,
        p_upper=0.60,
        p_fold=0.80,
        p_canonical=0.72,
        p_de=0.10,
        p_all_given=0.85,
        p_azr=0.93,
        p_birth_place=0.85,
        p_status_stale=0.02,
        p_sex_missing=0.01,
        district_style="",
        has_goals=False,
        p_consent_empty=0.6,
    ),
    SourceProfile(
        "jobcenter",
        "utf-8-sig",
        ";",
        "\r\n",
        False,
        "de",
        (("destatis", 1.0),),
        "MF",
        "jobcenter",
        "",
        p_include=0.65,
        p_upper=0.04,
        p_fold=0.25,
        p_canonical=0.56,
        p_de=0.35,
        p_all_given=0.55,
        p_azr=0.35,
        p_birth_place=0.40,
        p_status_stale=0.06,
        p_sex_missing=0.03,
        district_style="stadtbezirk",
        has_goals=True,
        p_consent_empty=0.1,
        has_customer_no=True,
    ),
    SourceProfile(
        "caritas",
        "cp1252",
        ";",
        "\r\n",
        True,
        "de",
        (("name_de", 0.8), ("iso3", 0.2)),
        "mwd",
        "prefix",
        "CV-",
        p_include=0.18,
        p_upper=0.02,
        p_fold=0.05,
        p_canonical=0.48,
        p_de=0.60,
        p_all_given=0.35,
        p_azr=0.05,
        p_birth_place=0.35,
        p_status_stale=0.12,
        p_sex_missing=0.06,
        district_style="stadtteil",
        has_goals=True,
        p_consent_empty=0.0,
    ),
    SourceProfile(
        "awo",
        "cp1252",
        ";",
        "\r\n",
        True,
        "de",
        (("adjective_de", 0.6), ("name_de", 0.4)),
        "mwd",
        "prefix",
        "AWO",
        p_include=0.16,
        p_upper=0.02,
        p_fold=0.05,
        p_canonical=0.45,
        p_de=0.65,
        p_all_given=0.30,
        p_azr=0.04,
        p_birth_place=0.30,
        p_status_stale=0.12,
        p_sex_missing=0.06,
        district_style="stadtteil",
        has_goals=True,
        p_consent_empty=0.0,
    ),
    SourceProfile(
        "diakonie",
        "utf-8-sig",
        ";",
        "\r\n",
        False,
        "de",
        (("iso3", 1.0),),
        "MF",
        "prefix",
        "DW-",
        p_include=0.13,
        p_upper=0.03,
        p_fold=0.10,
        p_canonical=0.50,
        p_de=0.55,
        p_all_given=0.40,
        p_azr=0.06,
        p_birth_place=0.40,
        p_status_stale=0.10,
        p_sex_missing=0.05,
        district_style="stadtteil",
        has_goals=True,
        p_consent_empty=0.0,
    ),
    SourceProfile(
        "stadt",
        "utf-8",
        ",",
        "\n",
        False,
        "iso",
        (("iso3", 0.6), ("name_de", 0.25), ("destatis", 0.15)),
        "MF",
        "prefix",
        "KI-",
        p_include=0.20,
        p_upper=0.05,
        p_fold=0.15,
        p_canonical=0.55,
        p_de=0.45,
        p_all_given=0.45,
        p_azr=0.08,
        p_birth_place=0.45,
        p_status_stale=0.08,
        p_sex_missing=0.04,
        district_style="stadtbezirk",
        has_goals=True,
        p_consent_empty=0.0,
    ),
)
SOURCE_NAMES: tuple[str, ...] = tuple(s.name for s in SOURCES)
