"""Erasure and retention: no trace of the record left, the person goes with its last record."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.models import LinkEvent, Person, SourceRecord
from kim_hub.pipeline.erasure import apply_retention, erase
from tests.support import Hub, samira_in_two_sources
from tests.support.data import HEADER


def dump_text(sessions: sessionmaker[Session]) -> str:
    """Every value of every table, as text: what a byte scan of the database would see."""
    with sessions() as session:
        tables = [
            row[0]
            for row in session.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                    if session.bind.dialect.name == "sqlite"
                    else "SELECT tablename FROM pg_tables WHERE schemaname='public'"
                )
            )
        ]
        return "\n".join(str(row) for table in tables for row in session.execute(text(f'SELECT * FROM "{table}"')))


def test_erasing_one_of_two_records_keeps_the_person_erasing_both_removes_it(hub: Hub) -> None:
    samira_in_two_sources(hub)
    before = hub.pseudonyms()
    pseudonym = before[("caritas", "C-1")]
    assert before[("jobcenter", hub.stored_id("jobcenter", "962D000001"))] == pseudonym

    assert erase(hub.home, hub.sessions, "caritas", "C-1").records_erased == 1
    after = hub.pseudonyms()
    assert ("caritas", "C-1") not in after and after[("jobcenter", hub.stored_id("jobcenter", "962D000001"))] == pseudonym
    assert not list((hub.path / "archive" / "caritas").iterdir()), "the delivery holding the row in clear is gone"

    token = hub.stored_id("jobcenter", "962D000001")
    outcome = erase(hub.home, hub.sessions, "jobcenter", "962D000001")  # by the id the job centre knows
    assert (outcome.records_erased, outcome.persons_erased) == (1, 1)
    everything = dump_text(hub.sessions)
    for trace in ("C-1", "962D000001", token, pseudonym):
        assert trace not in everything
    with hub.sessions() as session:
        assert session.execute(select(LinkEvent.kind).where(LinkEvent.kind == "erase")).scalars().all() == ["erase", "erase"]
        assert session.execute(select(Person).where(Person.pseudonym == pseudonym)).first() is None


def test_unknown_record_erases_nothing(hub: Hub) -> None:
    assert erase(hub.home, hub.sessions, "caritas", "nope").records_erased == 0


def test_retention_erases_closed_cases_past_their_period(hub: Hub) -> None:
    rows = [
        "C-7,Closedova,Anna,1970-01-02,F,UKR,Weg 1,51373,,closed,2024-01-31",
        "C-8,Openova,Olga,1971-02-03,F,UKR,Weg 2,51373,,active,",
    ]
    hub.drop_rows("caritas", "r.csv", rows, header=HEADER.rstrip("\n") + ",case_closed\n")
    hub.ingest("caritas")
    hub.config.sources["caritas"].retention_days = 365
    summary = apply_retention(hub.home, hub.config, hub.sessions, today=dt.date(2026, 11, 25))
    erased = {kind: summary["caritas"][kind] for kind in ("records_erased", "persons_erased")}
    assert erased == {"records_erased": 1, "persons_erased": 0}  # not linked yet: no person
    with hub.sessions() as session:
        left = session.execute(select(SourceRecord.record_id).where(SourceRecord.source == "caritas")).scalars().all()
    assert left == ["C-8"]
