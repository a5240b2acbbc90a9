"""Online linking of one record against the stored index gives the batch run's answer."""

from __future__ import annotations

from flows.cli import link_rows
from hub_db.online import OnlineIndex
from linkage.encode import encode_identity
from mappings.case_summary import BirthDate, Identity, PersonName
from tests.test_ingest_pipeline import ingest_samira_in_two_sources


def _identity(family: str, given: str, year: int, month: int, day: int, **extra) -> Identity:
    birth = BirthDate(year=year, month=month, day=day, precision="day", placeholder=False)
    return Identity(name=PersonName(family_name=family, given_names=given), birth_date=birth, **extra)


def test_a_known_person_is_found_and_a_stranger_is_new(hub) -> None:
    home, _config, sessions, keys = hub
    ingest_samira_in_two_sources(hub)
    samira = {p for s, _r, p, _st, _sc in link_rows(home) if s == "jobcenter"}
    with sessions() as session:
        index = OnlineIndex(session)
    again = encode_identity(_identity("Haddad", "Samira", 1988, 3, 14, sex="F", nationalities=("SYR",), street="Testweg 1", postcode="51373"), keys)
    answer = index.link(again)
    assert answer.status == "auto" and {answer.pseudonym} == samira
    stranger = encode_identity(_identity("Novak", "Ivana", 1961, 7, 30, sex="F"), keys)
    assert index.link(stranger).status == "new"
