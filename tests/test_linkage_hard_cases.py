"""The hard cases of this population, decided by the real model inside a realistic crowd.

Each case is a handful of synthetic records added to a generated background population (so that
value frequencies and the prior are those of a real index, not of four records), linked once
with the shipped default model. Every assertion names the phenomenon it pins.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.linkage.cluster import Thresholds
from kim_hub.linkage.default_model import default_model
from kim_hub.linkage.encode import encode_identity
from kim_hub.linkage.link import link_all
from kim_hub.mappings.case_summary import BirthDate, CaseSummary, Identity, PersonName
from kim_hub.mappings.provider_csv import map_provider_row
from kim_hub.synth import generate

BACKGROUND_PERSONS = 800


def person(family: str, given: str, date: tuple[int, int, int] | None, **extra) -> Identity:
    birth = None
    if date:
        year, month, day = date
        birth = BirthDate(year=year, month=month, day=day, precision="day", placeholder=(month, day) == (1, 1))
    return Identity(name=PersonName(family_name=family, given_names=given), birth_date=birth, **extra)


HOME = dict(street="Teststraße 12", postcode="51373", nationalities=("AFG",), birth_place="Herat")
CASES: dict[str, tuple[list[Identity], bool]] = {
    "sisters with the same 01.01. placeholder date stay apart": (
        [person("Rahimi", "Zahra", (1990, 1, 1), sex="F", **HOME), person("Rahimi", "Maryam", (1990, 1, 1), sex="F", **HOME)],
        False,
    ),
    "MUHAMMAD (passport, capitals) and Mohammed with the same birth date link": (
        [
            person(
                "ALHASSANI", "MUHAMMAD", (1987, 6, 23), sex="M", nationalities=("SYR",), street="Probeweg 3", postcode="51379"
            ),
            person(
                "Al-Hassani", "Mohammed", (1987, 6, 23), sex="M", nationalities=("SYR",), street="Probeweg 3", postcode="51379"
            ),
        ],
        True,
    ),
    "given and family name swapped at intake link": (
        [
            person("Tesfay", "Yonas", (1995, 3, 9), sex="M", nationalities=("ERI",)),
            person("Yonas", "Tesfay", (1995, 3, 9), sex="M", nationalities=("ERI",)),
        ],
        True,
    ),
    "day and month swapped link": (
        [
            person("Kovalchuk", "Oksana", (1979, 4, 11), sex="F", nationalities=("UKR",), street="Musterweg 8", postcode="51375"),
            person(
                "Kowaltschuk", "Oksana", (1979, 11, 4), sex="F", nationalities=("UKR",), street="Musterweg 8", postcode="51375"
            ),
        ],
        True,
    ),
    "one mistyped AZR digit does not separate": (
        [
            person("Nouri", "Farid", (1983, 2, 14), sex="M", azr_number="555123456789"),
            person("Nouri", "Farid", (1983, 2, 14), sex="M", azr_number="555123456788"),
        ],
        True,
    ),
    "two swapped AZR digits do not separate": (
        [
            person("Sultani", "Wahid", (1979, 12, 3), sex="M", azr_number="555123456789"),
            person("Sultani", "Wahid", (1979, 12, 3), sex="M", azr_number="555123465789"),
        ],
        True,
    ),
    "two different AZR numbers of the foreigners authority are two people, even with the same name and date": (
        [
            person("Ahmadi", "Mohammad", (1990, 1, 1), sex="M", azr_number="111111111111"),
            person("Ahmadi", "Mohammad", (1990, 1, 1), sex="M", azr_number="222222222222"),
        ],
        False,
    ),
    "a common name with different precise birth dates and addresses is two people": (
        [
            person("Hussein", "Ali", (1992, 5, 30), sex="M", nationalities=("IRQ",), street="Erster Weg 1", postcode="51371"),
            person("Hussein", "Ali", (1985, 9, 2), sex="M", nationalities=("IRQ",), street="Zweiter Weg 2", postcode="51381"),
        ],
        False,
    ),
    "no family name (Afghan single name) still links on the rest": (
        [
            person("", "Gulbuddin", (1975, 7, 7), sex="M", nationalities=("AFG",), street="Drittweg 5", postcode="51377"),
            person("", "Gulbuddin", (1975, 7, 7), sex="M", nationalities=("AFG",), street="Drittweg 5", postcode="51377"),
        ],
        True,
    ),
}


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory, keys):
    outdir: Path = tmp_path_factory.mktemp("crowd")
    generate(outdir, BACKGROUND_PERSONS, seed=11, workers=1)
    encodings = {}
    for path in sorted((outdir / "inbox").rglob("*.csv")):
        for row in ProviderCsvConnector.read_file(path).rows:
            mapped = map_provider_row(path.parent.name, row)
            if isinstance(mapped, CaseSummary):
                encodings[len(encodings)] = encode_identity(mapped.identity, keys)
    case_ids: dict[str, list[int]] = {}
    for name, (identities, _same) in CASES.items():
        case_ids[name] = []
        for identity in identities:
            case_ids[name].append(len(encodings))
            encodings[len(encodings)] = encode_identity(identity, keys, azr_authoritative=True)
    result, _model = link_all(encodings, Thresholds(), model=default_model())
    person_of = {r: i for i, members in enumerate(result.clusters) for r in members}
    return {name: len({person_of[r] for r in ids}) == 1 for name, ids in case_ids.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_hard_case(linked: dict[str, bool], case: str) -> None:
    assert linked[case] == CASES[case][1], case
