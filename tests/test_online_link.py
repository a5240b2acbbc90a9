"""Online linking of one record against the stored index gives the batch run's answer."""

from __future__ import annotations

import dataclasses

import pytest

from kim_hub.hub_db.online import OnlineIndex
from kim_hub.linkage.encode import encode_identity
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName
from tests.support import Hub, samira_in_two_sources


def _identity(family: str, given: str, year: int, month: int, day: int, **extra) -> Identity:
    birth = BirthDate(year=year, month=month, day=day, precision="day", placeholder=False)
    return Identity(name=PersonName(family_name=family, given_names=given), birth_date=birth, **extra)


def test_a_known_person_is_found_and_a_stranger_is_new(hub: Hub) -> None:
    samira_in_two_sources(hub)
    samira = {person for (source, _record), person in hub.pseudonyms().items() if source == "jobcenter"}
    with hub.sessions() as session:
        index = OnlineIndex(session)
    again = encode_identity(
        _identity("Haddad", "Samira", 1988, 3, 14, sex="F", nationalities=("SYR",), street="Testweg 1", postcode="51373"),
        hub.keys,
    )
    answer = index.link(again)
    assert answer.status == "auto" and {answer.pseudonym} == samira
    stranger = encode_identity(_identity("Novak", "Ivana", 1961, 7, 30, sex="F"), hub.keys)
    assert index.link(stranger).status == "new"


def test_the_asking_body_sets_the_prior_of_its_pairs(hub: Hub) -> None:
    """Samira has a record at caritas and one at the job centre. Asked from the job centre, one of
    the two pairs is from one body (a lower prior), the other across bodies; asked from a body the
    index does not hold yet, both are across; asked without a body, both keep the overall prior."""
    samira_in_two_sources(hub)
    with hub.sessions() as session:
        index = OnlineIndex(session)
    index.model = dataclasses.replace(index.model, same_body_shift=-3.0, other_body_shift=1.0)
    again = encode_identity(
        _identity("Haddad", "Samira", 1988, 3, 14, sex="F", nationalities=("SYR",), street="Testweg 1", postcode="51373"),
        hub.keys,
    )
    plain = index.link(again).weight
    assert index.link(again, source="jobcenter").weight == pytest.approx(plain + (-3.0 + 1.0) / 2)
    assert index.link(again, source="diakonie").weight == pytest.approx(plain + 1.0)
